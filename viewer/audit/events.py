"""What goes into the audit log: event types, the event a caller appends, the record it gets back.

The fields follow the DESIGN audit row and map onto FHIR R4 AuditEvent/Provenance and DICOM
PS3.15 A.5 audit messages (who, what, when, outcome, which object) on export.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from viewer.audit.identity import User
from viewer.errors import AuditError


class EventType(StrEnum):
    """Every kind of row; the value is what is stored."""

    APP_START = "app_start"
    APP_STOP = "app_stop"
    BUNDLE_VERIFIED = "bundle_verified"
    BUNDLE_REFUSED = "bundle_refused"
    BUNDLE_INSTALLED = "bundle_installed"
    BUNDLE_ACTIVATED = "bundle_activated"
    BUNDLE_ROLLED_BACK = "bundle_rolled_back"
    IMAGE_OPENED = "image_opened"
    # the view written to a PNG or printed (viewer.session.export): header choice and overlays,
    # the image's pseudonyms, never the file's name or content
    IMAGE_EXPORTED = "image_exported"
    AI_RESULT_SHOWN = "ai_result_shown"
    DECISION = "decision"
    AMENDMENT = "amendment"
    REPORT_EXPORTED = "report_exported"
    VERIFICATION = "verification"
    SITE_THRESHOLD_SET = "site_threshold_set"  # a site amendment (viewer.session.site_thresholds)
    LOG_STARTED = "log_started"  # IT started a new log after the old one was lost (first row)
    MONITOR_ALERT = "monitor_alert"  # the drift monitor flagged a window (viewer.monitoring)
    CHANGE_RECORD = "change_record"  # a signed change record (viewer.audit.change_record)
    # shadow mode (issue 16 item 1): a candidate version set / unset to score beside the active
    # one (viewer.bundle.store), and its score of one image, recorded and never shown to a reader
    SHADOW_STARTED = "shadow_started"
    SHADOW_STOPPED = "shadow_stopped"
    SHADOW_RESULT = "shadow_result"
    # PACS (issue 17, viewer.pacs.delivery): one object acknowledged by PACS, or one attempt
    # that failed (transport down: retried; rejected: held); studies retrieved from PACS
    # (viewer.pacs.query). Pseudonymised UIDs; the destination and the error in detail.
    PACS_SENT = "pacs_sent"
    PACS_SEND_FAILED = "pacs_send_failed"
    PACS_RETRIEVED = "pacs_retrieved"
    # a saved reading handed to the PACS outbox (viewer.session.pacs_link): its objects queued,
    # or why they could not be built or queued (the decision itself is saved either way)
    PACS_QUEUED = "pacs_queued"
    PACS_NOT_QUEUED = "pacs_not_queued"
    # audit forwarding (issue 18): the ATNA repository's certificate was not trusted, or it
    # refused this workstation's (IHE ITI-19: a secure node records node-authentication
    # failures); once per failure that starts, not per retry (viewer.audit.forwarding)
    NODE_AUTHENTICATION_FAILED = "node_authentication_failed"


Outcome = Literal["success", "failure"]
Meaning = Literal["confirmed", "overrode"]
AiShown = Literal["before_read", "after_read"]

OUTCOMES: frozenset[str] = frozenset({"success", "failure"})
MEANINGS: frozenset[str] = frozenset({"confirmed", "overrode"})
AI_SHOWN: frozenset[str] = frozenset({"before_read", "after_read"})

# Rows no view or export meant for reading shows (a reader must never see a candidate's output):
# the AI panel, worklist and reading views read ``ai_result_shown``; the audit window lists these
# only when asked for by type; ``bedside model compare`` reads them.
READER_HIDDEN_TYPES: frozenset[str] = frozenset({EventType.SHADOW_RESULT})

# Events that are a clinician's signed act (21 CFR 11.50): they need a meaning.
SIGNED_TYPES: frozenset[str] = frozenset({EventType.DECISION, EventType.AMENDMENT})


class ExportCancelledError(AuditError):
    """The export was cancelled; no file was written."""


@dataclass
class AuditEvent:
    """One thing to record. Identifiers are raw here; the log stores only their pseudonyms.

    ``user`` None means the log's current user. ``corrects`` is the sequence number of the row
    an amendment corrects (the corrected row itself is never changed).
    """

    type: EventType | str
    outcome: Outcome = "success"
    user: User | None = None
    meaning: Meaning | None = None
    model_id: str | None = None
    model_version: str | None = None
    bundle_digest: str | None = None
    threshold: float | None = None
    score: float | None = None
    ai_finding: str | None = None
    clinician_finding: str | None = None
    reason: str | None = None
    ai_shown: AiShown | None = None
    patient_id: str | None = None
    study_uid: str | None = None
    series_uid: str | None = None
    sop_uid: str | None = None
    accession: str | None = None
    corrects: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditRecord:
    """A committed row, exactly as stored (and as hashed)."""

    seq: int
    time: str  # UTC, ISO 8601 with microseconds and "Z"
    event_id: str
    type: str
    outcome: str
    user_os: str
    user_name: str
    user_role: str
    meaning: str | None
    app_version: str
    host: str
    model_id: str | None
    model_version: str | None
    bundle_digest: str | None
    threshold: float | None
    score: float | None
    ai_finding: str | None
    clinician_finding: str | None
    reason: str | None
    ai_shown: str | None
    patient_pseudonym: str | None
    study_pseudonym: str | None
    series_pseudonym: str | None
    sop_pseudonym: str | None
    accession_pseudonym: str | None
    pseudonym_key: str
    corrects: int | None
    detail_json: str
    prev_hash: str
    hash: str

    @property
    def detail(self) -> dict[str, Any]:
        value = json.loads(self.detail_json) if self.detail_json else {}
        return value if isinstance(value, dict) else {"value": value}

    @property
    def user(self) -> User:
        return User(os_account=self.user_os, name=self.user_name, role=self.user_role)

    @property
    def when(self) -> datetime:
        return datetime.strptime(self.time, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)

    @property
    def ai_positive(self) -> bool | None:
        """Score at or above the threshold (the model's own rule); None without both."""
        if self.score is None or self.threshold is None:
            return None
        return self.score >= self.threshold

    @property
    def model(self) -> str:
        """``id version`` or an empty string."""
        if not self.model_id:
            return ""
        return f"{self.model_id} {self.model_version or ''}".strip()

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (detail parsed)."""
        out: dict[str, Any] = {name: getattr(self, name) for name in RECORD_FIELDS}
        out.pop("detail_json")
        out["detail"] = self.detail
        return out


RECORD_FIELDS: tuple[str, ...] = tuple(AuditRecord.__dataclass_fields__)
