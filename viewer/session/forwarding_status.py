"""Where this workstation's audit rows stand on their way out (issue 18): one state per configured
destination — the department audit store (``[audit_central]``) and the hospital's ATNA audit
repository (``[atna]``) — for the window's status bar, the audit window and ``bedside site
check``.

Why: the forwarders (``viewer.audit.forwarding.Forwarder``) work in the background and a failure
leaves the rows safely queued, so nothing at the workstation showed that the copy kept elsewhere
(the one that proves what the local chain cannot) had stopped growing hours ago. The state is
read from the destination's outbox file, read-only and in one read transaction
(:class:`viewer.outbox.OutboxReader`: a few SQLite reads, never the network), plus what the
running forwarders know that the outbox cannot (forwarding could not start, a feed failed before
anything was queued). :meth:`ForwardingStatus.poll` is the callable the window runs off the GUI
thread; :func:`classify` and :func:`state_text` are the one classification and English wording
(the window says the same through ``tr()``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from viewer.config import Settings
from viewer.errors import AuditError, BedsideError
from viewer.outbox import OutboxReader, OutboxStatus
from viewer.paths import stat_setting

__all__ = [
    "DESTINATIONS",
    "ForwardingState",
    "ForwardingStatus",
    "RunningForwarding",
    "classify",
    "configured",
    "state_text",
    "utc_text",
]

Destination = Literal["central", "atna"]
Kind = Literal["up_to_date", "sending", "failing", "held", "stopped"]

#: every destination: its name as a person reads it, the command IT runs for its details, and
#: the one that sends held rows again once the cause is resolved
DESTINATIONS: dict[Destination, tuple[str, str, str]] = {
    "central": (
        "Department audit store",
        "bedside audit central status",
        "bedside audit central retry",
    ),
    "atna": (
        "Hospital audit repository (ATNA)",
        "bedside audit atna status",
        "bedside audit atna send --once",
    ),
}


@dataclass(frozen=True)
class ForwardingState:
    """One destination's state. ``kind``: ``up_to_date`` (nothing waits), ``sending`` (rows
    queued, no failure yet), ``failing`` (rows wait after a failed attempt; ``error``: the last
    one), ``held`` (the destination refused rows: kept until IT retries them), ``stopped``
    (forwarding is not running or its outbox cannot be read; ``error`` says why). ``since``:
    when the oldest waiting row was queued; ``waiting`` counts held rows too."""

    destination: Destination
    kind: Kind
    outbox: str
    waiting: int = 0
    held: int = 0
    sent: int = 0
    since: dt.datetime | None = None
    failing_since: dt.datetime | None = None
    last_sent: dt.datetime | None = None
    error: str = ""

    @property
    def name(self) -> str:
        return DESTINATIONS[self.destination][0]

    @property
    def command(self) -> str:
        return DESTINATIONS[self.destination][1]

    @property
    def retry_command(self) -> str:
        return DESTINATIONS[self.destination][2]

    @property
    def warning(self) -> bool:
        """Shown as a warning: rows are not reaching the destination."""
        return _bad(self.kind)


class RunningForwarding(Protocol):
    """What the running app knows beyond the outboxes (``viewer.session.trail.AuditTrail``)."""

    @property
    def forwarding_error(self) -> str:
        """Why forwarding could not start (every destination)."""
        ...

    @property
    def error(self) -> str:
        """Why the audit log could not be opened (nothing is forwarded then)."""
        ...

    def forwarder_errors(self) -> Mapping[Path, str]:
        """Each running forwarder's last error, by its destination's outbox file."""
        ...


def _aware(stamp: float | None) -> dt.datetime | None:
    return None if stamp is None else dt.datetime.fromtimestamp(stamp, dt.UTC)


def classify(
    destination: Destination,
    outbox: Path,
    status: OutboxStatus | None,
    error: str = "",
    *,
    unqueued: int = 0,
) -> ForwardingState:
    """The state of one destination from its outbox's status (None: nothing queued yet), the
    local log's rows not yet queued (``unqueued``: the app's forwarder feeds them within a
    moment; with the app closed they wait for its next start or ``bedside audit ... send``) and
    ``error``, what the running app knows beyond the outbox (forwarding did not start, the last
    pass failed). A held refusal outranks a failure, a failure outranks rows waiting their
    turn."""
    pending = unqueued + (status.pending if status else 0)
    held = status.held if status else 0
    failing_since = _aware(status.failing_since) if status else None
    if held:
        kind: Kind = "held"
    elif error and not (status and status.pending):
        kind = "stopped"  # nothing in the queue moves because nothing reaches it
    elif pending and (failing_since is not None or error):
        kind = "failing"
    elif pending:
        kind = "sending"
    else:
        kind = "up_to_date"
    return ForwardingState(
        destination,
        kind,
        str(outbox),
        waiting=pending + held,
        held=held,
        sent=status.sent if status else 0,
        since=_aware(status.oldest_pending) if status else None,
        failing_since=failing_since,
        last_sent=_aware(status.last_sent) if status else None,
        error=((status.last_error if status else None) or error) if _bad(kind) else "",
    )


def _bad(kind: Kind) -> bool:
    return kind in ("failing", "held", "stopped")


def utc_text(when: dt.datetime) -> str:
    """A time as IT reads it on the command line (UTC, as logs and servers write it)."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def state_text(state: ForwardingState, clock: Callable[[dt.datetime], str] = utc_text) -> str:
    """The line in English (``bedside site check``); ``QtForwardingStatus.text_for`` says the
    same through tr()."""
    since = clock(state.since) if state.since is not None else ""
    reason = f" — {state.error}" if state.error else ""
    if state.kind == "up_to_date":
        return f"{state.name}: up to date"
    if state.kind == "sending":
        return f"{state.name}: {_rows(state.waiting)} waiting to be sent"
    if state.kind == "held":
        return (
            f"{state.name}: {_rows(state.held)} refused and held, {_rows(state.waiting)} "
            f"waiting since {since}{reason}"
        )
    if state.kind == "failing":
        return f"{state.name}: {_rows(state.waiting)} waiting since {since}{reason}"
    return f"{state.name}: not forwarding{reason}"


def configured(settings: Settings) -> list[tuple[Destination, Path]]:
    """The destinations the site turned on, with their outbox files, in a fixed order."""
    found: list[tuple[Destination, Path]] = []
    if settings.values.audit_central.enabled:
        found.append(("central", settings.central_outbox_path))
    if settings.values.atna.enabled:
        found.append(("atna", settings.atna_outbox_path))
    return found


class ForwardingStatus:
    """Polls the configured destinations' outboxes (see the module docstring). ``trail``: the
    running app's, whose forwarders' errors complete the outbox's picture; without it (the
    command line) only the outbox files are read."""

    def __init__(self, settings: Settings, trail: RunningForwarding | None = None) -> None:
        self.settings = settings
        self.trail = trail

    def apply_settings(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def destinations(self) -> list[Destination]:
        return [name for name, _ in configured(self.settings)]

    def poll(self) -> list[ForwardingState]:
        """One state per configured destination (none: nothing configured). Reads a few rows
        of SQLite per destination and never the network: safe for a timer, never on the GUI
        thread all the same (a slow disk)."""
        errors: Mapping[Path, str] = {}
        common = ""
        if self.trail is not None:
            errors = self.trail.forwarder_errors()
            common = self.trail.forwarding_error or self.trail.error
        states = []
        for destination, outbox in configured(self.settings):
            error = errors.get(outbox) or common
            try:
                status, unqueued = _read(self.settings, outbox)
            except BedsideError as exc:  # the outbox or the log is unreadable: nothing moves
                states.append(ForwardingState(destination, "stopped", str(outbox), error=str(exc)))
                continue
            states.append(classify(destination, outbox, status, error, unqueued=unqueued))
        return states


def _read(settings: Settings, outbox: Path) -> tuple[OutboxStatus | None, int]:
    """The outbox's status and how many rows of the local log it does not hold yet (the log's
    head read first: a row queued meanwhile is never counted twice). A log that cannot be read
    adds no count: it is being made (the window's first start opens it meanwhile), or it is
    broken, which the window says itself (its trail's error) and a forwarder that cannot read
    it reports (``forwarder_errors``)."""
    from viewer.audit.forwarding import watermark  # the audit package: not at window start-up
    from viewer.audit.store import AuditLog

    head, log_id = 0, ""
    # stat_setting, not Path.exists: a link loop is no "not there yet" (nor "up to date"), and a
    # path the system will not look up (permissions, a name too long) is its sentence, not an
    # OSError out of poll
    if stat_setting(settings.audit_db_path, "The audit log") is not None:
        try:
            with AuditLog.open_readonly(settings.audit_db_path) as log:
                head, log_id = log.head()[0], log.log_id
        except AuditError:
            head, log_id = 0, ""
    if stat_setting(outbox, "The outbox") is None and not outbox.is_symlink():
        return None, head  # nothing queued yet (a dangling link: the reader's sentence)
    with OutboxReader(outbox) as reader:
        status = reader.status()
        queued = watermark(reader, log_id) if log_id else head
    return status, max(0, head - queued)
