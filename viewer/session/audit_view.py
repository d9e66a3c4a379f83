"""What the audit window asks of the log, Qt-free: filter, read, verify, export.

Why: the window (``viewer.ui.qt_audit_window``) and the tests drive the same calls into
``viewer.audit`` without a widget in sight; this is the only place that knows their shapes. Each
function takes plain data and returns plain data (no translated text: the window words it), and
each runs in the window's worker, so none may touch Qt. A patient ID typed as a filter goes to
the core as it is and is turned into its keyed pseudonym there; it is never stored or shown.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from viewer.audit import (
    AuditLog,
    AuditRecord,
    ExportCancelledError,
    ExportResult,
    Filters,
    export_report,
)
from viewer.audit.events import READER_HIDDEN_TYPES
from viewer.audit.export import FORMATS
from viewer.audit.verification import verify_and_record
from viewer.config import Settings

EXPORT_FORMATS = FORMATS  # pdf, csv, json
MAX_ROWS_SHOWN = 5000  # a year of decisions fits; memory stays small however long the log is


@dataclass(frozen=True)
class AuditFilters:
    """What the reader asked for. Dates are local calendar days (inclusive)."""

    date_from: datetime | None = None  # UTC instant (start of the local day)
    date_to: datetime | None = None  # UTC instant (end of the local day, exclusive)
    user: str = ""
    model: str = ""
    patient_id: str = ""  # raw, typed by the reader; only its pseudonym reaches the query
    event_type: str = ""


@dataclass(frozen=True)
class VerifyOutcome:
    """The verification as plain data (the label is re-rendered on a language change)."""

    ok: bool
    count: int
    first_bad: int | None = None
    message: str = ""
    recorded: bool = True  # the verification itself was written to the log
    files: int = 0  # checkpoint files from earlier reports that were checked


@dataclass(frozen=True)
class ExportOutcome:
    path: Path
    rows: int
    checkpoint_path: Path
    log_ok: bool  # the verification run by the export (a failed one is printed in the report)


def core_filters(filters: AuditFilters) -> Filters:
    """The core's :class:`viewer.audit.Filters` (the patient ID is pseudonymised by the core)."""
    return Filters(
        start=filters.date_from,
        end=filters.date_to,
        user=filters.user or None,
        model=filters.model or None,
        patient_id=filters.patient_id or None,
        types=(filters.event_type,) if filters.event_type else None,
    )


def load_records(
    settings: Settings, filters: AuditFilters, limit: int = MAX_ROWS_SHOWN
) -> tuple[list[AuditRecord], int]:
    """The latest ``limit`` matching rows (streamed, so memory stays bounded) and the total.

    A shadow candidate's rows (``READER_HIDDEN_TYPES``) are listed only when that event type is
    asked for by name: the window is open beside readings, and a reader browsing "all events"
    must not meet a candidate's score (``viewer.session.shadow``)."""
    hidden = READER_HIDDEN_TYPES - {filters.event_type}
    log = AuditLog.open(settings)
    try:
        latest: deque[AuditRecord] = deque(maxlen=limit)
        total = 0
        for record in log.iter_records(core_filters(filters)):
            if record.type in hidden:
                continue
            latest.append(record)
            total += 1
        return list(latest), total
    finally:
        log.close()


def verify_log(settings: Settings, checkpoint_files: tuple[Path, ...] = ()) -> VerifyOutcome:
    """Verify the chain, triggers and stored checkpoints (plus checkpoint files from earlier
    reports, which detect truncation), and record that a verification ran."""
    outcome = verify_and_record(settings, checkpoint_files, source="gui")
    result = outcome.result
    return VerifyOutcome(
        ok=bool(result.ok),
        count=int(result.rows),
        first_bad=result.first_bad_seq,
        message=result.problems[0] if result.problems else "",
        files=len(checkpoint_files),
        recorded=outcome.recorded,
    )


def run_export(
    settings: Settings,
    fmt: str,
    path: Path,
    filters: AuditFilters,
    progress: Callable[[tuple[int, int]], None],
    cancelled: Callable[[], bool],
) -> ExportOutcome | None:
    """The core export (verify, checkpoint, write atomically, record); None when cancelled.

    ``progress`` receives ``(done, total)``; ``cancelled`` is polled between steps."""
    steps = export_report(settings, fmt, path, core_filters(filters), cancel=cancelled)
    try:
        while True:
            progress(next(steps))
    except StopIteration as stop:
        result: ExportResult = stop.value
    except ExportCancelledError:
        return None
    return ExportOutcome(
        path=result.path,
        rows=result.rows,
        checkpoint_path=result.checkpoint_path,
        log_ok=bool(result.verification.ok),
    )


__all__ = [
    "EXPORT_FORMATS",
    "MAX_ROWS_SHOWN",
    "AuditFilters",
    "ExportOutcome",
    "VerifyOutcome",
    "core_filters",
    "load_records",
    "run_export",
    "verify_log",
]
