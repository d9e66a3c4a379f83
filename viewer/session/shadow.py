"""Shadow mode (issue 16 item 1): a candidate version scores what the active one scores, unseen.

Why: a site must learn whether a new version is better *here* before any patient's reading
depends on it (a silent trial caught an AUC fall from 0.90 to 0.50 before go-live). IT marks one
installed version per model id as the shadow candidate (``bedside bundle install --shadow``, the
model manager; kept in the signed store index, ``viewer.bundle.store``). Then, wherever the
active model scores an image for a reading (the window, ``bedside infer``):

- the candidate scores the same image **after** the active result was delivered, on the same
  thread that runs the active model (the window's AI thread, once it has been quiet for a
  moment; ``bedside infer``'s main thread, once every active result is out), so torch is never
  called from two threads of ours and the active result does not wait for it;
- its result is a ``shadow_result`` row in the audit log, hash-chained like every row, with the
  fields of ``ai_result_shown`` (model id, version, digest, score, threshold, finding; per label
  in the detail) and the same image pseudonyms, plus the active model it ran beside;
- it is never shown to a reader: no widget, no worklist triage, no cached score, no heatmap and
  no reading export reads ``shadow_result`` rows (``READER_HIDDEN_TYPES``); ``bedside model
  compare`` pairs them with the active's rows (``viewer.session.comparison``);
- a candidate that cannot be loaded (refused, tampered, missing) or that fails on an image is
  recorded as a ``shadow_result`` failure row for that reading, and the reading goes on
  untouched; so is a reading it never reached (the window closed, the command stopped:
  ``detail.stage = "not_run"``). So every reading the active model scored carries exactly one
  shadow row while a candidate is set, and a comparison knows why a pair is missing.

The candidate is loaded lazily, by the first shadow job (after the first active result), so
starting the window or the command is not slowed either. Qt-free and torch-free at import: the
window runs :meth:`ShadowRunner.run` as a job on its AI thread, the command inline.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from viewer.config import Settings
from viewer.errors import BedsideError
from viewer.session.reading import (
    ReadingSession,
    ScoreOutcome,
    Scorer,
    image_ids,
    model_fields,
    score_image,
)
from viewer.session.trail import AppendOutcome

if TYPE_CHECKING:
    from viewer.bundle.audit_hook import AuditSink
    from viewer.dicom.model import DicomImage, ImageMetadata
    from viewer.inference.engine import ThreadSetting
    from viewer.session.models import OpenModel

__all__ = [
    "ShadowOutcome",
    "ShadowRunner",
    "ShadowTarget",
    "record_shadow",
    "store_shadow",
]

Cancel = Callable[[], bool]


@dataclass(frozen=True)
class ShadowTarget:
    """The candidate as the store lists it (known before, and without, loading it)."""

    model_id: str
    version: str
    digest: str

    @property
    def fields(self) -> dict[str, str]:
        return {
            "model_id": self.model_id,
            "model_version": self.version,
            "bundle_digest": self.digest,
        }


@dataclass(frozen=True)
class ShadowOutcome:
    """The candidate on one image: a score (``outcome.prediction``), a refusal or failure
    (``outcome.error``), or no model at all (``load_error``: it could not be loaded)."""

    target: ShadowTarget
    active: dict[str, Any]  # model_id, model_version, bundle_digest of the active model
    outcome: ScoreOutcome | None = None
    load_error: str = ""
    not_run: str = ""  # why the candidate never ran on this image (e.g. the app closed first)

    @property
    def scored(self) -> bool:
        return self.outcome is not None and self.outcome.prediction is not None


class ShadowRunner:
    """The shadow candidate beside one loaded active model (a new runner per model load).

    ``find`` reads which candidate is set (None: shadow mode is off; read once); ``load``
    turns it into a scorer (raises :class:`BedsideError` when refused; called once, on the
    thread that scores). Both run inside :meth:`run`, never at construction.
    """

    def __init__(
        self,
        find: Callable[[], ShadowTarget | None],
        load: Callable[[ShadowTarget], Scorer],
        *,
        active: dict[str, Any],
    ) -> None:
        self._find = find
        self._load = load
        self.active = dict(active)
        self._lock = threading.Lock()  # one shadow job at a time, whoever calls
        self._looked = False
        self.target: ShadowTarget | None = None
        self.scorer: Scorer | None = None
        self.load_error = ""

    def locate(self) -> ShadowTarget | None:
        """Which candidate is set: the store is read once, nothing is loaded (cheap, any
        thread). The window asks before it queues a reading, so a reading it queued is
        recorded against that candidate even if the store changes meanwhile. Once read, it
        never waits for a running shadow job (the window calls it on the GUI thread)."""
        if self._looked:
            return self.target
        with self._lock:
            return self._locate()

    def _locate(self) -> ShadowTarget | None:
        if not self._looked:
            self._looked = True
            try:
                self.target = self._find()
            except Exception as exc:  # the store cannot be read: no candidate to run
                self.load_error = str(exc)
        return self.target

    def _prepare(self) -> ShadowTarget | None:
        """The candidate, loaded on first use (a failure is kept: it is not retried)."""
        target = self._locate()
        if target is not None and self.scorer is None and not self.load_error:
            try:
                self.scorer = self._load(target)
            except BedsideError as exc:
                self.load_error = exc.message
            except Exception as exc:  # a broken candidate never breaks a reading
                self.load_error = f"Unexpected error ({type(exc).__name__}: {exc})."
        return target

    def skipped(self, reason: str) -> ShadowOutcome | None:
        """The outcome for an image the candidate will not score (``reason``), without loading
        it; None when no candidate is set."""
        target = self.locate()
        return None if target is None else ShadowOutcome(target, self.active, not_run=reason)

    def run(
        self,
        meta: ImageMetadata,
        image: DicomImage | None = None,
        *,
        cancel: Cancel | None = None,
    ) -> ShadowOutcome | None:
        """Score one image with the candidate (on the scoring thread, after the active result);
        None when no candidate is set. Never raises for the candidate's own failures."""
        with self._lock:
            target = self._prepare()
            if target is None:
                return None
            if self.scorer is None:
                return ShadowOutcome(target, self.active, load_error=self.load_error)
            try:
                outcome = score_image(self.scorer, meta, image=image, cancel=cancel)
            except BedsideError as exc:  # cancelled: recorded as not scored
                outcome = ScoreOutcome(error=exc, image=image)
            except Exception as exc:
                error = BedsideError(f"Unexpected error ({type(exc).__name__}: {exc}).")
                outcome = ScoreOutcome(error=error, image=image)
            return ShadowOutcome(target, self.active, outcome=outcome)


def store_shadow(
    settings: Settings,
    active: OpenModel,
    *,
    audit: Callable[[], AuditSink | None],
    threads: ThreadSetting | None = None,
) -> ShadowRunner:
    """The store's candidate for the active model's id (none unless the active model came from
    the store: an explicit bundle file has no candidate). ``audit`` gives the log the candidate's
    load is recorded in (``bundle_verified`` / ``bundle_refused``), asked for when it loads."""
    from viewer.bundle.store import ModelStore

    m = active.loaded.manifest
    identity = {"model_id": m.id, "model_version": m.version, "bundle_digest": active.loaded.digest}

    def find() -> ShadowTarget | None:
        if active.source != "store":
            return None
        entry = ModelStore(settings).shadow_entry(m.id)
        if entry is None or entry.digest == active.loaded.digest:
            return None
        return ShadowTarget(entry.id, entry.version, entry.digest)

    def load(target: ShadowTarget) -> Scorer:
        from viewer.inference.predict import Predictor
        from viewer.session.site_thresholds import site_overrides

        store = ModelStore(settings, audit())
        loaded = store.load(target.model_id, target.version)
        site = site_overrides(
            ModelStore(settings, trust=store.trust), target.model_id, target.version, loaded.digest
        )
        return Predictor(
            loaded, threads=threads or settings.values.inference.threads, site_thresholds=site
        )

    return ShadowRunner(find, load, active=identity)


def record_shadow(session: ReadingSession, result: ShadowOutcome) -> AppendOutcome:
    """The ``shadow_result`` row of one reading (on the thread that owns the session).

    Written whether or not the reader is still on the image: it is the record, never shown."""
    desk, meta = session.desk, session.meta
    ids = image_ids(meta) if meta is not None else {}
    base = {
        "shown": False,
        "active": result.active,
        **desk.channel_detail,
        **({"pixel_sha256": session.pixel_sha256} if session.pixel_sha256 else {}),
    }
    outcome = result.outcome
    changed = (
        outcome is not None
        and outcome.image is not None
        and session.pixel_sha256 is not None
        and outcome.image.pixel_sha256 != session.pixel_sha256
    )
    if outcome is None or outcome.prediction is None or changed:
        refusing = outcome.refusing if outcome is not None else []
        if result.not_run:
            reason = result.not_run
        elif outcome is None:
            reason = f"The shadow candidate could not be loaded: {result.load_error}"
        elif changed:
            reason = "The file changed after it was read; the candidate's score is not used."
        else:
            reason = outcome.message or "No score."
        return desk.trail.append(
            "shadow_result",
            outcome="failure",
            reason=reason,
            detail={
                **base,
                "stage": "not_run" if result.not_run else "load" if outcome is None else "score",
                "refused": bool(refusing),
                "refusal_codes": [str(c.code) for c in refusing],
            },
            **result.target.fields,
            **ids,
        )
    pred = outcome.prediction
    return desk.trail.append(
        "shadow_result",
        detail={
            **base,
            "labels": {r.label: float(r.raw_score) for r in pred.labels},
            **pred.audit_detail(),
        },
        **model_fields(pred),
        **ids,
    )
