"""A saved reading on its way to PACS, Qt-free: the :class:`~viewer.pacs.model.AiReport` built
from the reading session, the objects the site chose, queued in the durable outbox.

Why these rules (issue 17; DESIGN.md "what the physician must never see"):

- **only after the decision is saved**: :meth:`PacsLink.report` takes the committed
  :class:`~viewer.session.reading.DecisionOutcome` and refuses anything else, so PACS never holds
  a result the audit log does not (an amendment is a new reading with its own ``reading_id``:
  a new version of the objects, never an edit of the sent one);
- **what the reader saw, and only that**: the labels come from the session's prediction, which is
  the active model's; a result of another bundle (the shadow candidate, a model swapped since) is
  refused, so a candidate's score never reaches anything sent;
- **never a lost decision**: the decision is already in the log when PACS is thought of; a report
  that cannot be built or queued is a clear :class:`PacsLinkError` and a ``pacs_not_queued``
  audit row (:meth:`PacsLink.record`), never an exception out of the decision;
- **off unless the site turned it on**: the ``[pacs]`` section decides; the demo is no exception.

The window runs the three steps on two threads: :meth:`PacsLink.report` on the GUI thread (it
reads the session), :meth:`PacsLink.queue` in a worker (building a Secondary Capture of a
3000 x 3000 image is work), :meth:`PacsLink.record` back on the GUI thread (every audit write of
a reading happens there). :meth:`PacsLink.after_decision` runs them in a row for a caller
without threads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias

from viewer.config import Settings
from viewer.errors import BedsideError
from viewer.pacs.state import PacsState, pacs_state
from viewer.session.reading import (
    DecisionOutcome,
    ReadingSession,
    image_ids,
    parse_finding,
)
from viewer.session.trail import AppendOutcome

if TYPE_CHECKING:
    import numpy as np
    from pydicom.dataset import Dataset

    from viewer.audit.events import AuditRecord
    from viewer.inference.checks import CheckResult
    from viewer.inference.postprocess import LabelResult
    from viewer.pacs.model import AiReport, InputCheck, LabelScore

__all__ = [
    "PacsLink",
    "PacsLinkError",
    "PacsState",
    "Queued",
    "drain_state",
    "pacs_state",
    "source_header",
]

# Pixel data and its companions (PS3.5 7.5: Float / Double Float Pixel Data, Pixel Data) are
# group 7FE0; the objects need the header only.
_PIXEL_GROUP = 0x7FE0


class PacsLinkError(BedsideError):
    """This reading cannot be made into objects for PACS, or they cannot be queued; the decision
    itself is saved."""


class TrailLike(Protocol):
    """What the link needs of ``viewer.session.trail.AuditTrail``: its rows, and the open log
    (the delivery records each send and failure in it)."""

    @property
    def log(self) -> Any: ...

    def append(self, type_: str, **fields: Any) -> AppendOutcome: ...


@dataclass(frozen=True)
class Queued:
    """What became of one reading's objects: ``count`` queued (0 when every one of them was
    queued before: a resend), the kinds built, or the ``error`` that stopped them."""

    reading_id: str
    kinds: tuple[str, ...]
    count: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


if TYPE_CHECKING:
    # the displayed image (uint8), or a function that renders it on the queueing thread
    Display: TypeAlias = np.ndarray | Callable[[], np.ndarray] | None
    # how the window runs building and queueing: run(work, finish), finish on the GUI thread
    Run: TypeAlias = Callable[[Callable[[], Queued], Callable[[Queued], None]], None]


def drain_state(
    delivery: Any, *, reading_id: str | None = None, should_stop: Callable[[], bool] | None = None
) -> PacsState:
    """Send what is due through ``delivery`` (``viewer.pacs.delivery.PacsDelivery``), then the
    state of ``reading_id``'s objects (every object's without one). On a worker's thread."""
    delivery.drain(should_stop=should_stop)
    state: PacsState = delivery.state(reading_id)
    return state


def source_header(dataset: Dataset) -> Dataset:
    """The source image's header without its pixels (group 7FE0), file meta kept: what the
    objects copy their patient, study and equipment modules from."""
    from pydicom.dataset import Dataset, FileMetaDataset

    out = Dataset()
    for element in dataset:
        if element.tag.group != _PIXEL_GROUP:
            out.add(element)
    meta = getattr(dataset, "file_meta", None)
    if meta is not None:
        out.file_meta = FileMetaDataset(meta)
    return out


def _label_score(result: LabelResult) -> LabelScore:
    """The pair the reader saw (the shown score and its threshold), the site's when it applies."""
    from viewer.pacs.model import LabelScore

    return LabelScore(
        label=result.label,
        probability=float(result.score),
        threshold=float(result.shown_threshold),
        positive=bool(result.positive),
        threshold_source="site" if result.site is not None else "bundle",
        operating_point=str(result.operating_point or ""),
    )


def _input_check(check: CheckResult) -> InputCheck:
    from viewer.pacs.model import InputCheck

    level = str(check.level)
    severity: Literal["ok", "warning", "refusal"] = (
        "refusal" if level == "refusal" else "warning" if level == "warning" else "ok"
    )
    return InputCheck(
        code=str(check.code or check.name),
        severity=severity,
        passed=severity == "ok",
        message=str(check.message),
    )


def _decisions(records: Iterable[AuditRecord]) -> tuple[Any, ...]:
    """One :class:`~viewer.pacs.model.FindingDecision` per committed finding row, as the log
    holds it (a finding the AI missed: ``ai_finding`` "label: not assessed", AI negative)."""
    from viewer.pacs.model import FindingDecision

    out = []
    for row in records:
        label = str(row.detail.get("label", ""))
        ai = parse_finding(row.ai_finding)
        final = parse_finding(row.clinician_finding)
        meaning: Literal["confirmed", "overrode"] = (
            "overrode" if row.meaning == "overrode" else "confirmed"
        )
        out.append(
            FindingDecision(
                label=label,
                ai_positive=bool(ai[1]) if ai is not None else False,
                meaning=meaning,
                final_positive=bool(final[1]) if final is not None else False,
                reason=str(row.reason or ""),
            )
        )
    return tuple(out)


class PacsLink:
    """One installation's way to PACS for the readings of one run (window or command).

    ``delivery`` makes the ``viewer.pacs.delivery.PacsDelivery`` the objects go through (the
    default opens the site's; a worker calls it on its own thread)."""

    def __init__(
        self,
        settings: Settings,
        trail: TrailLike,
        *,
        delivery: Callable[[], Any] | None = None,
    ) -> None:
        self.settings = settings
        self.trail = trail
        self._delivery_factory = delivery

    # -------------------------------------------------------------- settings
    @property
    def enabled(self) -> bool:
        """The site sends results to PACS (``[pacs] enabled``); demo mode is no exception."""
        return bool(self.settings.values.pacs.enabled)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The objects the site chose (``[pacs] send``: "sr", "sc", "gsps"), in that order."""
        chosen = {str(k).lower() for k in self.settings.values.pacs.send}
        return tuple(k for k in ("sr", "sc", "gsps") if k in chosen)

    def apply_settings(self, settings: Settings) -> None:
        self.settings = settings

    def delivery(self) -> Any:
        """The site's PACS delivery (its outbox opened), on the caller's thread."""
        if self._delivery_factory is not None:
            return self._delivery_factory()
        from viewer.pacs.delivery import PacsDelivery

        # each send and failure is an audit row in the reading's log
        return PacsDelivery(self.settings, self.trail.log)

    # -------------------------------------------------------------- step 1: GUI thread
    def report(
        self,
        session: ReadingSession,
        outcome: DecisionOutcome,
        *,
        source: Dataset,
        heatmap: np.ndarray | None = None,
    ) -> AiReport:
        """The reading as an :class:`AiReport`: only for a saved decision (or amendment) on the
        active model's result. ``source`` is the image's header (pixels are dropped here);
        ``heatmap`` the explanation the reader could show, when one was made."""
        from viewer.pacs.model import AiReport, Algorithm, Observer

        if not outcome.saved or outcome.decision is None or not outcome.records:
            raise PacsLinkError("Nothing goes to PACS before the decision is saved.")
        pred, desk = session.prediction, session.desk
        if pred is None or not session.revealed:
            raise PacsLinkError("This reading has no shown AI result to send to PACS.")
        if desk.model_digest is None or pred.bundle_digest != desk.model_digest:
            # the shadow candidate's output, a model swapped since, or no active model known to
            # compare with: never in anything sent
            raise PacsLinkError(
                "The result on screen was not made by the active model; nothing was sent to PACS."
            )
        first = outcome.records[0]
        reading_id = str(first.detail.get("reading_id") or "")
        if not reading_id:
            raise PacsLinkError("The saved decision has no reading id; nothing was sent to PACS.")
        manifest = getattr(desk.scorer, "manifest", None)
        creator = getattr(manifest, "creator", None)
        return AiReport(
            source=source_header(source),
            labels=tuple(_label_score(r) for r in pred.labels),
            checks=tuple(_input_check(c) for c in pred.checks),
            decisions=_decisions(outcome.records),
            observer=Observer(
                # the printed name as typed; the SR writes it as a PN (viewer.pacs.source)
                name=first.user_name.strip() or first.user_os,
                role=first.user_role.strip(),
            ),
            algorithm=Algorithm(
                bundle_id=pred.model_id,
                name=str(getattr(manifest, "name", "") or pred.model_id),
                version=pred.model_version,
                digest=pred.bundle_digest,
                manufacturer=str(getattr(creator, "organisation", "") or "Bedside"),
            ),
            reading_id=reading_id,
            reading_time=first.when,
            heatmap=heatmap if session.revealed else None,
            annotations=tuple(session.annotations),
        )

    # -------------------------------------------------------------- step 2: any thread
    def queue(self, report: AiReport, *, display: Display = None) -> Queued:
        """Build the chosen objects and put them in the outbox; never raises (the decision is
        saved: a failure comes back as ``Queued.error`` for :meth:`record`). ``display`` is the
        displayed image, or a function that renders it (run here, on the caller's thread)."""
        kinds = self.kinds
        try:
            shown = display() if callable(display) else display
            if shown is not None:
                report = dataclasses.replace(report, display=shown)
            from viewer.pacs.objects import build_objects

            datasets = build_objects(report, kinds=set(kinds))
            delivery = self.delivery()
            try:
                count = int(delivery.queue(datasets, reading_id=report.reading_id))
            finally:
                if self._delivery_factory is None:  # opened for this call only
                    delivery.close()
        except BedsideError as exc:
            return Queued(report.reading_id, kinds, error=str(exc))
        except Exception as exc:  # a library failure: said plainly, the decision stays saved
            # its type only: the error is the pacs_not_queued audit row's reason, and a library's
            # own words may quote a patient's name or birth date from the header
            return Queued(
                report.reading_id,
                kinds,
                error=f"The objects for PACS could not be made or queued ({type(exc).__name__}).",
            )
        return Queued(report.reading_id, kinds, count=count)

    # -------------------------------------------------------------- step 3: GUI thread
    def record(self, session: ReadingSession, queued: Queued) -> AppendOutcome:
        """The audit row of this hand-over: ``pacs_queued`` (what, how many) or
        ``pacs_not_queued`` with the reason, under the image's pseudonyms."""
        meta = session.meta
        detail = {"reading_id": queued.reading_id, "kinds": list(queued.kinds)}
        if queued.ok:
            return self.trail.append(
                "pacs_queued",
                detail={**detail, "objects": queued.count},
                **(image_ids(meta) if meta is not None else {}),
            )
        return self.trail.append(
            "pacs_not_queued",
            outcome="failure",
            reason=queued.error,
            detail=detail,
            **(image_ids(meta) if meta is not None else {}),
        )

    def after_decision(
        self,
        session: ReadingSession,
        outcome: DecisionOutcome,
        *,
        source: Dataset | None,
        display: Display = None,
        heatmap: np.ndarray | None = None,
        run: Run | None = None,
        done: Callable[[Queued], None] | None = None,
    ) -> Queued | None:
        """The hand-over of one saved decision: :meth:`report` here, :meth:`queue` through
        ``run(work, finish)`` (the window: in its worker, ``finish`` back on the GUI thread;
        by default: inline), then :meth:`record`, then ``done``. Nothing when PACS is off or
        the decision was not saved (its own message says why). Returns the outcome when it is
        known on return (inline), else None."""
        if not self.enabled or not outcome.saved:
            return None
        finished: list[Queued] = []

        def finish(queued: Queued) -> None:
            self.record(session, queued)
            finished.append(queued)
            if done is not None:
                done(queued)

        try:
            if source is None:
                raise PacsLinkError("The image's header is not available; nothing was sent.")
            report = self.report(session, outcome, source=source, heatmap=heatmap)
        except PacsLinkError as exc:
            finish(Queued("", self.kinds, error=str(exc)))
            return finished[0]
        (run or _inline)(lambda: self.queue(report, display=display), finish)
        return finished[0] if finished else None


def _inline(work: Callable[[], Queued], finish: Callable[[Queued], None]) -> None:
    finish(work())
