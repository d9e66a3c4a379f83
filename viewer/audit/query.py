"""Which rows to read: stored time text, :class:`Filters`, and the SQL ``WHERE`` they become.

Times are stored as UTC text with microseconds (:data:`TIME_FORMAT`), which sorts in time
order, so a time filter is a text comparison. The patient filter compares pseudonyms: the caller
supplies the keyed pseudonym function (the raw patient ID never reaches SQL or the report).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from viewer.errors import AuditError

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_now_text() -> str:
    return datetime.now(UTC).strftime(TIME_FORMAT)


def to_time_text(value: datetime | date | str) -> str:
    """A bound for time filters in the stored format (naive datetimes are taken as UTC).

    The year is always four digits (``strftime('%Y')`` gives ``1`` for year 1, which would sort
    after ``2026``); a bound beyond year 1..9999 once moved to UTC is an :class:`AuditError`.
    """
    original = value
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise AuditError(f"'{value}' is not a date or date-time (use YYYY-MM-DD).") from exc
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0), tzinfo=UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        v = value.astimezone(UTC)
    except OverflowError as exc:
        raise AuditError(
            f"'{original}' is out of the supported date range (years 1-9999)."
        ) from exc
    return (
        f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}."
        f"{v.microsecond:06d}Z"
    )


@dataclass(frozen=True)
class Filters:
    """Which rows to show or export. ``end`` is exclusive; ``user`` matches account or name."""

    start: datetime | date | str | None = None
    end: datetime | date | str | None = None
    user: str | None = None
    model: str | None = None
    patient_id: str | None = None
    types: tuple[str, ...] | None = None
    # one image by its SOP Instance UID (searched by pseudonym, like the patient; no index: for
    # the rare image without a Patient ID, or with a patient filter that narrows it first)
    sop_uid: str | None = None

    def describe(self) -> list[tuple[str, str]]:
        """(label, value) pairs for the report scope; never the raw patient ID."""
        out: list[tuple[str, str]] = []
        if self.start is not None:
            out.append(("From (UTC)", to_time_text(self.start)[:19].replace("T", " ")))
        if self.end is not None:
            out.append(("Before (UTC)", to_time_text(self.end)[:19].replace("T", " ")))
        if self.user:
            out.append(("User", self.user))
        if self.model:
            out.append(("Model", self.model))
        if self.patient_id:
            out.append(("Patient", "one patient (searched by pseudonym)"))
        if self.sop_uid:
            out.append(("Image", "one image (searched by pseudonym)"))
        if self.types:
            out.append(("Event types", ", ".join(self.types)))
        return out

    def as_dict(self) -> dict[str, Any]:
        """For the report_exported event: no raw patient ID."""
        return {label: value for label, value in self.describe()}


def where_clause(
    filters: Filters, pseudonym: Callable[[str, str | None], str | None]
) -> tuple[str, list[Any]]:
    """`` WHERE ...`` (or an empty string) and its bound parameters for ``filters``.

    ``pseudonym(kind, value)`` turns the patient ID into the stored pseudonym; it is only called
    when the filters name a patient.
    """
    clauses: list[str] = []
    params: list[Any] = []
    if filters.start is not None:
        clauses.append("time >= ?")
        params.append(to_time_text(filters.start))
    if filters.end is not None:
        clauses.append("time < ?")
        params.append(to_time_text(filters.end))
    if filters.user:
        clauses.append("(user_os = ? OR user_name LIKE ?)")
        params += [filters.user, f"%{filters.user}%"]
    if filters.model:
        clauses.append("(model_id = ? OR model_id || ' ' || model_version = ? "
                       "OR model_id || '@' || model_version = ?)")  # fmt: skip
        params += [filters.model] * 3
    if filters.patient_id:
        clauses.append("patient_pseudonym = ?")
        params.append(pseudonym("patient", filters.patient_id))
    if filters.sop_uid:
        clauses.append("sop_pseudonym = ?")
        params.append(pseudonym("sop", filters.sop_uid))
    if filters.types:
        clauses.append(f"type IN ({', '.join('?' * len(filters.types))})")
        params += list(filters.types)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params
