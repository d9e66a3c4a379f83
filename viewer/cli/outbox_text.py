"""How an outbox reads on the command line (``pacs outbox list``, ``audit central status``,
``audit atna status``, ``audit forward``, ``audit atna send``): one shape for every
destination's queue, as JSON fields and as lines, with the same words and the same clock."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from viewer.audit.forwarding import PassResult, outbox_status
from viewer.errors import printable
from viewer.outbox import OutboxStatus

__all__ = ["print_pass", "print_queue", "queue_fields", "when"]


def when(ts: float | None) -> str:
    """A queue time as IT reads it in every outbox's output (UTC: logs and servers use it)."""
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def queue_fields(path: Path, status: OutboxStatus | None = None) -> dict[str, Any]:
    """The state of the outbox at ``path`` (``status`` when the caller has it open already;
    zeros when nothing was ever queued)."""
    box = status if status is not None else outbox_status(path)
    return {
        "outbox": str(path),
        "pending": box.pending if box else 0,
        "held": box.held if box else 0,
        "sent": box.sent if box else 0,
        "last_sent": when(box.last_sent) if box else "-",
        "oldest_waiting": when(box.oldest_pending) if box else "-",
        "failing_since": when(box.failing_since) if box else "-",
        "next_attempt": when(box.next_attempt) if box else "-",
        "last_error": box.last_error if box else None,
    }


def print_queue(out: dict[str, Any]) -> None:
    """What waits, since when it fails and why, for a person."""
    print(
        printable(
            f"Outbox {out['outbox']}: {out['pending']} waiting, {out['held']} held, "
            f"{out['sent']} sent (last {out['last_sent']})"
        )
    )
    if out["pending"] or out["held"]:
        print(
            f"  waiting since {out['oldest_waiting']}; failing since {out['failing_since']}; "
            f"next attempt {out['next_attempt']}"
        )
    if out["last_error"]:
        print(printable(f"  last error: {out['last_error']}"))


def print_pass(result: PassResult) -> None:
    """One forwarding pass (``audit forward``, ``audit atna send``): the counts on stdout, the
    error as a warning on stderr (the exit code says whether anything still waits)."""
    status = result.status
    print(
        f"Queued {result.queued}, sent {result.sent}; {status.pending} waiting, {status.held} "
        "held in the outbox."
    )
    if result.error:
        print(printable(f"bedside: warning: {result.error}"), file=sys.stderr)
