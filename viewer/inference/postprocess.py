"""From the network's logits to a finding: activation, threshold, operating point.

Precision, on purpose: the activation is computed in float64 from the float32 logits, and the
finding is ``score >= threshold`` compared in float64 against the manifest's threshold (a JSON
number, parsed as a Python float). The reported score is that same float64 value, so anyone can
check the finding from the JSON output. A float32 score could round up onto the threshold (e.g. a
logit of -1e-9 gives exactly 0.5 in float32 but 0.4999999997 in float64): such a case is negative
here. A score exactly equal to the threshold is positive.

Calibrated display: a label may declare a calibration (``op_norm``, TorchXRayVision's: the
piecewise-linear map that sends the label's threshold to 0.5, linearly below and above), so the
score a person sees is the one the model's authors show. The finding is still decided on the raw
score (``raw_score >= threshold``); for ``op_norm`` that is exactly ``score >= 0.5`` in float64
(see :func:`op_norm`), so the shown pair and the raw pair always tell the same finding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from viewer.errors import InferenceError

__all__ = [
    "CALIBRATED_THRESHOLD",
    "CalibrationMethod",
    "LabelResult",
    "SiteThreshold",
    "activate",
    "calibrate",
    "op_norm",
    "postprocess",
]

CalibrationMethod = Literal["op_norm", "none"]
CALIBRATED_THRESHOLD = 0.5  # where op_norm puts every label's threshold


class _CalibrationLike(Protocol):
    @property
    def method(self) -> CalibrationMethod: ...


class _LabelLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def threshold(self) -> float: ...
    @property
    def operating_point(self) -> str: ...
    @property
    def activation(self) -> Literal["sigmoid", "softmax"]: ...
    @property
    def calibration(self) -> _CalibrationLike: ...


class _ManifestLike(Protocol):
    @property
    def labels(self) -> Sequence[_LabelLike]: ...


@dataclass(frozen=True)
class SiteThreshold:
    """A site's own threshold for one label (a signed site amendment in the model store, made by
    local recalibration) that replaces the manifest's while the amended bundle is active."""

    threshold: float
    manifest_threshold: float
    set_at: str  # UTC, ISO 8601
    set_by: str
    cases: int
    amendment_sha256: str

    @property
    def text(self) -> str:
        """ "site threshold 0.42, set 2026-12-01 by ..., from 212 local cases"."""
        return (
            f"site threshold {threshold_text(self.threshold)}, set {self.set_at[:10]} by "
            f"{self.set_by}, from {self.cases} local cases"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "threshold": self.threshold,
            "manifest_threshold": self.manifest_threshold,
            "set_at": self.set_at,
            "set_by": self.set_by,
            "cases": self.cases,
            "amendment_sha256": self.amendment_sha256,
            "text": self.text,
        }


@dataclass(frozen=True)
class LabelResult:
    """One label's result.

    ``score`` is the score SHOWN to a person: the calibrated score when the label declares a
    calibration (``calibrated``), else the raw one. ``raw_score`` is the activation's output, and
    ``threshold`` the raw threshold it is compared with: ``positive`` is ``raw_score >=
    threshold`` (float64, see module doc), which for a calibrated label is also ``score >=
    shown_threshold`` (0.5). The audit row's score and threshold columns hold the raw pair (the
    model's own rule, what drift monitoring and site recalibration read); the shown pair is in
    the row's detail (``Prediction.audit_detail``).
    """

    label: str
    score: float
    threshold: float
    positive: bool
    operating_point: str
    display_name: str = ""
    site: SiteThreshold | None = None  # the site threshold applied instead of the manifest's
    raw_score: float = math.nan  # NaN: not given, the same as ``score`` (no calibration)
    calibrated: bool = False

    def __post_init__(self) -> None:
        if math.isnan(self.raw_score):
            if self.calibrated:
                raise ValueError("a calibrated result needs its raw score")
            object.__setattr__(self, "raw_score", self.score)

    @property
    def shown_threshold(self) -> float:
        """The threshold shown beside ``score``: 0.5 when calibrated, else ``threshold``."""
        return CALIBRATED_THRESHOLD if self.calibrated else self.threshold

    @property
    def shown_text(self) -> tuple[str, str]:
        """``score`` and ``shown_threshold`` as text (:func:`score_threshold_text`): what a
        person reads first."""
        return score_threshold_text(self.score, self.shown_threshold)

    @property
    def raw_text(self) -> tuple[str, str]:
        """``raw_score`` and the raw ``threshold`` as text (the "raw score" a click away)."""
        return score_threshold_text(self.raw_score, self.threshold)

    @property
    def finding_text(self) -> str:
        """Short text for a person: which side of the threshold and what the threshold means
        (the shown pair; a calibrated label adds its raw pair)."""
        name = self.display_name or self.label
        side = "positive" if self.positive else "negative"
        relation = ">=" if self.positive else "<"
        score, threshold = self.shown_text
        raw = ""
        if self.calibrated:
            raw_score, raw_threshold = self.raw_text
            raw = f"; raw score {raw_score} {relation} threshold {raw_threshold}"
        return (
            f"{name}: {side} (score {score} {relation} threshold {threshold}{raw}; "
            f"{self.operating_point})"
        )


MAX_DECIMALS = 17  # enough to tell any two doubles in 0..1 apart


def threshold_text(threshold: float) -> str:
    """A threshold as stored, never rounded: the fewest decimals (at least 2) that give it back.

    One rule for the AI panel, the report, the CLI, the audit window and the model card: a
    threshold of 0.935 reads "0.935" everywhere, never "0.94" in one place and "0.935" in another.
    """
    for decimals in range(2, MAX_DECIMALS + 1):
        text = f"{threshold:.{decimals}f}"
        if float(text) == threshold:
            return text
    return f"{threshold:.{MAX_DECIMALS}f}"


def score_threshold_text(score: float, threshold: float) -> tuple[str, str]:
    """Score and threshold with the same number of decimals: at least the threshold's own, more
    until they differ when the values differ. "0.94" beside "threshold 0.94" on a positive
    finding would mislead a reader."""
    start = len(threshold_text(threshold).split(".")[1])
    for decimals in range(start, MAX_DECIMALS + 1):
        a, b = f"{score:.{decimals}f}", f"{threshold:.{decimals}f}"
        if a != b or score == threshold:
            return a, b
    return f"{score:.{MAX_DECIMALS}f}", f"{threshold:.{MAX_DECIMALS}f}"


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Stable logistic in float64 (no overflow for large |x|)."""
    out = np.empty_like(x, dtype=np.float64)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out


def _softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max()
    ex = np.exp(shifted)
    result: np.ndarray = ex / ex.sum()
    return result


def activate(logits: np.ndarray, activation: Literal["sigmoid", "softmax"]) -> np.ndarray:
    """float64 scores from float32 logits (1-D, one per label)."""
    x = np.asarray(logits, dtype=np.float64).reshape(-1)
    if not np.isfinite(x).all():
        raise InferenceError("The model returned a non-finite output; no score can be shown.")
    return _sigmoid(x) if activation == "sigmoid" else _softmax(x)


def op_norm(score: float, threshold: float) -> float:
    """TorchXRayVision's ``op_norm`` for one score in [0, 1]: ``threshold`` goes to 0.5, scores
    below it linearly onto [0, 0.5), scores at or above it linearly onto [0.5, 1].

    In float64 (txv computes it in float32; the difference is far below the parity tolerance).
    The branch is txv's (``score < threshold``), so ``op_norm(s, t) >= 0.5`` exactly when ``s >=
    t``: below, ``s / (2 t)`` with ``s < t`` is a correctly rounded quotient below 1, halved
    exactly, so it stays below 0.5; at or above, ``1 - s <= 1 - t`` after rounding (rounding is
    monotonic), so the part taken from 1 is at most 0.5. At a threshold of 1 only a score of 1
    reaches it, shown as 1 (txv would divide 0 by 0 there); at a threshold of 0 every score is
    at or above it.
    """
    if score < threshold:
        return score / (threshold * 2.0)
    if threshold >= 1.0:
        return 1.0
    return 1.0 - (1.0 - score) / ((1.0 - threshold) * 2.0)


def calibrate(score: float, threshold: float, method: CalibrationMethod) -> float:
    """The shown score for a raw ``score`` under ``method`` (``none``: the raw score)."""
    if method == "op_norm":
        return op_norm(score, threshold)
    return score


def postprocess(
    logits: np.ndarray,
    manifest: _ManifestLike,
    site: Mapping[str, SiteThreshold] | None = None,
) -> list[LabelResult]:
    """Per label, in manifest order: score, threshold, finding and operating point text.

    ``site``: per label, a site threshold that replaces the manifest's (its text replaces the
    operating point, which described the manifest's threshold). A declared calibration maps the
    threshold in force (the site's, when there is one) to 0.5, so a calibrated score of 0.5 or
    more is always a positive finding.

    ``logits`` is the network output for one image, shape (L,) or (1, L). The manifest requires
    one activation for all labels; softmax runs over all of them.
    """
    labels = list(manifest.labels)
    x = np.asarray(logits).reshape(-1)
    if x.shape[0] != len(labels):
        raise InferenceError(
            f"The model returned {x.shape[0]} output(s) but the bundle declares "
            f"{len(labels)} label(s); no score can be shown."
        )
    activations = {label.activation for label in labels}
    if len(activations) != 1:
        raise InferenceError("The bundle mixes sigmoid and softmax labels; no score can be shown.")
    scores = activate(x, labels[0].activation)
    results = []
    for label, score in zip(labels, scores, strict=True):
        value = float(score)
        override = (site or {}).get(label.name)
        threshold = float(override.threshold if override else label.threshold)
        method = label.calibration.method
        results.append(
            LabelResult(
                label=label.name,
                score=calibrate(value, threshold, method),
                threshold=threshold,
                positive=value >= threshold,
                operating_point=override.text if override else label.operating_point,
                display_name=label.display_name,
                site=override,
                raw_score=value,
                calibrated=method != "none",
            )
        )
    return results
