"""One image's reading, Qt-free: open -> check -> score -> own read -> reveal -> decide -> amend.

Why here and not in the window: the rules that matter most to a patient live in this module and
are tested without Qt or torch (``tests/session``):

- **read-first hides the AI**: with ``reading.order = "read_first"`` a score stays hidden until
  the clinician's own provisional read is recorded; the reveal records whether the AI was shown
  before or after that read (``ai_shown``);
- **refused inputs carry no score**: a refused or failed image has no prediction to show, reveal
  or decide on;
- **a second decision is an amendment**: deciding again on a decided image (in this run, or in an
  earlier one, found through the log's keyed pseudonyms) writes an ``amendment`` row that
  references the row it corrects, never a second, unlinked decision;
- **"saved" only when saved**: :meth:`ReadingSession.decide` reports success only with the
  committed record in hand; any failure comes back as an error to show.

Every audit row of a reading is built here (``image_opened``, ``ai_result_shown``, ``decision``,
``amendment``), for the window and for ``bedside infer`` alike, so both record the same fields.
The heavy steps (decode, score) are plain functions (:func:`score_image`) that the window runs in
a worker and the CLI runs inline; their results come back to :class:`ReadingDesk` on one thread.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from viewer.config import Settings
from viewer.errors import AuditError, BedsideError
from viewer.session.trail import AppendOutcome, AuditTrail

if TYPE_CHECKING:
    from viewer.audit.events import AuditRecord
    from viewer.dicom.annotations import Annotation
    from viewer.dicom.model import DicomImage, ImageMetadata
    from viewer.inference.checks import CheckResult
    from viewer.inference.postprocess import LabelResult
    from viewer.inference.predict import Prediction

__all__ = [
    "DecisionOutcome",
    "FindingChoice",
    "ReadingDesk",
    "ReadingSession",
    "SavedDecision",
    "ScoreOutcome",
    "Scorer",
    "decision_marks",
    "finding_code",
    "headline",
    "image_ids",
    "model_fields",
    "parse_finding",
    "ranked",
    "score_image",
]

Channel = Literal["gui", "cli"]
Stage = Literal["opening", "unreadable", "opened", "refused", "hidden", "revealed", "decided"]
Cancel = Callable[[], bool]


class Scorer(Protocol):
    """What a reading needs of ``viewer.inference.Predictor`` (tests pass a fake)."""

    @property
    def manifest(self) -> Any: ...

    def screen(self, meta: Any) -> list[CheckResult]: ...

    def predict(self, image: Any, *, cancel: Cancel | None = None) -> Prediction: ...


# ----------------------------------------------------------------------------- audit fields


def finding_code(label: str, positive: bool) -> str:
    """The finding as the audit log stores it: ``label: positive|negative``."""
    return f"{label}: {'positive' if positive else 'negative'}"


def parse_finding(text: str | None) -> tuple[str, bool] | None:
    """:func:`finding_code` read back: ``"label: positive"`` -> ("label", True); None for
    anything else."""
    if not text:
        return None
    label, sep, side = text.rpartition(": ")
    if not sep or side not in ("positive", "negative"):
        return None
    return label, side == "positive"


def image_ids(meta: ImageMetadata) -> dict[str, Any]:
    """The identifiers the log turns into keyed pseudonyms (never stored raw)."""
    return {
        "patient_id": meta.patient_id or None,
        "study_uid": meta.study_instance_uid or None,
        "series_uid": meta.series_instance_uid or None,
        "sop_uid": meta.sop_instance_uid or None,
        "accession": meta.accession_number or None,
    }


def headline(pred: Prediction) -> LabelResult:
    """The finding a reader sees first: the highest-scoring positive one, else the first label
    (a one-label model: always its label)."""
    positive = [r for r in pred.labels if r.positive]
    return max(positive, key=lambda r: r.score) if positive else pred.labels[0]


def ranked(pred: Prediction) -> list[LabelResult]:
    """Every shown label, positive ones first, each group by score, highest first."""
    return sorted(pred.labels, key=lambda r: (not r.positive, -r.score))


def model_fields(pred: Prediction, result: LabelResult | None = None) -> dict[str, Any]:
    """Model, digest, threshold, score and AI finding of one label (the headline by default)."""
    first = result if result is not None else headline(pred)
    return {
        "model_id": pred.model_id,
        "model_version": pred.model_version,
        "bundle_digest": pred.bundle_digest,
        "threshold": float(first.threshold),
        # the raw pair: the model's own rule (score >= threshold), what monitoring and site
        # recalibration read; a calibrated, shown score is in the detail (labels_raw)
        "score": float(first.raw_score),
        "ai_finding": finding_code(first.label, bool(first.positive)),
    }


# ----------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class ScoreOutcome:
    """One image's scoring: a prediction, or the error that stopped it (refusal or failure)."""

    prediction: Prediction | None = None
    error: BedsideError | None = None
    image: DicomImage | None = None
    decode_ms: float | None = None

    @property
    def status(self) -> Literal["scored", "refused", "error"]:
        if self.prediction is not None:
            return "scored"
        return "refused" if self.refusing else "error"

    @property
    def checks(self) -> list[CheckResult]:
        """Every check result: the prediction's, or those a refusal carries."""
        if self.prediction is not None:
            return list(self.prediction.checks)
        return list(getattr(self.error, "checks", ()))

    @property
    def refusing(self) -> list[CheckResult]:
        return [c for c in self.checks if str(c.level) == "refusal"]

    @property
    def warnings(self) -> list[CheckResult]:
        return [c for c in self.checks if str(c.level) == "warning"]

    @property
    def message(self) -> str:
        return self.error.message if self.error is not None else ""


def score_image(
    scorer: Scorer,
    meta: ImageMetadata,
    *,
    image: DicomImage | None = None,
    cancel: Cancel | None = None,
) -> ScoreOutcome:
    """Header checks (before any decode), decode if needed, then score.

    The same steps for the window (which has the image decoded for display already) and the CLI
    (which decodes only what the header checks accept). Refusals and failures come back in the
    outcome; only a cancellation raises (``InferenceCancelledError``).
    """
    import time

    from viewer.inference.predict import InferenceCancelledError

    try:
        scorer.screen(meta)
        decode_ms = None
        if image is None:
            from viewer.dicom import read_image

            t = time.perf_counter()
            image = read_image(meta.path)
            decode_ms = round((time.perf_counter() - t) * 1000.0, 3)
        prediction = scorer.predict(image, cancel=cancel)
    except InferenceCancelledError:
        raise
    except BedsideError as exc:
        return ScoreOutcome(error=exc, image=image)
    return ScoreOutcome(prediction=prediction, image=image, decode_ms=decode_ms)


# ----------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class SavedDecision:
    """A committed decision or amendment on an image (what the decision panel shows)."""

    seq: int  # the act's first row
    when: datetime  # aware
    meaning: str  # "overrode" if any finding was rejected or missed, else "confirmed"
    reason: str
    amendment: bool
    rows: tuple[tuple[str, int], ...] = ()  # (label, seq) of each finding's row

    def time_text(self, now: datetime | None = None) -> str:
        """``HH:MM`` today, else ``YYYY-MM-DD HH:MM`` (local time)."""
        local = self.when.astimezone()
        today = (now or datetime.now().astimezone()).date()
        return local.strftime("%H:%M" if local.date() == today else "%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class DecisionOutcome:
    """``saved`` is True only with the committed record; otherwise ``error`` says why.

    ``code``: ``"not_ready"`` (no shown AI result to decide on), ``"log_not_open"``,
    ``"identity"`` (the site requires a printed name), ``"reason"`` (a rejected finding without
    a reason), ``"missed"`` (a finding named as missed by the AI that cannot be: see
    :func:`_missed_problem`), ``"write"`` (the log refused the rows: none was written).
    """

    saved: bool
    decision: SavedDecision | None = None
    record: AuditRecord | None = None  # the act's first row
    error: str = ""
    code: str = ""
    records: tuple[AuditRecord, ...] = ()  # one per decided finding
    # the decision is saved but its annotations' file could not be written (why)
    annotation_error: str = ""


MAX_FINDING_NAME = 64  # a label name, as DICOM's LO is at most 64 characters


def _missed_problem(
    missed: Sequence[str], by_label: dict[str, LabelResult], choices: Sequence[FindingChoice]
) -> str:
    """Why the findings named as missed by the AI cannot be recorded ("" when they can): a
    name too long or holding control characters (it is typed text going into the log), one
    named twice, one the AI called positive or one decided above (it was not missed)."""
    from viewer.errors import printable

    decided = {c.label for c in choices}
    for name in missed:
        if len(name) > MAX_FINDING_NAME or printable(name) != name:
            return (
                f"A missed finding must be a plain name of at most {MAX_FINDING_NAME} "
                "characters; nothing was saved."
            )
        if missed.count(name) > 1:
            return f"{name} is named twice as missed; nothing was saved."
        result = by_label.get(name)
        if name in decided or (result is not None and result.positive):
            return f"The AI did not miss {name}: decide it above; nothing was saved."
    return ""


@dataclass(frozen=True)
class FindingChoice:
    """The clinician on one finding: agrees with the AI (``agree``) or rejects it (``reason``)."""

    label: str
    agree: bool
    reason: str = ""


# ----------------------------------------------------------------------------- the session


class ReadingSession:
    """One image on the desk, from opening to its last amendment. Not thread-safe: the window
    calls it on the GUI thread only; workers return plain results to it."""

    def __init__(self, desk: ReadingDesk, path: str, request: int) -> None:
        self.desk = desk
        self.path = path
        self.request = request
        self.meta: ImageMetadata | None = None
        # SHA-256 of the stored pixels: with the SOP Instance UID, what identifies the image
        # (two different files may claim one UID); None until the pixels are decoded
        self.pixel_sha256: str | None = None
        self.read_error = ""
        self.prediction: Prediction | None = None
        self.refusal = ""
        self.refusal_checks: list[CheckResult] = []
        self.provisional = ""
        self.revealed = False
        self.ai_shown: Literal["before_read", "after_read"] | None = None
        self.decision: SavedDecision | None = None
        # the reader's annotations on this image (viewer.dicom.annotations), image coordinates
        self.annotations: list[Annotation] = []
        self.annotation_error = ""  # why saved annotations could not be shown, if so

    # -------------------------------------------------------------- state
    @property
    def stage(self) -> Stage:
        if self.meta is None:
            return "unreadable" if self.read_error else "opening"
        if self.refusal:
            return "refused"
        if self.prediction is None:
            return "opened"
        if not self.revealed:
            return "hidden"
        return "decided" if self.decision is not None else "revealed"

    @property
    def score_hidden(self) -> bool:
        """A score exists but the reader may not see it yet (read-first, no own read)."""
        return self.prediction is not None and not self.revealed

    @property
    def can_decide(self) -> bool:
        return self.meta is not None and self.prediction is not None and self.revealed

    @property
    def needs_score(self) -> bool:
        return self.meta is not None and self.prediction is None and not self.refusal

    # -------------------------------------------------------------- steps
    def opened(self, meta: ImageMetadata, *, pixel_sha256: str | None = None) -> AppendOutcome:
        """The image is read (decoded for the window, header-read for the CLI)."""
        # here, not at module import: viewer.bundle's package import is 0.1 s of window start-up
        from viewer.bundle.profile import input_mix

        self.meta = meta
        self.pixel_sha256 = pixel_sha256 or self.pixel_sha256
        row = self.desk.trail.append(
            "image_opened",
            detail={
                "modality": meta.modality,
                "transfer_syntax": meta.transfer_syntax_uid,
                # the input mix the drift monitor compares with the model's reference
                # (viewer.monitoring): categories and sizes, never a name or an identifier
                **input_mix(meta),
            },
            **image_ids(meta),
        )
        if self.desk.channel == "gui" and self.decision is None:
            # decided before (this run or an earlier one): the reader sees that decision and may
            # amend it; read-first does not demand a new own read of a case already read
            self.decision = self.desk.earlier_decision(self)
        if self.desk.channel == "gui":
            self.restore_annotations()
        return row

    # -------------------------------------------------------------- annotations
    def set_annotations(self, items: Sequence[Annotation]) -> None:
        """The reader changed the annotations: kept for this image for the rest of the run;
        written to disk with the next decision (``annotation_store``)."""
        self.annotations = list(items)
        self.desk.annotations[self.path] = (self.pixel_sha256, list(items))

    def restore_annotations(self) -> None:
        """This run's annotations on this image, else the ones saved with its last decision."""
        kept = self.desk.annotations.get(self.path)
        if kept is not None and kept[0] == self.pixel_sha256:
            self.annotations = list(kept[1])
            return
        sop = self._sop_pseudonym()
        if sop is None:
            return
        from viewer.session import annotation_store

        try:
            self.annotations = annotation_store.load(self.desk.settings, sop, self.pixel_sha256)
        except BedsideError as exc:
            self.annotation_error = str(exc)

    def _sop_pseudonym(self) -> str | None:
        log, meta = self.desk.trail.log, self.meta
        if log is None or meta is None or not meta.sop_instance_uid:
            return None
        try:
            return log.pseudonym("sop", meta.sop_instance_uid)
        except AuditError:
            return None

    def _save_annotations(self) -> str:
        """Write the annotations beside the saved decision; the reason if that failed."""
        sop = self._sop_pseudonym()
        if sop is None:
            return "" if not self.annotations else "the image has no SOP Instance UID"
        from viewer.session import annotation_store

        try:
            annotation_store.save(self.desk.settings, sop, self.pixel_sha256, self.annotations)
        except BedsideError as exc:
            return str(exc)
        return ""

    def read_failed(self, message: str) -> None:
        self.read_error = message

    def scored(self, outcome: ScoreOutcome) -> AppendOutcome | None:
        """Take a scoring result. A refusal is recorded at once; a score is revealed (and
        recorded) unless read-first hides it until the own read. Returns the row written."""
        if self.pixel_sha256 is None and outcome.image is not None:
            self.pixel_sha256 = outcome.image.pixel_sha256
        if outcome.prediction is None:
            return self._refused(outcome)
        self.prediction = outcome.prediction
        if self.desk.read_first and not self.provisional and self.decision is None:
            return None
        return self._reveal()

    def own_read(self, finding: str) -> AppendOutcome | None:
        """The clinician's provisional read (read-first): reveals a waiting score."""
        self.provisional = finding
        if self.prediction is not None and not self.revealed:
            return self._reveal()
        return None

    def model_changed(self) -> None:
        """Another model (or none) is loaded: the old model's score or refusal is withdrawn, so
        nothing is decided on a result no longer shown; the image is scored again. A saved
        decision stays (the next act amends it)."""
        self.prediction = None
        self.refusal = ""
        self.refusal_checks = []
        self.revealed = False
        self.ai_shown = None

    def decide(self, meaning: Literal["confirmed", "overrode"], reason: str) -> DecisionOutcome:
        """Confirm or override every positive finding at once (the headline label when the model
        found none) — an amendment if this image was decided before."""
        if self.prediction is None:
            return self._not_ready()
        positive = [r.label for r in self.prediction.labels if r.positive]
        targets = positive or [self.prediction.labels[0].label]
        agree = meaning == "confirmed"
        return self.decide_findings([FindingChoice(label, agree, reason) for label in targets])

    def decide_findings(
        self, choices: Sequence[FindingChoice], missed: Sequence[str] = ()
    ) -> DecisionOutcome:
        """The clinician's decision finding by finding: agree or reject each (a rejection needs a
        reason), plus findings the AI missed (label names). One audit row per finding, all in
        one transaction and linked by ``detail.reading_id``; each amends that label's earlier
        row when the image was decided before."""
        if not self.can_decide or self.meta is None or self.prediction is None:
            return self._not_ready()
        trail = self.desk.trail
        if trail.log is None:
            return DecisionOutcome(
                saved=False,
                code="log_not_open",
                error=trail.error or "The audit log is not open; nothing can be saved.",
            )
        by_label = {r.label: r for r in self.prediction.labels}
        unknown = [c.label for c in choices if c.label not in by_label]
        missing_reason = [c.label for c in choices if not c.agree and not c.reason.strip()]
        missed = [m.strip() for m in missed if m.strip()]
        missed_problem = _missed_problem(missed, by_label, choices)
        if missed_problem:
            return DecisionOutcome(saved=False, code="missed", error=missed_problem)
        if not choices and not missed:
            return DecisionOutcome(saved=False, code="not_ready", error="No finding was decided.")
        if unknown:
            return DecisionOutcome(
                saved=False,
                code="not_ready",
                error=f"The model has no finding {', '.join(unknown)}; nothing was saved.",
            )
        if missing_reason and len(choices) > 1:
            return DecisionOutcome(
                saved=False,
                code="reason",
                error="A rejected finding needs a reason ("
                + ", ".join(missing_reason)
                + "); nothing was saved.",
            )
        from viewer.audit import require_named_user
        from viewer.audit.identity import IdentityRequiredError

        # looked up again: the log may have opened after the reveal, or another window on this
        # log decided the image meanwhile; either way this act amends, never duplicates
        earlier = self.decision or self.desk.earlier_decision(self)
        try:
            user = require_named_user(self.desk.settings)
            events = self._finding_events(user, choices, missed, earlier)
            records = trail.log.append_all(events)
        except IdentityRequiredError as exc:
            return DecisionOutcome(saved=False, code="identity", error=str(exc))
        except AuditError as exc:
            return DecisionOutcome(saved=False, code="write", error=str(exc))
        except Exception as exc:  # never claim "saved" on any failure
            return DecisionOutcome(
                saved=False, code="write", error=f"Unexpected error ({type(exc).__name__}: {exc})."
            )
        first = records[0]
        rejected = [c for c in choices if not c.agree]
        labels = [str(r.detail.get("label", "")) for r in records]
        decision = SavedDecision(
            seq=int(first.seq),
            when=first.when,
            meaning="overrode" if rejected or missed else "confirmed",
            reason="; ".join(c.reason for c in rejected if c.reason) or first.reason or "",
            amendment=earlier is not None,
            rows=tuple(zip(labels, (int(r.seq) for r in records), strict=True)),
        )
        self.decision = decision
        self.desk.decided[self.path] = decision
        self.desk.decided_pixels[self.path] = self.pixel_sha256
        return DecisionOutcome(
            saved=True,
            decision=decision,
            record=first,
            records=tuple(records),
            annotation_error=self._save_annotations(),
        )

    def _not_ready(self) -> DecisionOutcome:
        return DecisionOutcome(
            saved=False, code="not_ready", error="There is no shown AI result to decide on."
        )

    def _finding_events(
        self,
        user: Any,
        choices: Sequence[FindingChoice],
        missed: Sequence[str],
        earlier: SavedDecision | None,
    ) -> list[Any]:
        """One event per decided finding, then one per finding the AI missed."""
        from viewer.audit import AuditEvent, EventType
        from viewer.dicom.annotations import counts_by_kind

        pred, meta = self.prediction, self.meta
        assert pred is not None and meta is not None  # noqa: S101 - decide_findings checked
        by_label = {r.label: r for r in pred.labels}
        # counts by kind only: never a text annotation's words, never coordinates
        counts = counts_by_kind(self.annotations)
        reading_id = uuid.uuid4().hex
        total = len(choices) + len(missed)
        events = []
        rows = [(c.label, c.agree, c.reason, False) for c in choices]
        rows += [(m, False, "missed by the AI", True) for m in missed]
        for index, (label, agree, reason, was_missed) in enumerate(rows, start=1):
            result = by_label.get(label)
            ai_positive = bool(result.positive) if result is not None else False
            clinician_positive = True if was_missed else (ai_positive if agree else not ai_positive)
            corrects = None
            if earlier is not None:
                corrects = dict(earlier.rows).get(label, earlier.seq)
            model = (
                model_fields(pred, result)
                if result is not None
                else {
                    "model_id": pred.model_id,
                    "model_version": pred.model_version,
                    "bundle_digest": pred.bundle_digest,
                    "ai_finding": f"{label}: not assessed",
                }
            )
            events.append(
                AuditEvent(
                    type=EventType.AMENDMENT if earlier is not None else EventType.DECISION,
                    outcome="success",
                    user=user,
                    meaning="confirmed" if agree else "overrode",
                    clinician_finding=finding_code(label, clinician_positive),
                    reason=reason or None,
                    ai_shown=self.ai_shown,
                    corrects=corrects,
                    detail={
                        "label": label,
                        "reading_id": reading_id,
                        "finding": [index, total],
                        **({"missed_by_ai": True} if was_missed else {}),
                        "warnings": [c.message for c in pred.warnings],
                        "provisional_finding": self.provisional or None,
                        "reading_order": self.desk.reading_order,
                        **({"annotations": counts} if counts else {}),
                        **self._pixels,
                        **self.desk.model_detail,
                    },
                    **model,
                    **image_ids(meta),
                )
            )
        return events

    # -------------------------------------------------------------- rows
    @property
    def _pixels(self) -> dict[str, str]:
        """``pixel_sha256`` for a row's detail, when the pixels are known."""
        return {"pixel_sha256": self.pixel_sha256} if self.pixel_sha256 else {}

    def _refused(self, outcome: ScoreOutcome) -> AppendOutcome:
        self.refusal = outcome.message or "No score."
        self.refusal_checks = outcome.refusing
        model = self.desk.model_identity
        return self.desk.trail.append(
            "ai_result_shown",
            outcome="failure",
            reason=self.refusal,
            detail={
                "refused": True,
                "refusal_codes": [str(c.code) for c in self.refusal_checks],
                **self.desk.channel_detail,
                **self._pixels,
                **self.desk.model_detail,
            },
            **model,
            **(image_ids(self.meta) if self.meta is not None else {}),
        )

    def _reveal(self) -> AppendOutcome | None:
        pred = self.prediction
        if pred is None or self.revealed:
            return None
        self.revealed = True
        if self.decision is None:
            self.decision = self.desk.earlier_decision(self)
        decided_before = self.decision.seq if self.decision is not None else None
        if self.desk.channel == "gui":
            # read-first: the own read is this reading's provisional finding, or the decision
            # made on this image before (a case already read is not read again from scratch)
            read_done = bool(self.provisional) or (self.desk.read_first and decided_before)
            self.ai_shown = "after_read" if read_done else "before_read"
        return self.desk.trail.append(
            "ai_result_shown",
            ai_shown=self.ai_shown,
            detail={
                "labels": {r.label: float(r.raw_score) for r in pred.labels},
                **({"decided_before": decided_before} if decided_before else {}),
                **self.desk.channel_detail,
                **self._pixels,
                **self.desk.model_detail,
                # threads, and each warning with its code and params (a report can show it in
                # the reader's language); the English message stays beside them
                **pred.audit_detail(),
            },
            **model_fields(pred),
            **(image_ids(self.meta) if self.meta is not None else {}),
        )


class ReadingDesk:
    """The readings of one app run (or one ``bedside infer``): the current image, the scores made
    with the loaded model, and the decisions saved in this run.

    Results from workers carry the session they were for; :meth:`is_current` tells the window
    whether the reader is still on that image (a stale result is dropped, never shown on another
    patient's image).
    """

    def __init__(self, settings: Settings, trail: AuditTrail, *, channel: Channel = "gui") -> None:
        self.settings = settings
        self.trail = trail
        self.channel: Channel = channel
        self.current: ReadingSession | None = None
        self.scorer: Scorer | None = None
        self.model_digest: str | None = None
        self.demo_model = False
        self.scores: dict[str, Prediction] = {}  # path -> prediction by the loaded model
        self.decided: dict[str, SavedDecision] = {}  # path -> last decision in this run
        # the pixels each of those was made on: one path may hold another image later (every
        # CD of one vendor names its files alike), which must get neither
        self.score_pixels: dict[str, str | None] = {}
        self.decided_pixels: dict[str, str | None] = {}
        # path -> (pixel digest, annotations) drawn in this run
        self.annotations: dict[str, tuple[str | None, list[Annotation]]] = {}
        self._request = 0

    # -------------------------------------------------------------- settings
    @property
    def reading_order(self) -> str:
        return str(self.settings.values.reading.order)

    @property
    def read_first(self) -> bool:
        return self.channel == "gui" and self.reading_order == "read_first"

    @property
    def channel_detail(self) -> dict[str, Any]:
        """How the result reached a person: the window (with its reading order) or a command."""
        if self.channel == "gui":
            return {"reading_order": self.reading_order}
        return {"channel": "cli"}

    def apply_settings(self, settings: Settings) -> None:
        self.settings = settings
        self.trail.settings = settings

    # -------------------------------------------------------------- model
    def set_model(
        self, scorer: Scorer | None, digest: str | None = None, *, demo_model: bool = False
    ) -> None:
        """A new model (or none): scores made by the old one are forgotten. ``demo_model``: the
        shipped demo bundle (trained on synthetic images) is scoring: every row says so."""
        self.scorer = scorer
        self.model_digest = digest
        self.demo_model = demo_model and scorer is not None
        self.scores.clear()
        self.score_pixels.clear()
        if self.current is not None:
            self.current.model_changed()

    @property
    def model_detail(self) -> dict[str, bool]:
        """``demo_model: true`` in a row's detail when the demo model made the result, so a
        report can warn that its output on real images means nothing."""
        return {"demo_model": True} if self.demo_model else {}

    @property
    def model_identity(self) -> dict[str, Any]:
        """The loaded model's audit fields (all None without a model)."""
        manifest = getattr(self.scorer, "manifest", None)
        return {
            "model_id": getattr(manifest, "id", None),
            "model_version": getattr(manifest, "version", None),
            "bundle_digest": self.model_digest,
        }

    # -------------------------------------------------------------- images
    def open(self, path: str) -> ReadingSession:
        """A new reading; the previous image's pending results become stale."""
        self._request += 1
        self.current = ReadingSession(self, path, self._request)
        return self.current

    def is_current(self, session: ReadingSession | None) -> bool:
        return session is not None and session is self.current

    def remember_score(self, path: str, scorer: Scorer, outcome: ScoreOutcome) -> bool:
        """Keep a score made by the loaded model; False if another model made it (drop it)."""
        if scorer is not self.scorer:
            return False
        if outcome.prediction is not None:
            self.scores[path] = outcome.prediction
            self.score_pixels[path] = outcome.image.pixel_sha256 if outcome.image else None
        return True

    def cached_score(self, session: ReadingSession) -> Prediction | None:
        """The loaded model's score for this session's image: same path *and* same pixels."""
        pixels = self.score_pixels.get(session.path)
        if pixels is None or pixels != session.pixel_sha256:
            return None
        return self.scores.get(session.path)

    def earlier_decision(self, session: ReadingSession) -> SavedDecision | None:
        """The latest decision on this image: in this run, else in the audit log.

        Looked up in the log by keyed pseudonyms (patient if known, SOP Instance UID) and the pixel
        digest, so reopening an image decided in an earlier session offers an amendment instead
        of a second, unlinked decision, and a *different* image that claims the same UID does
        not inherit it. (Rows written before the digest was recorded match by UID alone.)
        """
        remembered = self.decided.get(session.path)
        if remembered is not None and self.decided_pixels.get(session.path) == session.pixel_sha256:
            return remembered
        meta, log = session.meta, self.trail.log
        if log is None or meta is None or not meta.sop_instance_uid:
            return None
        from viewer.audit import Filters

        try:
            # by patient and image; an anonymised image without a Patient ID by the image alone
            rows = log.records(
                Filters(
                    patient_id=meta.patient_id or None,
                    sop_uid=meta.sop_instance_uid,
                    types=("decision", "amendment"),
                )
            )
            sop = log.pseudonym("sop", meta.sop_instance_uid)
        except AuditError:
            return None
        mine = session.pixel_sha256

        def same_image(row: AuditRecord) -> bool:
            theirs = row.detail.get("pixel_sha256")
            return theirs is None or mine is None or theirs == mine

        ours = [
            r for r in rows if r.sop_pseudonym == sop and r.outcome == "success" and same_image(r)
        ]
        if not ours:
            return None
        last = max(ours, key=lambda r: r.seq)
        latest: dict[str, AuditRecord] = {}
        for row in sorted(ours, key=lambda r: r.seq):
            latest[str(row.detail.get("label", ""))] = row
        return SavedDecision(
            seq=int(last.seq),
            when=last.when,
            meaning=str(last.meaning or ""),
            reason=str(last.reason or ""),
            amendment=last.type == "amendment",
            rows=tuple((label, int(row.seq)) for label, row in latest.items()),
        )


def decision_marks(settings: Settings, metas: Sequence[ImageMetadata]) -> dict[str, str]:
    """``path -> "decided" | "amended"`` for listed images with a decision in the audit log.

    For the worklist and the study tree, so a reader sees which cases are done before opening
    them. Matched by the keyed SOP Instance UID pseudonym only (the pixels are not decoded yet;
    opening an image checks them). Reads the log read-only on the caller's thread (a worker):
    one query for every decision row, then one HMAC per image. No log, or one that cannot be read:
    no marks (the marks are a convenience, never the record).
    """
    from viewer.audit import AuditLog, Filters

    path = settings.audit_db_path
    if not metas or not path.is_file():
        return {}
    try:
        with AuditLog.open_readonly(path, settings=settings) as log:
            latest: dict[str, AuditRecord] = {}
            for row in log.iter_records(Filters(types=("decision", "amendment"))):
                if row.outcome == "success" and row.sop_pseudonym:
                    held = latest.get(row.sop_pseudonym)
                    if held is None or row.seq > held.seq:
                        latest[row.sop_pseudonym] = row
            if not latest:
                return {}
            marks: dict[str, str] = {}
            for meta in metas:
                sop = log.pseudonym("sop", meta.sop_instance_uid) if meta.sop_instance_uid else None
                last = latest.get(sop or "")
                if last is not None:
                    marks[meta.path] = "amended" if last.type == "amendment" else "decided"
            return marks
    except (AuditError, OSError):
        return {}
