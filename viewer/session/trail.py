"""Where a reading's audit rows go: the open log, or — while it is still opening — a short queue.

Why: the window opens the log in a worker (it imports the audit package and touches the disk,
~0.3 s) so it can be shown at once; rows made meanwhile wait here and are written, in order, as
soon as the log is open. A log that cannot be opened is remembered with its reason: queued rows
are then dropped *with that reason shown*, and a decision is refused rather than called saved.
Thread-safe for the one case that crosses threads: a model load waits (:meth:`wait_open`) for the
log on another thread so its ``bundle_verified`` row is recorded.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from viewer.config import Settings
from viewer.errors import AuditError, BedsideError

if TYPE_CHECKING:
    from viewer.audit.events import AuditRecord
    from viewer.audit.forwarding import Forwarder
    from viewer.audit.store import AuditLog

__all__ = ["AppendOutcome", "AuditTrail"]


@dataclass(frozen=True)
class AppendOutcome:
    """What became of one row: written (``record``), waiting for the log, or failed (``error``)."""

    record: AuditRecord | None = None
    queued: bool = False
    error: str = ""

    @property
    def written(self) -> bool:
        return self.record is not None


@dataclass
class AuditTrail:
    """The session's handle on the audit log (``None`` until attached)."""

    settings: Settings
    log: AuditLog | None = None
    error: str = ""
    _pending: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _ready: threading.Event = field(default_factory=threading.Event)
    _forwarders: list[Forwarder] = field(default_factory=list)
    #: why forwarding (department store, ATNA) could not start; the log itself works
    forwarding_error: str = ""

    def __post_init__(self) -> None:
        if self.log is not None:
            self._start_forwarding(self.log)
            self._ready.set()

    @property
    def is_open(self) -> bool:
        return self.log is not None

    @property
    def settled(self) -> bool:
        """The log is open or has failed to open (nothing is waiting for it any more)."""
        return self._ready.is_set()

    def attach(self, log: AuditLog) -> list[AppendOutcome]:
        """The log is open: start forwarding its rows where the site configured it (issue 18:
        the department store, the ATNA repository; each commit only wakes their threads), then
        write the queued rows, in order; returns their outcomes."""
        self.log = log
        self.error = ""
        self._start_forwarding(log)
        self._ready.set()
        pending, self._pending = self._pending, []
        return [self.append(type_, **fields) for type_, fields in pending]

    def _start_forwarding(self, log: AuditLog) -> None:
        from viewer.audit.destinations import start_forwarders

        try:
            self._forwarders = start_forwarders(self.settings, log)
        except BedsideError as exc:  # rows stay in the log; `bedside audit ... send` catches up
            self.forwarding_error = str(exc)

    def forwarder_errors(self) -> dict[Path, str]:
        """Each running forwarder's last error by its destination's outbox file: the window's
        forwarding status reads it on its poll thread (plain attribute reads)."""
        return {
            Path(f.destination.outbox_path): f.last_error
            for f in list(self._forwarders)
            if f.last_error
        }

    def open_failed(self, reason: str) -> int:
        """The log cannot be opened; returns how many queued rows are lost with ``reason``."""
        self.error = reason
        self._ready.set()
        lost, self._pending = len(self._pending), []
        return lost

    def stop_waiting(self) -> None:
        """Shutting down: a model load waiting for the log must not hold the app."""
        self._ready.set()

    def wait_open(self, timeout: float) -> AuditLog | None:
        """The log once it is open (from any thread), or None after ``timeout`` or a failure."""
        return self.log if self._ready.wait(timeout) else None

    def append(self, type_: str, **fields: Any) -> AppendOutcome:
        """Write one non-decision row as the current user; never raises for a failed write."""
        if self.log is None:
            if not self._ready.is_set():
                self._pending.append((type_, fields))
                return AppendOutcome(queued=True)
            return AppendOutcome(error=self.error or "The audit log is not open.")
        from viewer.audit import AuditEvent, current_user

        try:
            record = self.log.append(
                AuditEvent(type=type_, user=current_user(self.settings), **fields)
            )
        except AuditError as exc:
            return AppendOutcome(error=str(exc))
        return AppendOutcome(record=record)

    def close(self) -> None:
        if self._forwarders:
            from viewer.audit.forwarding import stop_forwarders

            stop_forwarders(self._forwarders, self.log, timeout=2.0)
            self._forwarders = []
        if self.log is not None:
            self.log.close()
            self.log = None
