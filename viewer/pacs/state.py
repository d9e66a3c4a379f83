"""What a person is shown of a reading's way to PACS: one classification of the outbox's counts
(:func:`pacs_state`) and one wording of it (:func:`state_text`, the English that the window's
``QtPacsStatus`` translates), so the status line, ``bedside pacs send`` and ``bedside pacs outbox
list`` never say different things about the same objects. Light on purpose: the window imports
it at start-up (no pydicom, no network code)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["PacsState", "clock_text", "pacs_state", "state_text"]


@dataclass(frozen=True)
class PacsState:
    """What the reader is shown of PACS: ``off`` (not set up), ``idle`` (nothing sent yet),
    ``queued`` (not tried yet), ``sent`` (``when``: the last acknowledgement), ``waiting`` (a
    retry is due; ``when``: the first failure), ``held`` (PACS refused an item: kept until IT
    retries it; ``error``: its answer), ``blocked`` (objects wait and this workstation will not
    connect until IT fixes its setup: ``error`` says what, e.g. a CA file others can change).
    ``waiting`` counts what is not sent."""

    kind: Literal["off", "idle", "queued", "sent", "waiting", "held", "blocked"]
    when: dt.datetime | None = None
    waiting: int = 0
    error: str = ""


def _aware(stamp: float | None) -> dt.datetime | None:
    return None if stamp is None else dt.datetime.fromtimestamp(stamp, dt.UTC)


def pacs_state(status: Any, *, blocked: str = "") -> PacsState:
    """The state of a delivery status (``viewer.outbox.OutboxStatus`` of one reading or of the
    whole outbox: counts and UNIX times); ``blocked``: why this workstation will not connect now
    (``PacsTarget.ca_file_problem``), which names the cause where "unreachable" would mislead. A
    held refusal outranks it, it outranks a wait, a wait outranks an earlier success."""
    pending, held = int(status.pending), int(status.held)
    error = str(status.last_error or "")
    if held:
        return PacsState("held", _aware(status.failing_since), pending + held, error)
    if pending and blocked:
        return PacsState("blocked", _aware(status.failing_since), pending, blocked)
    if pending and status.failing_since is not None:
        return PacsState("waiting", _aware(status.failing_since), pending, error)
    if pending:
        return PacsState("queued", None, pending)
    if int(status.sent) and status.last_sent is not None:
        return PacsState("sent", _aware(status.last_sent))
    return PacsState("idle")


def clock_text(when: dt.datetime, now: dt.datetime | None = None) -> str:
    """``HH:MM`` today, else ``YYYY-MM-DD HH:MM``, local time (as the decision's time)."""
    local = when.astimezone()
    today = (now or dt.datetime.now().astimezone()).date()
    return local.strftime("%H:%M" if local.date() == today else "%Y-%m-%d %H:%M")


def state_text(state: PacsState) -> str:
    """The line in English ("" for ``off`` and ``idle``); ``QtPacsStatus.text_for`` says the
    same through tr()."""
    when = clock_text(state.when) if state.when is not None else ""
    if state.kind == "sent":
        return f"Sent to PACS {when}"
    if state.kind == "waiting":
        text = f"Waiting: PACS unreachable since {when}"
        if state.waiting > 1:
            text += f" ({state.waiting} objects waiting)"
        return text
    if state.kind == "held":
        return (
            f"Not sent: PACS refused the result ({state.error or 'no reason given'}). It is "
            "kept; IT can send it again (bedside pacs outbox retry)."
        )
    if state.kind == "blocked":
        return (
            f"Not sent to PACS ({state.waiting} waiting): {state.error} They are kept and go "
            "out once this is fixed."
        )
    if state.kind == "queued":
        return "Queued for PACS"
    return ""
