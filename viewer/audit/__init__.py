"""The tamper-evident audit log: SQLite store, hash chain, signed checkpoints, pseudonyms, reports.

Public API (ARCHITECTURE.md, "Public faces"): :class:`AuditLog`, :class:`AuditEvent`,
:class:`AuditRecord`, :class:`EventType`, :class:`User`, :func:`current_user`,
:func:`verify_log`. Reports and exports live in :mod:`viewer.audit.export` and
:mod:`viewer.audit.report` (imported on demand: reportlab is only loaded when a PDF is made).
"""

from viewer.audit.checkpoints import Checkpoint, InstallationKey
from viewer.audit.events import AuditEvent, AuditRecord, EventType, ExportCancelledError
from viewer.audit.export import ExportResult, export, export_report
from viewer.audit.identity import IdentityRequiredError, User, current_user, require_named_user
from viewer.audit.query import Filters
from viewer.audit.store import AuditLog
from viewer.audit.verify import CheckpointCheck, VerifyResult, verify_log

__all__ = [
    "AuditEvent",
    "AuditLog",
    "AuditRecord",
    "Checkpoint",
    "CheckpointCheck",
    "EventType",
    "ExportCancelledError",
    "ExportResult",
    "Filters",
    "IdentityRequiredError",
    "InstallationKey",
    "User",
    "VerifyResult",
    "current_user",
    "export",
    "export_report",
    "require_named_user",
    "verify_log",
]
