"""Studies out of PACS: a search by patient ID, accession number, date range and modality
(QIDO-RS, PS3.18 10.6, or Study Root C-FIND, PS3.4 C.6.2), the retrieval of one study into a
folder (WADO-RS or C-GET) that the study browser then opens like any folder, and the connection
test of the settings dialog (C-ECHO and one QIDO request, each answered within 5 s).

Retrieved files are written as PACS sent them, so the same reader decodes them and the same
model scores them exactly like the file PACS got (tests/pacs: same pixel digest, same score).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from viewer.audit.events import AuditEvent, EventType
from viewer.config import Settings
from viewer.errors import AuditError
from viewer.pacs.connection import PacsCancelledError, PacsError, PacsTarget, is_uid
from viewer.pacs.delivery import AuditSink

__all__ = [
    "ConnectionCheck",
    "PacsCancelledError",
    "PacsError",
    "PacsQueryError",
    "StudyHit",
    "retrieve",
    "search",
    "test_connection",
]

# study attributes asked for and shown (PS3.18 Table 6.7.1-2a)
_FIELDS = (
    "StudyInstanceUID",
    "PatientID",
    "PatientName",
    "StudyDate",
    "AccessionNumber",
    "ModalitiesInStudy",
    "StudyDescription",
    "NumberOfStudyRelatedInstances",
)


class PacsQueryError(PacsError):
    """The search itself is not possible as given (no criterion, a date that is not a date)."""


@dataclass(frozen=True)
class StudyHit:
    """One study PACS holds, as the browser lists it."""

    study_uid: str
    patient_id: str
    patient_name: str
    study_date: str
    accession: str
    modalities: tuple[str, ...]
    description: str
    instances: int | None


@dataclass(frozen=True)
class ConnectionCheck:
    """One step of the connection test: passed or not, in words, and how long it took."""

    name: str
    ok: bool
    message: str
    elapsed_s: float


def _date(value: dt.date | str | None, what: str) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d")
    text = value.replace("-", "")
    try:
        dt.datetime.strptime(text, "%Y%m%d")
    except ValueError as exc:
        raise PacsQueryError(f"The {what} {value!r} is not a date (YYYY-MM-DD).") from exc
    return text


def _criteria(
    patient_id: str | None,
    accession: str | None,
    date_from: dt.date | str | None,
    date_to: dt.date | str | None,
    modality: str | None,
) -> dict[str, str]:
    start, end = _date(date_from, "start date"), _date(date_to, "end date")
    if start and end and start > end:
        raise PacsQueryError("The start date is after the end date.")
    criteria = {
        "PatientID": (patient_id or "").strip(),
        "AccessionNumber": (accession or "").strip(),
        "StudyDate": f"{start}-{end}" if (start or end) else "",
        "ModalitiesInStudy": (modality or "").strip().upper(),
    }
    for key, value in criteria.items():
        if "\\" in value or len(value) > 64:
            raise PacsQueryError(f"The {key} given for the search is not a valid DICOM value.")
    criteria = {k: v for k, v in criteria.items() if v}
    if not (criteria.keys() & {"PatientID", "AccessionNumber", "StudyDate"}):
        raise PacsQueryError(
            "Give a patient ID, an accession number or a date range: a search of all of PACS "
            "is not allowed."
        )
    return criteria


#: a text shown from a search answer at most (PS3.5: LO 64, PN 64 per group, UI 64)
_MAX_TEXT = 256
#: more instances than this in one study is not a count a PACS means
_MAX_INSTANCES = 10_000_000
# what pydicom raises (or warns, made an error by -W error) for a value PACS wrote wrongly
_BAD_VALUE = (ValueError, TypeError, OverflowError, UnicodeError, UserWarning)


def _value(ds: Dataset, keyword: str) -> object:
    """One attribute of a PACS answer as pydicom reads it, or None when it cannot be read: a
    wrong value in one attribute of one study must not lose the whole search."""
    try:
        return ds.get(keyword, None)
    except _BAD_VALUE:
        return None


def _text(ds: Dataset, keyword: str) -> str:
    value = _value(ds, keyword)
    if value is None:
        return ""
    try:
        return str(value)[:_MAX_TEXT]
    except _BAD_VALUE:
        return ""


def _count(ds: Dataset) -> int | None:
    value = _value(ds, "NumberOfStudyRelatedInstances")
    try:
        count = int(value) if isinstance(value, int | float | str) and value != "" else None
    except _BAD_VALUE:
        return None
    return count if count is not None and 0 <= count <= _MAX_INSTANCES else None


def _hit(ds: Dataset) -> StudyHit | None:
    uid = _text(ds, "StudyInstanceUID")
    if not is_uid(uid):
        return None
    modalities = _value(ds, "ModalitiesInStudy")
    if isinstance(modalities, str) or not isinstance(modalities, list | tuple | MultiValue):
        modalities = [modalities]
    return StudyHit(
        study_uid=uid,
        patient_id=_text(ds, "PatientID"),
        patient_name=_text(ds, "PatientName"),
        study_date=_text(ds, "StudyDate"),
        accession=_text(ds, "AccessionNumber"),
        modalities=tuple(m for m in modalities if isinstance(m, str) and 0 < len(m) <= 16),
        description=_text(ds, "StudyDescription"),
        instances=_count(ds),
    )


def search(
    settings: Settings,
    *,
    patient_id: str | None = None,
    accession: str | None = None,
    date_from: dt.date | str | None = None,
    date_to: dt.date | str | None = None,
    modality: str | None = None,
    timeout_s: float | None = None,
    cancel: Callable[[], bool] | None = None,
) -> list[StudyHit]:
    """Studies matching every criterion given (at least a patient ID, an accession number or a
    date), newest first, over the site's query transport. ``cancel`` aborts a C-FIND waiting
    on PACS (the window closing)."""
    target = PacsTarget.from_settings(settings)
    criteria = _criteria(patient_id, accession, date_from, date_to, modality)
    most = target.section.max_results
    if target.section.query == "dicomweb":
        from viewer.pacs import web

        found = web.search_studies(
            target, criteria, fields=_FIELDS, limit=most, timeout_s=timeout_s, cancel=cancel
        )
    else:
        from viewer.pacs import dimse

        query = Dataset()
        for keyword in _FIELDS:
            setattr(query, keyword, criteria.get(keyword, ""))
        found = dimse.find_studies(_capped(target, timeout_s), query, cancel=cancel)
    hits = [hit for hit in (_hit(ds) for ds in found) if hit is not None]
    return sorted(hits, key=lambda h: (h.study_date, h.study_uid), reverse=True)[:most]


def _capped(target: PacsTarget, timeout_s: float | None) -> PacsTarget:
    if timeout_s is None:
        return target
    section = target.section.model_copy(
        update={
            "connect_timeout_s": min(target.section.connect_timeout_s, timeout_s),
            "timeout_s": min(target.section.timeout_s, timeout_s),
        }
    )
    return PacsTarget(section)


def retrieve(
    settings: Settings,
    study_uid: str,
    dest_dir: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    audit: AuditSink | None = None,
) -> list[Path]:
    """Every instance of one study into ``dest_dir`` (``<SOPInstanceUID>.dcm``) over the site's
    query transport. A cancelled or failed retrieval removes what it wrote; a retrieval is
    recorded (``pacs_retrieved``) under the study's pseudonym when ``audit`` is given."""
    target = PacsTarget.from_settings(settings)
    if not is_uid(study_uid):
        raise PacsQueryError(f"{study_uid!r} is not a Study Instance UID.")
    before = set(dest_dir.glob("*.dcm")) if dest_dir.is_dir() else set()
    try:
        if target.section.query == "dicomweb":
            from viewer.pacs import web

            files = web.retrieve_study(
                target, study_uid, dest_dir, progress=progress, cancel=cancel
            )
        else:
            from viewer.pacs import dimse

            files = dimse.get_study(target, study_uid, dest_dir, progress=progress, cancel=cancel)
    except (PacsError, OSError) as exc:
        for path in set(dest_dir.glob("*.dcm")) - before:
            path.unlink(missing_ok=True)
        _record(audit, study_uid, target, error=str(exc), count=0)
        if isinstance(exc, OSError):
            raise PacsError(f"The study cannot be written to {dest_dir}: {exc.strerror}.") from exc
        raise
    if not files:
        _record(audit, study_uid, target, error="PACS holds no instance of it", count=0)
        raise PacsError("PACS returned no instance of this study (it may have been deleted).")
    _record(audit, study_uid, target, error=None, count=len(files))
    return files


def _record(
    audit: AuditSink | None, study_uid: str, target: PacsTarget, *, error: str | None, count: int
) -> None:
    if audit is None:
        return
    event = AuditEvent(
        type=EventType.PACS_RETRIEVED,
        outcome="success" if error is None else "failure",
        reason=error,
        study_uid=study_uid,
        detail={"transport": target.section.query, "instances": count},
    )
    try:
        audit.append(event)
    except AuditError:
        return


def _timed(name: str, run: Callable[[], str]) -> ConnectionCheck:
    started = time.monotonic()
    try:
        message = run()
    except PacsError as exc:
        return ConnectionCheck(name, False, str(exc), time.monotonic() - started)
    return ConnectionCheck(name, True, message, time.monotonic() - started)


def test_connection(
    settings: Settings, *, timeout_s: float = 5.0, cancel: Callable[[], bool] | None = None
) -> list[ConnectionCheck]:
    """C-ECHO (when a DIMSE host is set) and one QIDO-RS request (when a DICOMweb URL is set),
    each passing or failing within ``timeout_s``. Needs no ``enabled``: IT tests before turning
    PACS on."""
    target = PacsTarget.from_settings(settings, require_enabled=False)
    s = target.section
    checks: list[ConnectionCheck] = []
    # the association and, on failure, the diagnosis each get under half the budget
    capped = _capped(target, timeout_s * 0.45)
    if s.host or s.called_aet or s.transport != "dicomweb" or s.query == "dimse":

        def echo() -> str:
            from viewer.pacs import dimse

            elapsed = dimse.echo(capped, cancel=cancel)
            return f"C-ECHO to {target.dimse_address} answered in {elapsed * 1000:.0f} ms."

        checks.append(_timed("C-ECHO", echo))
    if s.dicomweb_url or s.transport != "dimse" or s.query == "dicomweb":

        def qido() -> str:
            from viewer.pacs import web

            web.search_studies(
                target,
                {"StudyDate": "19000101-19000101"},
                fields=("StudyInstanceUID",),
                limit=1,
                timeout_s=timeout_s * 0.9,
                cancel=cancel,
            )
            return f"QIDO-RS search at {target.dicomweb_url} answered."

        checks.append(_timed("QIDO-RS", qido))
    if not checks:
        raise PacsError("Neither a DICOMweb address nor a DIMSE host is set in [pacs].")
    return checks
