"""Forwarding committed audit rows off the workstation (issue 18): to the department store and to
the hospital's ATNA audit repository, each through its own durable outbox (:mod:`viewer.outbox`).

The local log stays the source of truth. A destination's outbox is *fed* from the log in sequence
order, keyed ``<log id>:<seq>`` so a retry, a crash or a second process never queues a row twice,
and the outbox's newest key is the watermark the next feed resumes after
(:meth:`Outbox.last_key`). It is *drained* in order, a batch at a time
(:meth:`Outbox.drain_batches`): the destination's ``send`` confirms a batch or raises, and an
unconfirmed batch stays queued.

The running app hooks the log once (:meth:`AuditLog.add_listener`): the listener only wakes a
background thread per destination, so a local append pays for setting an event, not for a disk
sync or a network round trip. Rows written by other processes (``bedside`` commands) or before a
crash are picked up by the next feed, and ``bedside audit atna send`` feeds before it drains.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from viewer.audit.events import AuditEvent, AuditRecord
from viewer.audit.store import AuditLog
from viewer.config import Settings
from viewer.errors import AuditError, BedsideError
from viewer.outbox import (
    Backoff,
    DrainResult,
    Outbox,
    OutboxError,
    OutboxItem,
    OutboxReader,
    OutboxStatus,
)

__all__ = [
    "Destination",
    "ForwardResult",
    "Forwarder",
    "PassResult",
    "RaisesAlarms",
    "Recorder",
    "feed",
    "forward",
    "forward_pass",
    "outbox_status",
    "row_key",
    "stop_forwarders",
    "watermark",
    "went_back",
]


class Destination(Protocol):
    """One place rows are forwarded to. Delivery is at least once: the receiver is idempotent
    on the row key (the department store) or can drop a repeat by it (ATNA's structured data)."""

    @property
    def name(self) -> str:
        """In messages: "the ATNA audit repository"."""
        ...

    @property
    def outbox_path(self) -> Path: ...

    def encode(self, log_id: str, record: AuditRecord) -> bytes:
        """The payload queued for one row of log ``log_id`` (built once, when queued)."""
        ...

    def send(self, items: list[OutboxItem]) -> None:
        """Deliver a batch, all or nothing: return only when the receiver has it, else raise
        (``PermanentSendError`` for a rejection)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class RaisesAlarms(Protocol):
    """A destination that asks for one local audit row when it starts failing for a security
    reason (ATNA: node authentication), rather than a row per retry."""

    def alarm_event(self, previous_error: str | None) -> AuditEvent | None:
        """The row to record after a pass, given the queue's error before it; None: nothing."""
        ...


Recorder = Callable[[AuditEvent], object]


def row_key(log_id: str, seq: int) -> str:
    """The outbox key of one row: zero-padded so keys sort as sequence numbers do."""
    return f"{log_id}:{seq:012d}"


def watermark(outbox: Outbox | OutboxReader, log_id: str) -> int:
    """The sequence number of the newest row of ``log_id`` already queued (0: none); from an
    outbox read-only too (how far behind the queue is, issue 18's forwarding status)."""
    key = outbox.last_key(log_id)
    if key is None:
        return 0
    try:
        return int(key.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        raise OutboxError(
            f"The outbox {outbox.path} holds a key ({key!r}) that is not a Bedside row key; it "
            "is not an audit forwarding outbox."
        ) from None


def feed(
    log: AuditLog, outbox: Outbox, encode: Callable[[AuditRecord], bytes], *, batch: int = 500
) -> int:
    """Queue every row of ``log`` after the outbox's watermark, in order; returns how many.

    A new log (a new log id, ``audit init --new-log``) starts again at row 1 under its own keys.
    """
    if not log.log_id:
        raise AuditError(f"The audit log {log.path} has no log id; it cannot be forwarded.")
    last = watermark(outbox, log.log_id)
    queued = 0
    while True:
        rows = log.records_after(last, limit=batch)
        if not rows:
            return queued
        items = []
        for row in rows:
            items.append((row_key(log.log_id, row.seq), encode(row)))
            # let a waiting thread in (the window's, appending the next row): building a
            # message is pure Python, and a thread done with its disk sync would otherwise wait
            # up to the interpreter's 5 ms switch interval for the lock this one holds
            time.sleep(0)
        queued += outbox.put_many(items, kind=log.log_id)
        last = rows[-1].seq


def went_back(settings: Settings, outbox_path: Path) -> tuple[int, int] | None:
    """(the log's last row, the last row already queued) when the local log now ends below
    rows already queued — its tail cut off or the file rolled back — else None. The feed alone
    would wait silently for those sequence numbers to come round again (as other rows)."""
    if not (outbox_path.exists() and settings.audit_db_path.exists()):
        return None
    with (
        Outbox(outbox_path) as box,
        AuditLog.open_readonly(settings.audit_db_path, settings=settings) as log,
    ):
        queued = watermark(box, log.log_id)
        head = log.head()[0]
    return None if head >= queued else (head, queued)


@dataclass(frozen=True)
class ForwardResult:
    queued: int
    drain: DrainResult


def forward(
    log: AuditLog,
    outbox: Outbox,
    destination: Destination,
    *,
    should_stop: Callable[[], bool] | None = None,
    batch_size: int = 100,
    record: Recorder | None = None,
) -> ForwardResult:
    """Feed the outbox from the log, then drain what is due, in order (one pass). ``record``
    appends a destination's alarm row to the local log (:class:`RaisesAlarms`)."""
    previous = outbox.status().last_error
    queued = feed(log, outbox, lambda record: destination.encode(log.log_id, record))
    result = outbox.drain_batches(destination.send, batch_size=batch_size, should_stop=should_stop)
    if record is not None and isinstance(destination, RaisesAlarms):
        alarm = destination.alarm_event(previous)
        if alarm is not None:
            record(alarm)
    return ForwardResult(queued=queued, drain=result)


@dataclass(frozen=True)
class PassResult:
    """One command-line pass: what was queued and sent, the error, and the queue after it."""

    queued: int
    sent: int
    held: int
    error: str | None
    status: OutboxStatus

    @property
    def waiting(self) -> int:
        return self.status.pending + self.status.held


def forward_pass(
    settings: Settings,
    destination: Destination,
    *,
    backoff: Backoff | None = None,
    now: bool = False,
    should_stop: Callable[[], bool] | None = None,
    batch_size: int = 100,
    record: Recorder | None = None,
) -> PassResult:
    """Feed and drain once from the installation's log, read-only (``bedside audit ... send``,
    cron, tests). ``now``: try the waiting rows at once rather than after their backoff (a
    person asked). A destination that is down is the ``error``; its rows wait in the outbox."""
    if not settings.audit_db_path.exists():
        raise AuditError(f"There is no audit log at {settings.audit_db_path} yet.")
    with (
        Outbox(destination.outbox_path, backoff=backoff or Backoff(first_s=2.0)) as box,
        AuditLog.open_readonly(settings.audit_db_path, settings=settings) as log,
    ):
        if now:
            box.retry_now()
        try:
            result = forward(
                log, box, destination, should_stop=should_stop, batch_size=batch_size, record=record
            )
        finally:
            destination.close()
        return PassResult(
            result.queued, result.drain.sent, result.drain.held, result.drain.error, box.status()
        )


def outbox_status(path: Path) -> OutboxStatus | None:
    """A destination's queue (None before anything was queued)."""
    if not path.exists():
        return None
    with Outbox(path) as box:
        return box.status()


class Forwarder:
    """Feeds and drains one destination in a daemon thread of the running app.

    :meth:`notify` is the log listener: it sets an event. The thread opens its own read-only
    view of the log and its own outbox connection (SQLite objects stay on the thread that made
    them), so it never takes the appending connection's lock. After a failed send it waits for
    the outbox's backoff (or a new row) before trying again.

    ``gather_s``: after a wake-up it waits this long before the pass, so a burst of commits is
    fed and sent as one batch: each pass costs disk syncs of its own (the outbox's), which would
    otherwise queue behind or ahead of every local append's (bench/bench_atna.py).
    """

    def __init__(
        self,
        settings: Settings,
        destination: Destination,
        *,
        idle_s: float = 30.0,
        gather_s: float = 0.2,
        outbox_factory: Callable[[Path], Outbox] = Outbox,
        record: Recorder | None = None,
    ) -> None:
        self.settings = settings
        self.destination = destination
        self.idle_s = idle_s
        self.gather_s = gather_s
        self.record = record
        self._outbox_factory = outbox_factory
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"forward-{Path(destination.outbox_path).stem}", daemon=True
        )
        self.last_error: str | None = None

    def notify(self, _records: Sequence[AuditRecord] = ()) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        log: AuditLog | None = None
        outbox: Outbox | None = None
        try:
            while not self._stop.is_set():
                try:
                    if outbox is None:
                        outbox = self._outbox_factory(self.destination.outbox_path)
                    if log is None:
                        log = AuditLog.open_readonly(
                            self.settings.audit_db_path, settings=self.settings
                        )
                    self._wake.clear()
                    result = forward(
                        log,
                        outbox,
                        self.destination,
                        should_stop=self._stop.is_set,
                        record=self.record,
                    )
                    self.last_error = result.drain.error
                    wait = self._wait_s(outbox)
                except BedsideError as exc:  # the log or outbox not (yet) usable: try later
                    self.last_error = str(exc)
                    wait = self.idle_s
                except Exception as exc:  # a bug must not end forwarding silently for the session
                    self.last_error = f"{self.destination.name}: {type(exc).__name__}: {exc}"
                    wait = self.idle_s
                if self._wake.wait(wait) and self.gather_s > 0:
                    self._stop.wait(self.gather_s)
        finally:
            self.destination.close()
            if log is not None:
                log.close()
            if outbox is not None:
                outbox.close()

    def _wait_s(self, outbox: Outbox) -> float:
        status = outbox.status()
        if status.pending and status.next_attempt is not None:
            return min(self.idle_s, max(0.0, status.next_attempt - time.time()))
        return self.idle_s


def stop_forwarders(
    forwarders: Sequence[Forwarder], log: AuditLog | None, *, timeout: float = 5.0
) -> None:
    """Unhook and stop (what is queued stays in the outboxes for the next start). A thread still
    in a connection attempt after ``timeout`` is left to end with the process (a daemon)."""
    for forwarder in forwarders:
        if log is not None:
            log.remove_listener(forwarder.notify)
        with contextlib.suppress(RuntimeError):
            forwarder.stop(timeout)
