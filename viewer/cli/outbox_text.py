"""How a forwarding queue reads on the command line (``audit central status``, ``audit atna
status``): one shape for every destination's outbox, as JSON fields and as lines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from viewer.audit.forwarding import outbox_status
from viewer.errors import printable

__all__ = ["print_queue", "queue_fields"]


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def queue_fields(path: Path) -> dict[str, Any]:
    """The state of the outbox at ``path`` (zeros when nothing was ever queued)."""
    box = outbox_status(path)
    return {
        "outbox": str(path),
        "pending": box.pending if box else 0,
        "held": box.held if box else 0,
        "sent": box.sent if box else 0,
        "last_sent": _when(box.last_sent) if box else "-",
        "failing_since": _when(box.failing_since) if box else "-",
        "next_attempt": _when(box.next_attempt) if box else "-",
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
        print(f"  failing since {out['failing_since']}; next attempt {out['next_attempt']}")
    if out["last_error"]:
        print(printable(f"  last error: {out['last_error']}"))
