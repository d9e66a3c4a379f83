"""Recording bundle events in the audit log (viewer.audit), kept in one place.

The bundle layer only needs ``AuditLog.append(AuditEvent(...))``; events carry the bundle digest,
the signing key's fingerprint, the outcome and the reason (DESIGN.md, audit log events).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

from viewer.audit import AuditEvent, EventType
from viewer.errors import AuditWriteError


class AuditSink(Protocol):
    """What the bundle layer needs of ``viewer.audit.AuditLog``."""

    def append(self, event: Any) -> Any: ...

    def append_all(self, events: Sequence[Any]) -> Any: ...


def record(
    audit: AuditSink | None,
    event_type: str,
    *,
    outcome: Literal["success", "failure"],
    model_id: str | None = None,
    model_version: str | None = None,
    bundle_digest: str | None = None,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
    also: Sequence[AuditEvent] = (),
) -> None:
    """Append one bundle event (with ``also``, those rows in the same transaction: the signed
    change record of an activation); a failed write raises AuditWriteError (not recorded)."""
    if audit is None:
        return
    event = AuditEvent(
        type=EventType(event_type),
        outcome=outcome,
        model_id=model_id,
        model_version=model_version,
        bundle_digest=bundle_digest,
        reason=reason,
        detail=dict(detail or {}),
    )
    try:
        if also:
            audit.append_all([event, *also])
        else:
            audit.append(event)
    except AuditWriteError:
        raise
    except Exception as exc:  # an audit bug must never look like a recorded act
        raise AuditWriteError(
            f"The audit log did not record the {event_type} event ({exc})."
        ) from exc
