"""What the audit window asks of the log, Qt-free: filter, read, verify, export; and of the
department audit store (``[audit_central]``): the department's rows and ``verify --central``.

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


@dataclass(frozen=True)
class DepartmentRows:
    """Rows read from the department audit store, each with the workstation that recorded it."""

    records: list[AuditRecord]
    workstations: list[str]  # one per record
    total: int
    known: list[str]  # every workstation the store holds rows of


@dataclass(frozen=True)
class CentralVerifyOutcome:
    """This workstation's log against the store, and every workstation's chain there."""

    ok: bool
    local_rows: int
    central_rows: int
    chains: int  # workstation chains verified in the store
    findings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def central_enabled(settings: Settings) -> bool:
    """Whether the site configured a department audit store (``[audit_central]``)."""
    return bool(settings.values.audit_central.enabled)


def load_central_records(
    settings: Settings, filters: AuditFilters, workstation: str = "", limit: int = MAX_ROWS_SHOWN
) -> DepartmentRows:
    """The latest ``limit`` matching rows of the whole department (or one workstation) from the
    store, with the same filters and hidden types as :func:`load_records`. A patient ID is
    matched by this site's keyed pseudonym (workstations share the site secret)."""
    from viewer.audit.central import CentralStore
    from viewer.audit.pseudonym import Pseudonymizer, load_or_create_secret

    hidden = READER_HIDDEN_TYPES - {filters.event_type}
    pseudonym = None
    if filters.patient_id and settings.secret_path.is_file():
        pseudonym = Pseudonymizer(load_or_create_secret(settings.secret_path)).pseudonym
    with CentralStore.open(settings) as store:
        known = [w for w, *_ in store.workstations()]
        latest: deque[tuple[str, AuditRecord]] = deque(maxlen=limit)
        total = 0
        rows = store.iter_records(
            core_filters(filters), workstation=workstation or None, pseudonym=pseudonym
        )
        for ws, record in rows:
            if record.type in hidden:
                continue
            latest.append((ws, record))
            total += 1
    return DepartmentRows([r for _w, r in latest], [w for w, _r in latest], total, known)


def verify_central(settings: Settings) -> CentralVerifyOutcome:
    """``bedside audit verify --central``: what the local chain alone cannot show (a truncated
    tail, a rolled-back file, a re-chained rewrite), and each workstation's chain in the store."""
    from viewer.audit.central import compare_with_central

    result = compare_with_central(settings)
    return CentralVerifyOutcome(
        ok=result.ok,
        local_rows=result.local_rows,
        central_rows=result.central_rows,
        chains=len(result.departments),
        findings=tuple(message for _kind, message in result.findings),
        notes=tuple(result.notes),
    )


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
    "CentralVerifyOutcome",
    "DepartmentRows",
    "ExportOutcome",
    "VerifyOutcome",
    "central_enabled",
    "core_filters",
    "load_central_records",
    "load_records",
    "run_export",
    "verify_central",
    "verify_log",
]
