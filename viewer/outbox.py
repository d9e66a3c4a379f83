"""A durable outbox: what must leave the workstation (PACS objects, audit rows for the department
store, ATNA messages) is written here first and sent later, so a network cut, a stopped server or a
killed process loses nothing.

One SQLite file per destination, WAL journal with ``synchronous=FULL``: a ``put`` that returned is
on disk. Items are keyed: putting the same key twice is a no-op, so a caller that retries after a
crash cannot queue a duplicate. An item is marked sent only after the receiver acknowledged it; a
crash between the two re-sends it once, which is why every receiver of ours is idempotent on the
key (SOP Instance UID, workstation + sequence number, syslog MSGID).

Failures are retried with exponential backoff across restarts. A *permanent* failure (the receiver
rejected this item, e.g. a DICOM C-STORE status 0xA7xx) holds the item until someone retries it:
it stays queued and visible, never dropped. ``drain(ordered=True)`` stops at the first failure so
rows reach an append-only store in order (audit forwarding); unordered drains skip past it (PACS).

Only one process drains an outbox at a time (a lease row, portable where file locks are not);
any number of processes may ``put``.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import stat
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from viewer.errors import BedsideError

__all__ = [
    "Backoff",
    "DrainResult",
    "Outbox",
    "OutboxError",
    "OutboxItem",
    "OutboxReader",
    "OutboxStatus",
    "PartlySentError",
    "PermanentSendError",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload BLOB NOT NULL,
    created REAL NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'held', 'sent')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL,
    first_failure REAL,
    last_error TEXT,
    sent_at REAL
);
CREATE INDEX IF NOT EXISTS items_due ON items (state, next_attempt, id);
-- the last send without visiting every row sent (status(): a window polls it)
CREATE INDEX IF NOT EXISTS items_sent ON items (state, sent_at);
CREATE TABLE IF NOT EXISTS lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    owner TEXT,
    until REAL NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO lease (id, owner, until) VALUES (1, NULL, 0);
"""

_ITEM_COLUMNS = "id, key, kind, payload, created, attempts, last_error"

_T = TypeVar("_T")

#: a drainer's lease without renewal: a killed drainer blocks the others this long at most
LEASE_S = 120.0


class OutboxError(BedsideError):
    """The outbox file cannot be opened or written (disk full, permissions, not an outbox)."""


class PermanentSendError(Exception):
    """Raised by a ``send`` callable when the receiver rejected this item for good: it is held
    (kept, shown, retried only on request), not retried on a timer.

    A batch sender (:meth:`Outbox.drain_batches`) names the rejected item by ``key``; without
    one the batch's first item is held."""

    def __init__(self, message: str = "", *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class PartlySentError(Exception):
    """Raised by a batch ``send`` that delivered the batch's first ``delivered`` items, each
    confirmed, before it failed: those count as sent (sending them again would duplicate them at
    a receiver that cannot drop repeats, such as a syslog repository); the rest stay queued."""

    def __init__(self, message: str, *, delivered: int) -> None:
        super().__init__(message)
        self.delivered = delivered


@dataclass(frozen=True)
class Backoff:
    """Exponential retry delays: first, first*factor, ... capped."""

    first_s: float = 5.0
    factor: float = 2.0
    cap_s: float = 900.0

    def delay(self, attempts: int) -> float:
        """Delay after the ``attempts``-th consecutive failure (1-based)."""
        exponent = max(0, attempts - 1)
        if exponent > 60:
            return self.cap_s
        return float(min(self.cap_s, self.first_s * self.factor**exponent))


@dataclass(frozen=True)
class OutboxItem:
    id: int
    key: str
    kind: str
    payload: bytes
    created: float
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class OutboxStatus:
    """What a reader or IT sees: how much waits, since when it fails, when it was last sent."""

    pending: int
    held: int
    sent: int
    oldest_pending: float | None
    last_sent: float | None
    last_error: str | None
    failing_since: float | None
    next_attempt: float | None

    @property
    def waiting(self) -> int:
        return self.pending + self.held


@dataclass(frozen=True)
class DrainResult:
    sent: int
    failed: int
    held: int
    error: str | None
    busy: bool = False  # another process holds the drain lease


_HOST = socket.gethostname()


def _dead_owner(owner: str) -> bool:
    """True when a lease owner (``host/pid-uuid``) is a process of this host that has ended."""
    if os.name != "posix":  # os.kill(pid, 0) sends CTRL_C_EVENT on Windows: wait for LEASE_S
        return False
    host, _, rest = owner.rpartition("/")
    pid_text = rest.partition("-")[0]
    if host != _HOST or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists but is another user's (PermissionError): alive
        return False
    return False


def _now(now: float | None) -> float:
    return time.time() if now is None else now


def _status(db: sqlite3.Connection, kind: str | None) -> OutboxStatus:
    """:meth:`Outbox.status` on any connection (a read-only one: :class:`OutboxReader`)."""
    params = (kind, kind)  # for "(? IS NULL OR kind = ?)": all items, or one kind's
    counts = dict(
        db.execute(
            "SELECT state, count(*) FROM items WHERE (? IS NULL OR kind = ?) GROUP BY state",
            params,
        ).fetchall()
    )
    oldest, failing, next_at = db.execute(
        "SELECT min(created), min(first_failure), "
        "min(CASE WHEN state = 'pending' THEN next_attempt END) "
        "FROM items WHERE state IN ('pending', 'held') AND (? IS NULL OR kind = ?)",
        params,
    ).fetchone()
    last_sent = db.execute(
        "SELECT max(sent_at) FROM items WHERE state = 'sent' AND (? IS NULL OR kind = ?)",
        params,
    ).fetchone()[0]
    err = db.execute(
        "SELECT last_error FROM items WHERE state IN ('pending', 'held') "
        "AND last_error IS NOT NULL "
        "AND (? IS NULL OR kind = ?) ORDER BY id DESC LIMIT 1",
        params,
    ).fetchone()
    return OutboxStatus(
        pending=int(counts.get("pending", 0)),
        held=int(counts.get("held", 0)),
        sent=int(counts.get("sent", 0)),
        oldest_pending=_stamp(oldest),
        last_sent=_stamp(last_sent),
        last_error=None if err is None else str(err[0]),
        failing_since=_stamp(failing),
        next_attempt=_stamp(next_at),
    )


def _stamp(value: object) -> float | None:
    """A time column as the schema writes it (REAL seconds); anything else is a damaged file,
    reported as the database error it is (a caller turned 'abc' into a TypeError far away)."""
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return None if value is None else float(value)
    raise sqlite3.DatabaseError(f"a time in it is not a number ({value!r:.40})")


def _regular_file(path: Path, verb: str = "read") -> None:
    """Open only a regular file: SQLite blocks opening a FIFO until a writer comes (the status
    line hung), and a folder or link loop gave 'disk I/O error' or a RuntimeError."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return  # SQLite's own message (read-only: it does not make the file)
    except (OSError, RuntimeError) as exc:
        raise OutboxError(
            f"The outbox {path} cannot be {verb}: {getattr(exc, 'strerror', None) or exc}."
        ) from exc
    if not stat.S_ISREG(st.st_mode):
        raise OutboxError(f"The outbox {path} cannot be {verb}: it is not a regular file.")


class OutboxReader:
    """An outbox file read, never written, as of one moment (one read transaction from the
    first query to :meth:`close`).

    For a window that polls while a forwarder drains: opening an :class:`Outbox` runs its schema
    script and takes the write lock for it; a read-only connection never waits for a writer (WAL
    readers see the last commit) and never makes the file."""

    def __init__(self, path: Path, *, busy_timeout_s: float = 2.0) -> None:
        self.path = Path(path)
        _regular_file(self.path, "read")
        try:
            self._db = sqlite3.connect(
                self.path.resolve().as_uri() + "?mode=ro",
                uri=True,
                timeout=busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
            self._db.execute("BEGIN")
        except sqlite3.Error as exc:
            raise OutboxError(f"The outbox {self.path} cannot be read: {exc}.") from exc

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> OutboxReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def status(self, kind: str | None = None) -> OutboxStatus:
        """:meth:`Outbox.status`."""
        return self._read(lambda: _status(self._db, kind))

    def last_key(self, kind: str) -> str | None:
        """:meth:`Outbox.last_key`."""
        return self._read(lambda: _last_key(self._db, kind))

    def _read(self, query: Callable[[], _T]) -> _T:
        try:
            return query()
        except sqlite3.Error as exc:
            raise OutboxError(f"The outbox {self.path} cannot be read: {exc}.") from exc


def _last_key(db: sqlite3.Connection, kind: str) -> str | None:
    row = db.execute(
        "SELECT key FROM items WHERE kind = ? ORDER BY id DESC LIMIT 1", (kind,)
    ).fetchone()
    return None if row is None else str(row[0])


class Outbox:
    """One durable queue in one SQLite file (see the module docstring)."""

    def __init__(
        self, path: Path, *, backoff: Backoff | None = None, busy_timeout_s: float = 10.0
    ) -> None:
        self.path = Path(path)
        self.backoff = backoff or Backoff()
        self._owner = f"{_HOST}/{os.getpid()}-{uuid.uuid4().hex}"
        _regular_file(self.path, "opened")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                str(self.path),
                timeout=busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise OutboxError(f"The outbox {self.path} cannot be opened: {exc}.") from exc

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _write(self, sql: str, params: tuple[object, ...]) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as exc:
            raise OutboxError(f"The outbox {self.path} cannot be written: {exc}.") from exc

    # -- queueing -------------------------------------------------------------------------------

    def put(self, key: str, payload: bytes, *, kind: str = "", now: float | None = None) -> bool:
        """Queue ``payload`` under ``key``; False when that key is already queued or sent."""
        when = _now(now)
        cur = self._write(
            "INSERT OR IGNORE INTO items (key, kind, payload, created, state, next_attempt) "
            "VALUES (?, ?, ?, ?, 'pending', ?)",
            (key, kind, bytes(payload), when, when),
        )
        return cur.rowcount == 1

    def put_many(
        self, items: Sequence[tuple[str, bytes]], *, kind: str = "", now: float | None = None
    ) -> int:
        """Queue ``(key, payload)`` pairs in ONE transaction (one disk sync for a whole batch,
        in order); keys already queued are skipped. Returns how many were new."""
        when = _now(now)
        try:
            self._db.execute("BEGIN IMMEDIATE")
            added = 0
            for key, payload in items:
                cur = self._db.execute(
                    "INSERT OR IGNORE INTO items (key, kind, payload, created, state, "
                    "next_attempt) VALUES (?, ?, ?, ?, 'pending', ?)",
                    (key, kind, bytes(payload), when, when),
                )
                added += cur.rowcount
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise OutboxError(f"The outbox {self.path} cannot be written: {exc}.") from exc
        return added

    def last_key(self, kind: str) -> str | None:
        """The key of the newest item of ``kind`` (sent or not): a producer that queues in key
        order resumes after it (a watermark that survives restarts)."""
        return _last_key(self._db, kind)

    def contains(self, key: str) -> bool:
        row = self._db.execute("SELECT 1 FROM items WHERE key = ?", (key,)).fetchone()
        return row is not None

    def state_of(self, key: str) -> str | None:
        """'pending', 'held', 'sent', or None when the key was never queued."""
        row = self._db.execute("SELECT state FROM items WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    # -- reading --------------------------------------------------------------------------------

    def due(self, *, now: float | None = None, limit: int = 100) -> list[OutboxItem]:
        """Pending items whose retry time has come, oldest first."""
        rows = self._db.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE state = 'pending' AND next_attempt <= ? "  # noqa: S608 - constant
            "ORDER BY id LIMIT ?",
            (_now(now), limit),
        ).fetchall()
        return [OutboxItem(*row) for row in rows]

    def _ordered_due(self, now: float, limit: int = 50) -> list[OutboxItem]:
        """The head of the queue up to the first item that is held or not yet due: in order, an
        item never overtakes an earlier one."""
        rows = self._db.execute(
            f"SELECT {_ITEM_COLUMNS}, state, next_attempt FROM items WHERE state != 'sent' "  # noqa: S608 - constant
            "ORDER BY id LIMIT ?",
            (limit,),
        ).fetchall()
        batch: list[OutboxItem] = []
        for *fields, state, next_at in rows:
            if state != "pending" or next_at > now:
                break
            batch.append(OutboxItem(*fields))
        return batch

    def waiting(self, *, limit: int = 1000) -> list[OutboxItem]:
        """Every item not yet sent (pending or held), oldest first, regardless of retry time."""
        rows = self._db.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE state != 'sent' ORDER BY id LIMIT ?",  # noqa: S608 - constant
            (limit,),
        ).fetchall()
        return [OutboxItem(*row) for row in rows]

    def status(self, kind: str | None = None) -> OutboxStatus:
        """Counts and times of every item, or of the items of one ``kind`` (one reading's)."""
        return _status(self._db, kind)

    # -- outcomes -------------------------------------------------------------------------------

    def mark_sent(self, item_id: int, *, now: float | None = None) -> None:
        self._write(
            "UPDATE items SET state = 'sent', sent_at = ?, last_error = NULL, first_failure = NULL "
            "WHERE id = ?",
            (_now(now), item_id),
        )

    def mark_sent_many(self, item_ids: Sequence[int], *, now: float | None = None) -> None:
        """:meth:`mark_sent` for a whole batch in one transaction."""
        when = _now(now)
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "UPDATE items SET state = 'sent', sent_at = ?, last_error = NULL, "
                "first_failure = NULL WHERE id = ?",
                [(when, item_id) for item_id in item_ids],
            )
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise OutboxError(f"The outbox {self.path} cannot be written: {exc}.") from exc

    def mark_failed(
        self, item_id: int, error: str, *, permanent: bool = False, now: float | None = None
    ) -> float | None:
        """Record a failed attempt; returns the next attempt time (None when held)."""
        when = _now(now)
        row = self._db.execute("SELECT attempts FROM items WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            return None
        attempts = int(row[0]) + 1
        next_at = when + self.backoff.delay(attempts)
        self._write(
            "UPDATE items SET attempts = ?, last_error = ?, next_attempt = ?, "
            "first_failure = coalesce(first_failure, ?), state = ? WHERE id = ?",
            (attempts, error[:2000], next_at, when, "held" if permanent else "pending", item_id),
        )
        return None if permanent else next_at

    def retry_now(self, *, now: float | None = None) -> int:
        """Make every waiting item (held ones too) due at once; returns how many."""
        cur = self._write(
            "UPDATE items SET state = 'pending', next_attempt = ? WHERE state != 'sent'",
            (_now(now),),
        )
        return cur.rowcount

    # -- draining -------------------------------------------------------------------------------

    def _take_lease(self, now: float) -> bool:
        cur = self._write(
            "UPDATE lease SET owner = ?, until = ? WHERE id = 1 AND (until < ? OR owner = ?)",
            (self._owner, now + LEASE_S, now, self._owner),
        )
        if cur.rowcount == 1:
            return True
        # a drainer killed (kill -9, power cut) on this machine leaves its lease behind: taken
        # over at once instead of after LEASE_S, so the restarted app sends without waiting
        row = self._db.execute("SELECT owner FROM lease WHERE id = 1").fetchone()
        owner = None if row is None else row[0]
        if owner is None or not _dead_owner(str(owner)):
            return False
        cur = self._write(
            "UPDATE lease SET owner = ?, until = ? WHERE id = 1 AND owner = ?",
            (self._owner, now + LEASE_S, owner),
        )
        return cur.rowcount == 1

    def _drop_lease(self) -> None:
        self._write(
            "UPDATE lease SET owner = NULL, until = 0 WHERE id = 1 AND owner = ?", (self._owner,)
        )

    def drain(
        self,
        send: Callable[[OutboxItem], None],
        *,
        ordered: bool,
        should_stop: Callable[[], bool] | None = None,
        limit: int | None = None,
        now: Callable[[], float] = time.time,
    ) -> DrainResult:
        """Send due items oldest first through ``send`` (which raises on failure).

        ``ordered``: stop at the first failure (later items wait behind it), so a receiver sees
        items in queue order. Otherwise a failing item is rescheduled and the next one is tried;
        an item that failed is not tried again in the same drain, even when its retry time comes
        before the drain ends (a short backoff, slow timeouts), so a drain always ends.
        """
        if not self._take_lease(now()):
            return DrainResult(sent=0, failed=0, held=0, error=None, busy=True)
        sent = failed = held = 0
        error: str | None = None
        failed_ids: set[int] = set()
        try:
            while limit is None or sent + failed + held < limit:
                if should_stop is not None and should_stop():
                    break
                if ordered:
                    batch = self._ordered_due(now())
                else:
                    batch = self.due(now=now(), limit=50 + len(failed_ids))
                    batch = [item for item in batch if item.id not in failed_ids][:50]
                if not batch:
                    break
                if not self._take_lease(now()):
                    break
                stop = False
                for item in batch:
                    if (should_stop is not None and should_stop()) or (
                        limit is not None and sent + failed + held >= limit
                    ):
                        stop = True
                        break
                    try:
                        send(item)
                    except PermanentSendError as exc:
                        error = str(exc) or type(exc).__name__
                        self.mark_failed(item.id, error, permanent=True, now=now())
                        held += 1
                        if ordered:
                            stop = True
                            break
                    except Exception as exc:  # any transport failure keeps the item queued
                        error = str(exc) or type(exc).__name__
                        self.mark_failed(item.id, error, now=now())
                        failed += 1
                        failed_ids.add(item.id)
                        if ordered:
                            stop = True
                            break
                    else:
                        self.mark_sent(item.id, now=now())
                        sent += 1
                if stop:
                    break
        finally:
            self._drop_lease()
        return DrainResult(sent=sent, failed=failed, held=held, error=error)

    def drain_batches(
        self,
        send: Callable[[list[OutboxItem]], None],
        *,
        batch_size: int = 500,
        should_stop: Callable[[], bool] | None = None,
        now: Callable[[], float] = time.time,
    ) -> DrainResult:
        """An ordered drain that hands ``send`` up to ``batch_size`` items at once.

        For a receiver that commits a batch in one transaction (the department audit store): a
        per-item round trip and disk sync would bound throughput at a few hundred rows a second.
        ``send`` is all or nothing, unless it raises :class:`PartlySentError`: then the items it
        confirmed before the failure count as delivered and the rest wait. Otherwise, when it
        raises, no item of the batch counts as delivered. A transient error reschedules the
        batch's first item (the rest wait behind it, in order) and ends the drain; a
        :class:`PermanentSendError` holds the item it names (or the first) and the drain goes on
        with the items before it, which then form a shorter batch.
        """
        if not self._take_lease(now()):
            return DrainResult(sent=0, failed=0, held=0, error=None, busy=True)
        sent = failed = held = 0
        error: str | None = None
        try:
            while not (should_stop is not None and should_stop()):
                batch = self._ordered_due(now(), limit=max(1, batch_size))
                if not batch or not self._take_lease(now()):
                    break
                try:
                    send(batch)
                except PermanentSendError as exc:
                    error = str(exc) or type(exc).__name__
                    bad = next((i for i in batch if i.key == exc.key), batch[0])
                    self.mark_failed(bad.id, error, permanent=True, now=now())
                    held += 1
                    if bad is batch[0]:
                        break
                except PartlySentError as exc:
                    error = str(exc) or type(exc).__name__
                    done = batch[: max(0, min(exc.delivered, len(batch) - 1))]
                    self.mark_sent_many([item.id for item in done], now=now())
                    sent += len(done)
                    self.mark_failed(batch[len(done)].id, error, now=now())
                    failed += 1
                    break
                except Exception as exc:  # any transport failure keeps the batch queued
                    error = str(exc) or type(exc).__name__
                    self.mark_failed(batch[0].id, error, now=now())
                    failed += 1
                    break
                else:
                    self.mark_sent_many([item.id for item in batch], now=now())
                    sent += len(batch)
        finally:
            self._drop_lease()
        return DrainResult(sent=sent, failed=failed, held=held, error=error)
