"""Score one image with a loaded bundle: checks, stored preprocessing, network, threshold.

The Predictor fixes torch's thread count (recorded in every :class:`Prediction` so the GUI puts
it in the audit event) and serialises use of the model with a lock, so a heatmap requested while
a score runs waits instead of racing. A refused image raises :class:`InputRefusedError` carrying the
check results, so the caller can show and record why no score is shown.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from viewer.errors import InferenceError
from viewer.inference.checks import (
    CheckResult,
    check_input,
    check_input_range,
    check_pixels,
    check_stored_range,
    check_stored_window,
    check_tensor,
    check_window_spread,
    declared_input_range,
    make_check,
    model_input_size,
    pixel_range,
    refusals,
)
from viewer.inference.engine import (
    ThreadSetting,
    configure_threads,
    prime_threads,
    resolve_threads,
    run_model,
)
from viewer.inference.explain import find_target_layer, grad_cam
from viewer.inference.ood import OodReference, capture_features, feature_layer, ood_check
from viewer.inference.postprocess import LabelResult, SiteThreshold, postprocess
from viewer.inference.preprocess import (
    Geometry,
    ModelInput,
    NonFiniteInputError,
    SourceStep,
    preprocess_with_geometry,
    uses_stored,
)

if TYPE_CHECKING:
    import torch

__all__ = ["InferenceCancelledError", "InputRefusedError", "Prediction", "Predictor"]

Cancel = Callable[[], bool]


class InputRefusedError(InferenceError):
    """The input checks refused the image: no score may be shown. ``checks`` says why."""

    def __init__(self, message: str, *, checks: Sequence[CheckResult], path: str | None = None):
        self.checks = list(checks)
        super().__init__(message, path=path)


class InferenceCancelledError(InferenceError):
    """The caller cancelled the prediction."""


class _LoadedLike(Protocol):
    """What the Predictor needs of ``viewer.bundle.loader.LoadedBundle``."""

    @property
    def manifest(self) -> Any: ...
    @property
    def model(self) -> torch.nn.Module: ...
    @property
    def digest(self) -> str: ...


@dataclass(frozen=True)
class OodOutcome:
    """The out-of-distribution check of one scored image: its distance and the threshold."""

    distance: float
    threshold: float
    quantile: float


@dataclass(frozen=True)
class Prediction:
    """One image's result. ``timings_ms``: checks, preprocess, forward, postprocess, total
    (and ``ood`` when the bundle carries a reference profile). ``features``: the network's
    penultimate features, kept only when the Predictor was asked to capture them (a bundle
    maker building a reference profile); never recorded."""

    labels: list[LabelResult]
    checks: list[CheckResult]
    model_id: str
    model_version: str
    bundle_digest: str
    threads: int
    timings_ms: dict[str, float]
    positive_labels: list[str] = field(default_factory=list)
    ood: OodOutcome | None = None
    features: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def warnings(self) -> list[CheckResult]:
        return [c for c in self.checks if c.level == "warning"]

    def audit_detail(self) -> dict[str, Any]:
        """JSON-ready extras for the audit event's ``detail``: threads, warnings with their
        code and params (so a report can show them in the reader's language), and per label
        both pairs, ``labels_raw``: the raw score and threshold (the model's own rule, which the
        row's score and threshold columns hold) and the shown score and threshold (calibrated
        when the label declares a calibration)."""
        out: dict[str, Any] = {
            "threads": self.threads,
            "warnings": [
                {"check": c.name, "message": c.message, "code": c.code, "params": dict(c.params)}
                for c in self.warnings
            ],
            "labels_raw": [
                {
                    "label": r.label,
                    "raw_score": r.raw_score,
                    "threshold": r.threshold,
                    "score": r.score,
                    "shown_threshold": r.shown_threshold,
                    "calibrated": r.calibrated,
                    "positive": r.positive,
                }
                for r in self.labels
            ],
        }
        site = {r.label: r.site.as_dict() for r in self.labels if r.site is not None}
        if site:
            out["site_thresholds"] = site
        if self.ood is not None:
            out["ood"] = {"distance": self.ood.distance, "threshold": self.ood.threshold}
        return out


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 3)


def _meta_of(image: Any) -> Any:
    return image.meta


def _source_window(source: SourceStep, inp: ModelInput) -> tuple[float, float] | None:
    """The (center, width) the source step applies, if it applies one."""
    if source.pixels == "fixed_window" and source.center is not None and source.width is not None:
        return (source.center, source.width)
    if source.pixels == "stored_window":
        return inp.window
    return None


class Predictor:
    """Scores images with one loaded bundle; cheap to call repeatedly."""

    def __init__(
        self,
        loaded: _LoadedLike,
        *,
        threads: ThreadSetting = 2,
        site_thresholds: Mapping[str, SiteThreshold] | None = None,
        capture: str | None = None,
    ) -> None:
        """``threads``: torch's intra-op threads, or ``"auto"`` (chosen before each forward
        from the cores other processes leave free, ``viewer.inference.engine``); the count
        used is in every :class:`Prediction`. ``site_thresholds``: per label, the site's own
        threshold (a site amendment) applied instead of the manifest's."""
        self.loaded = loaded
        self.site_thresholds = dict(site_thresholds or {})
        self.manifest = loaded.manifest
        self.model = loaded.model
        self.requested_threads = threads
        prime_threads()
        self.threads = configure_threads(resolve_threads(threads))
        self.model.eval()
        self.model.requires_grad_(False)  # we never train; heatmaps get gradients another way
        self._lock = threading.Lock()
        self._target: str | None = None
        self.ood: OodReference | None = getattr(loaded, "ood", None)
        self._capture = capture is not None
        self._feature_module: torch.nn.Module | None = None
        if self.ood is not None or capture is not None:
            name = self.ood.layer if self.ood is not None else capture
            try:
                _, self._feature_module = feature_layer(self.model, name or None)
            except LookupError as exc:
                raise InferenceError(
                    f"The bundle's reference profile names a layer the model lacks ({exc})."
                ) from exc

    def _check_cancel(self, cancel: Cancel | None) -> None:
        if cancel is not None and cancel():
            raise InferenceCancelledError("Scoring was cancelled.")

    def check(self, image: Any) -> list[CheckResult]:
        """The header checks alone (no pixels read)."""
        return self.check_header(_meta_of(image))

    def check_header(self, meta: Any) -> list[CheckResult]:
        """The header checks of ``viewer.dicom.ImageMetadata`` against the accepted inputs."""
        return check_input(
            meta,
            self.manifest.accepted_inputs,
            input_size=model_input_size(self.manifest.preprocessing),
        )

    def screen(self, meta: Any) -> list[CheckResult]:
        """The header checks before any decode: a refusal raises :class:`InputRefusedError`
        (the same message :meth:`predict` gives), otherwise the checks are returned."""
        checks = self.check_header(meta)
        self._refuse("No score", checks, meta)
        return checks

    def _refuse(self, what: str, checks: list[CheckResult], source: Any) -> None:
        """Raise for any refusing check; ``source`` is an image or its metadata (for the path)."""
        refused = refusals(checks)
        if refused:
            meta = getattr(source, "meta", source)
            raise InputRefusedError(
                f"{what}: " + " ".join(c.message for c in refused),
                checks=checks,
                path=getattr(meta, "path", None) or None,
            )

    def _prepare(
        self, image: Any, timings: dict[str, float], what: str, cancel: Cancel | None = None
    ) -> tuple[list[CheckResult], np.ndarray, Geometry]:
        """Header checks, pixel checks, stored-window check, preprocessing, model-input check.

        Any refusal raises :class:`InputRefusedError` before the network runs: a blank,
        non-finite or saturated input must never get a score.
        """
        t = time.perf_counter()
        checks = self.check(image)
        timings["checks"] = _ms(t)
        self._refuse(what, checks, image)
        self._check_cancel(cancel)
        t = time.perf_counter()
        inp = ModelInput.from_image(image)
        timings["preprocess"] = _ms(t)
        t = time.perf_counter()
        value_range = pixel_range(inp.pixels)
        checks.append(check_pixels(inp.pixels, value_range=value_range))
        declared = declared_input_range(self.manifest.preprocessing)
        out_of_range = check_input_range(
            value_range, declared, bits=int(getattr(_meta_of(image), "bits_stored", 0) or 0)
        )
        if out_of_range is not None:
            checks.append(out_of_range)
        if uses_stored(self.manifest.preprocessing) and inp.stored is not None:
            stored_range = check_stored_range(inp.stored, inp.bits_stored)
            if stored_range is not None:
                checks.append(stored_range)
        source = next(s for s in self.manifest.preprocessing if isinstance(s, SourceStep))
        window_check = check_stored_window(image, source, inp.window)
        if window_check is not None:
            checks.append(window_check)
        if not refusals(checks):
            flat = check_window_spread(value_range, _source_window(source, inp))
            if flat is not None:
                checks.append(flat)
        timings["checks"] += _ms(t)
        self._refuse(what, checks, image)
        self._check_cancel(cancel)
        t = time.perf_counter()
        try:
            tensor, geometry = preprocess_with_geometry(inp, self.manifest.preprocessing)
        except NonFiniteInputError:
            checks.append(make_check("model_input", "refusal", "input_non_finite"))
            self._refuse(what, checks, image)
            raise  # pragma: no cover - the refusal above always raises
        timings["preprocess"] += _ms(t)
        t = time.perf_counter()
        checks.append(check_tensor(tensor))
        timings["checks"] += _ms(t)
        self._refuse(what, checks, image)
        return checks, tensor, geometry

    def predict(self, image: Any, *, cancel: Cancel | None = None) -> Prediction:
        """Score a decoded ``viewer.dicom.DicomImage``; refusal -> :class:`InputRefusedError`."""
        t_total = time.perf_counter()
        timings: dict[str, float] = {}
        checks, tensor, _ = self._prepare(image, timings, "No score", cancel)
        self._check_cancel(cancel)
        with self._lock:
            self.threads = configure_threads(resolve_threads(self.requested_threads))
            t = time.perf_counter()
            logits, features = self._forward(tensor)
            timings["forward"] = _ms(t)
        self._check_cancel(cancel)
        ood = self._check_ood(features, checks, timings, image, "No score")
        t = time.perf_counter()
        labels = postprocess(logits, self.manifest, self.site_thresholds)
        timings["postprocess"] = _ms(t)
        timings["total"] = _ms(t_total)
        return Prediction(
            labels=labels,
            checks=checks,
            model_id=self.manifest.id,
            model_version=self.manifest.version,
            bundle_digest=self.loaded.digest,
            threads=self.threads,
            timings_ms=timings,
            positive_labels=[r.label for r in labels if r.positive],
            ood=ood,
            features=features if self._capture else None,
        )

    def _forward(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The network's logits, and its features when a layer is tapped (caller holds the
        lock)."""
        if self._feature_module is None:
            return run_model(self.model, tensor), None
        with capture_features(self._feature_module) as seen:
            logits = run_model(self.model, tensor)
        if len(seen) != 1:
            raise InferenceError(
                "The model's feature layer ran "
                f"{len(seen)} times in one forward; no out-of-distribution check is possible."
            )
        return logits, seen[0]

    def _check_ood(
        self,
        features: np.ndarray | None,
        checks: list[CheckResult],
        timings: dict[str, float],
        image: Any,
        what: str,
    ) -> OodOutcome | None:
        """Refuse an image whose features lie beyond the reference's threshold (missing
        features count as beyond it): no score, no heatmap."""
        if self.ood is None:
            return None
        t = time.perf_counter()
        check, distance = ood_check(self.ood, features)
        timings["ood"] = _ms(t)
        checks.append(check)
        self._refuse(what, checks, image)
        return OodOutcome(distance, self.ood.threshold, self.ood.quantile)

    def heatmap(self, image: Any, label: str) -> np.ndarray:
        """Grad-CAM for ``label`` in image coordinates (rows x columns of the image), 0..1.

        Computed on demand, separately from :meth:`predict`, so it never delays the score.
        Refused images get no heatmap either.
        """
        names = [spec.name for spec in self.manifest.labels]
        if label not in names:
            raise InferenceError(f"The model has no label '{label}' (it has: {', '.join(names)}).")
        checks, tensor, geometry = self._prepare(image, {}, "No heatmap")
        with self._lock:
            self.threads = configure_threads(resolve_threads(self.requested_threads))
            if self._target is None:
                self._target = find_target_layer(self.model, tensor)
            if self._feature_module is None or self.ood is None:
                heat = grad_cam(self.model, tensor, names.index(label), self._target)
            else:  # the same reference check as the score: a refused image gets no heatmap
                with capture_features(self._feature_module) as seen:
                    heat = grad_cam(self.model, tensor, names.index(label), self._target)
                self._check_ood(seen[-1] if seen else None, checks, {}, image, "No heatmap")
        return geometry.to_image(heat)
