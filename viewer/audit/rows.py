"""Event -> row: validate an :class:`AuditEvent` and turn it into the values of a stored row.

Everything a row holds except what the store adds under its write lock (sequence number, time,
previous hash, hash). Raw identifiers become keyed pseudonyms here, identifying keys in the
caller's ``detail`` are dropped (their names are recorded), and text is made valid UTF-8.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import asdict
from typing import Any

from viewer.audit.chain import canonical_json
from viewer.audit.events import AI_SHOWN, MEANINGS, OUTCOMES, SIGNED_TYPES, AuditEvent, EventType
from viewer.audit.identity import IdentityRequiredError, User
from viewer.audit.pseudonym import Pseudonymizer
from viewer.errors import AuditWriteError


def event_values(
    event: AuditEvent,
    *,
    default_user: User,
    require_named_user: bool,
    app_version: str,
    host: str,
    pseudonymizer: Pseudonymizer | None,
) -> tuple[str, dict[str, Any]]:
    """(what the event is called in messages, its column values except seq/time/hashes).

    ``default_user`` acts when the event names none. Raises :class:`AuditWriteError` (the
    message says the act was NOT saved) for an invalid event or a log without its pseudonym
    secret (opened read-only).
    """
    try:
        etype = EventType(event.type)
    except ValueError:
        raise AuditWriteError(
            f"Unknown audit event type '{event.type}'. The event was NOT saved."
        ) from None
    what = "decision" if etype in SIGNED_TYPES else f"'{etype.value}' event"
    problems = []
    if event.outcome not in OUTCOMES:
        problems.append(f"outcome must be success or failure, not {event.outcome!r}")
    if event.meaning is not None and event.meaning not in MEANINGS:
        problems.append(f"meaning must be confirmed or overrode, not {event.meaning!r}")
    if etype in SIGNED_TYPES and event.meaning is None:
        problems.append("a decision needs its meaning (confirmed or overrode)")
    if event.ai_shown is not None and event.ai_shown not in AI_SHOWN:
        problems.append(f"ai_shown must be before_read or after_read, not {event.ai_shown!r}")
    if etype == EventType.AMENDMENT and event.corrects is None:
        problems.append("an amendment must name the row it corrects")
    if problems:
        raise AuditWriteError(f"The {what} was NOT saved: " + "; ".join(problems) + ".")
    user = event.user or default_user
    if etype in SIGNED_TYPES and require_named_user and not user.name.strip():
        raise IdentityRequiredError(
            "This site requires your printed name before any decision is recorded, and none "
            "is set. Set your name (and role) in the user settings, then record the decision "
            "again. The decision was NOT saved."
        )
    detail, redacted = _redact(dict(event.detail))
    if redacted:
        detail["redacted_keys"] = sorted(redacted)
    numbers: dict[str, float | None] = {}
    for name in ("threshold", "score"):
        value = getattr(event, name)
        if value is not None:
            value = float(value)
            if not math.isfinite(value):
                detail[f"{name}_not_finite"] = repr(value)
                value = None
        numbers[name] = value
    if pseudonymizer is None:
        raise AuditWriteError(f"The {what} was NOT saved: the log is open read-only.")
    p = pseudonymizer.pseudonym
    return what, {
        "event_id": str(uuid.uuid4()),
        "type": etype.value,
        "outcome": event.outcome,
        "user_os": _text(user.os_account) or "",
        "user_name": _text(user.name) or "",
        "user_role": _text(user.role) or "",
        "meaning": event.meaning,
        "app_version": app_version,
        "host": host,
        "model_id": _text(event.model_id),
        "model_version": _text(event.model_version),
        "bundle_digest": _text(event.bundle_digest),
        "threshold": numbers["threshold"],
        "score": numbers["score"],
        "ai_finding": _text(event.ai_finding),
        "clinician_finding": _text(event.clinician_finding),
        "reason": _text(event.reason),
        "ai_shown": event.ai_shown,
        "patient_pseudonym": p("patient", event.patient_id),
        "study_pseudonym": p("study", event.study_uid),
        "series_pseudonym": p("series", event.series_uid),
        "sop_pseudonym": p("sop", event.sop_uid),
        "accession_pseudonym": p("accession", event.accession),
        "pseudonym_key": pseudonymizer.key_id,
        "corrects": int(event.corrects) if event.corrects is not None else None,
        "detail_json": canonical_json(_jsonable(detail)),
    }


# Detail keys that would carry identifying data (DICOM (0010,0010) Patient's Name,
# (0010,0030) Patient's Birth Date, raw IDs and UIDs): dropped, and their names recorded.
_IDENTIFYING_KEYS = frozenset(
    {
        "patientname",
        "patientsname",
        "name",
        "birthdate",
        "patientbirthdate",
        "patientsbirthdate",
        "dob",
        "patientid",
        "accession",
        "accessionnumber",
        "studyinstanceuid",
        "seriesinstanceuid",
        "sopinstanceuid",
        "otherpatientids",
        "patientaddress",
        "patientsaddress",
    }
)


def _redact(value: Any, found: set[str] | None = None) -> tuple[Any, set[str]]:
    """Remove identifying keys from caller-provided detail (defence in depth: the log must never
    hold patient names, birth dates or raw identifiers, even by a caller's mistake)."""
    found = set() if found is None else found
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            norm = "".join(ch for ch in str(key).lower() if ch.isalnum())
            if norm in _IDENTIFYING_KEYS:
                found.add(str(key))
                continue
            out[key] = _redact(item, found)[0]
        return out, found
    if isinstance(value, list | tuple):
        return [_redact(item, found)[0] for item in value], found
    return value, found


def _text(value: Any) -> str | None:
    """Stored text: valid UTF-8 (lone surrogates replaced), or None."""
    if value is None:
        return None
    return str(value).encode("utf-8", "replace").decode("utf-8")


def _jsonable(value: Any) -> Any:
    """Detail values as JSON (non-finite floats and unknown objects become strings)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return _text(value)
    if hasattr(value, "__dataclass_fields__"):
        return _jsonable(asdict(value))
    return _text(str(value))
