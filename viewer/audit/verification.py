"""Verify this installation's audit log and record that a verification ran.

The checks themselves are :func:`viewer.audit.verify.verify_log` (pure reading, any log, also a
copy); this module is the recorded action around them for this installation's own log.

The command line (``bedside audit verify``) and the audit window do the same thing, so they call
this one function: open the log for writing if possible, else read-only (a quality lead may
verify a log on read-only media) and say that the run was not recorded; verify the chain, the
triggers, the stored checkpoints and any checkpoint files from earlier reports; then append a
``verification`` event with the outcome (21 CFR 11.10(e): the audit trail records its own checks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from viewer.audit.checkpoints import Checkpoint
from viewer.audit.events import AuditEvent, EventType
from viewer.audit.identity import current_user
from viewer.audit.state import history_evidence
from viewer.audit.store import AuditLog, AuditLogMissingError
from viewer.audit.verify import VerifyResult, verify_log
from viewer.config import Settings
from viewer.errors import AuditError, AuditWriteError


@dataclass(frozen=True)
class RecordedVerification:
    result: VerifyResult
    recorded: bool
    warning: str | None  # why the run was not recorded, for the person who ran it


def verify_and_record(
    settings: Settings, checkpoint_files: Sequence[Path] = (), *, source: str
) -> RecordedVerification:
    """Verify the installation's log; ``source`` ("cli" or "gui") goes into the event."""
    checkpoints = [(f"checkpoint file {p}", Checkpoint.read(Path(p))) for p in checkpoint_files]
    if not settings.audit_db_path.exists() and history_evidence(settings) is None:
        raise AuditError(f"There is no audit log at {settings.audit_db_path} yet.")
    warning: str | None = None
    writable = True
    try:
        log = AuditLog.open(settings)
    except AuditLogMissingError:
        raise
    except AuditWriteError as exc:
        log = AuditLog.open_readonly(settings.audit_db_path, settings=settings)
        writable = False
        warning = (
            "the audit log cannot be written, so it was verified read-only and this "
            f"verification is NOT recorded in it ({exc})"
        )
    recorded = False
    try:
        result = verify_log(log, checkpoints)
        if writable:
            try:
                log.append(
                    AuditEvent(
                        type=EventType.VERIFICATION,
                        outcome="success" if result.ok else "failure",
                        user=current_user(settings),
                        detail={
                            "rows": result.rows,
                            "head_hash": result.head_hash,
                            "first_bad_seq": result.first_bad_seq,
                            "problems": list(result.problems[:10]),
                            "checkpoint_files": [str(p) for p in checkpoint_files],
                            "source": source,
                        },
                    )
                )
                recorded = True
            except AuditWriteError as exc:
                warning = f"this verification was not recorded: {exc}"
    finally:
        log.close()
    return RecordedVerification(result=result, recorded=recorded, warning=warning)
