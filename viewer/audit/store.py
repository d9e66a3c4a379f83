"""The audit log store: one SQLite file, append-only, hash-chained.

SQLite in WAL mode with ``synchronous=FULL`` makes a COMMIT durable across a kill -9 or a power
cut (https://sqlite.org/wal.html, https://sqlite.org/pragma.html#pragma_synchronous). Every
append takes ``BEGIN IMMEDIATE`` (the write lock) *before* reading the previous row's hash, so two
app instances on one log serialise and the chain never forks; a busy timeout bounds the wait.
Triggers refuse UPDATE and DELETE; a correction is a new row whose ``corrects`` names the row it
corrects (21 CFR 11.10(e): changes never obscure earlier entries).

This module is the log's lifecycle (open, create, open read-only, start a new log, close), the
append under the write lock, checkpoints and reads. What the file looks like is
:mod:`viewer.audit.schema`; how filters become SQL is :mod:`viewer.audit.query`; how an event
becomes a row is :mod:`viewer.audit.rows`. Checking the log is :mod:`viewer.audit.verify`, which
reads an :class:`AuditLog`; the store does not call it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

from viewer import __version__
from viewer.audit.chain import GENESIS_HASH, HASHED_COLUMNS, row_hash
from viewer.audit.checkpoints import Checkpoint, InstallationKey, make_checkpoint
from viewer.audit.events import AuditEvent, AuditRecord, EventType
from viewer.audit.identity import User, current_user
from viewer.audit.pseudonym import Pseudonymizer, load_or_create_secret
from viewer.audit.query import Filters, utc_now_text, where_clause
from viewer.audit.rows import event_values
from viewer.audit.schema import INSERT_SQL, SELECT_COLUMNS, create_schema, has_identity
from viewer.audit.state import history_evidence, record_state
from viewer.config import Settings
from viewer.errors import AuditError, AuditWriteError

DEFAULT_BUSY_TIMEOUT_S = 10.0

#: Called with the rows of each committed append, on the appending thread, after COMMIT.
CommitListener = Callable[[Sequence[AuditRecord]], None]


def _ensure_private(path: Path) -> None:
    """chmod 0600 if we own the file and it is looser (SQLite copies the db mode to -wal/-shm)."""
    try:
        st = path.stat()
    except OSError:
        return
    if st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) & 0o077:
        with contextlib.suppress(OSError):
            path.chmod(0o600)


def sidecar_paths(db: Path) -> tuple[Path, Path, Path]:
    return db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")


def describe_cause(exc: BaseException, timeout_s: float, act: str = "write") -> str:
    """Why a write (or a read, ``act``) failed, in words (SQLite result codes as Python reports
    them): SQLite's own ("file is not a database") mean nothing to the person who must act."""
    text = str(exc).lower()
    errno = getattr(exc, "errno", None)
    if "locked" in text or "busy" in text:
        return (
            "the audit log is busy: another Bedside window or program held it for more than "
            f"{timeout_s:g} s"
        )
    if "full" in text or errno in (27, 28):
        return "the disk that holds the audit log is full (or a file size limit was reached)"
    if "readonly" in text or "read-only" in text or "permission" in text or errno in (13, 30):
        return "the audit log or its folder is read-only"
    if "unable to open" in text:
        return "the audit log file or its folder cannot be opened or created"
    if "i/o" in text:
        return "the disk reported an input/output error"
    if "malformed" in text or "not a database" in text:
        return (
            "the audit log file is damaged (or is not an audit log at all); keep it as it is "
            "and restore the log from a backup"
        )
    return f"the database refused the {act} ({exc})"


def cannot_read(path: Path, exc: BaseException) -> str:
    """The message for a log that cannot be read (verify, show, export, the audit window)."""
    cause = describe_cause(exc, DEFAULT_BUSY_TIMEOUT_S, "read")
    return f"The audit log {path} cannot be read: {cause}."


def not_saved(what: str, cause: str, path: Path) -> str:
    """The message for a failed append: always says that the act was NOT saved."""
    return (
        f"The {what} was NOT saved: {cause} ({path}). Nothing was recorded for it; fix the "
        "problem and record it again."
    )


def cannot_open(cause: str, path: Path) -> str:
    return (
        f"The audit log cannot be opened for writing: {cause} ({path}). No decision can be "
        "saved until this is fixed."
    )


_READ_BACK_SQL = f"SELECT {SELECT_COLUMNS} FROM audit_log WHERE seq = ?"  # noqa: S608 - ours


def _not_written(found: list[Any]) -> str:
    """Why a row read back after its INSERT is not the row written (``found``: rows at its seq)."""
    if not found:
        what = "its row is not in the log after it was written"
    elif len(found) > 1:
        what = "its sequence number is in the log more than once after it was written"
    else:
        what = "its row in the log differs from the row written"
    return (
        f"{what}: something in the audit log file (a trigger, view or table that Bedside did "
        "not create) dropped or changed it. The log may have been tampered with; run "
        "`bedside audit verify` and tell IT"
    )


class AuditLogMissingError(AuditWriteError):
    """The log is missing or empty although this installation had one: never silently restarted."""


def _same_path(a: Path, b: Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except (OSError, RuntimeError):
        return False


def _is_missing_or_empty(path: Path) -> bool:
    """No file, or a 0-byte one (a 0-byte file is not a new log: it is a lost one)."""
    try:
        return path.stat().st_size == 0
    except FileNotFoundError:
        return True
    except OSError:
        return False  # unreadable: opening reports why


def _refuse_if_history(settings: Settings, path: Path) -> None:
    evidence = history_evidence(settings)
    if evidence is None:
        return
    text, _state = evidence
    raise AuditLogMissingError(
        f"The audit log {path} is missing or empty although {text}. Restore it (with its -wal "
        "file, if any) from backup; nothing can be recorded until then. If it is truly lost, IT "
        'can start a new log explicitly: bedside audit init --new-log --reason "..." (the new '
        "log's first row records that)."
    )


def _connect_readonly(path: Path) -> tuple[sqlite3.Connection, str]:
    """``mode=ro``, falling back to ``immutable=1`` only when no -wal file holds rows."""
    uri = path.resolve().as_uri()
    first: sqlite3.Error | None = None
    for query in ("mode=ro", "mode=ro&immutable=1"):
        if query.endswith("immutable=1"):
            wal = path.with_name(path.name + "-wal")
            try:
                wal_rows = wal.stat().st_size > 0
            except FileNotFoundError:
                wal_rows = False
            except OSError:
                wal_rows = True
            if wal_rows:
                raise AuditError(
                    f"The audit log {path} cannot be read here: {first}. Its -wal file holds "
                    "recent rows, but SQLite cannot share it from this folder (read-only, and "
                    "the -shm file is missing or not readable). Copy the log together with its "
                    "-wal file to a writable folder and verify the copy (audit verify --db)."
                ) from first
        try:
            conn = sqlite3.connect(
                f"{uri}?{query}",
                uri=True,
                timeout=DEFAULT_BUSY_TIMEOUT_S,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            first = first or exc
            continue
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as exc:
            conn.close()
            if "not a database" in str(exc) or "malformed" in str(exc):
                raise AuditError(cannot_read(path, exc)) from exc
            first = first or exc
            continue
        return conn, f"{uri}?{query}"
    raise AuditError(cannot_read(path, first or sqlite3.OperationalError("unable to open")))


class AuditLog:
    """The append-only audit log of one installation (or a copy opened read-only)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path,
        *,
        settings: Settings | None,
        pseudonymizer: Pseudonymizer | None,
        busy_timeout_s: float,
        read_only: bool,
    ) -> None:
        self._conn = conn
        self.path = path
        self.settings = settings
        self._pseudo = pseudonymizer
        self.busy_timeout_s = busy_timeout_s
        self.read_only = read_only
        self._lock = threading.RLock()
        self.user: User = current_user(settings) if settings else User("", "", "")
        self.require_named_user = bool(settings and settings.values.user.require_named_user)
        self.host = socket.gethostname()
        self.app_version = __version__
        self.log_id = self._read_meta("log_id") or ""
        self.is_own = not read_only  # this installation's log (settings.audit_db_path)
        self.read_uri = f"{path.resolve().as_uri()}?mode=ro"  # for parallel verifying readers
        self._listeners: list[CommitListener] = []

    # ----------------------------------------------------------------- opening

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
        _start_new: bool = False,
    ) -> AuditLog:
        """Open (creating on first use) the installation's log at ``settings.audit_db_path``.

        Fails with :class:`AuditWriteError` when the log cannot be written: the caller must then
        refuse to record decisions rather than pretend to save them. A missing or empty log of
        an installation that had one (see :mod:`viewer.audit.state`) is refused with
        :class:`AuditLogMissingError`: it is never silently started afresh (use
        :meth:`start_new_log`).
        """
        path = settings.audit_db_path
        if not _start_new and _is_missing_or_empty(path):
            _refuse_if_history(settings, path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        except OSError as exc:
            raise AuditWriteError(cannot_open(describe_cause(exc, busy_timeout_s), path)) from exc
        pseudo = Pseudonymizer(load_or_create_secret(settings.secret_path))
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(
                path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise sqlite3.OperationalError(f"cannot switch the log to WAL mode ({mode})")
            conn.execute("PRAGMA synchronous=FULL")
            if not has_identity(conn):  # an existing log opens without taking the write lock
                if not _start_new:
                    _refuse_if_history(settings, path)
                create_schema(conn)
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise AuditWriteError(cannot_open(describe_cause(exc, busy_timeout_s), path)) from exc
        except BaseException:
            if conn is not None:
                conn.close()
            raise
        for p in sidecar_paths(path):
            _ensure_private(p)
        log = cls(
            conn,
            path,
            settings=settings,
            pseudonymizer=pseudo,
            busy_timeout_s=busy_timeout_s,
            read_only=False,
        )
        log.record_state()
        return log

    @classmethod
    def start_new_log(
        cls, settings: Settings, reason: str, *, user: User | None = None
    ) -> AuditLog:
        """IT's explicit decision to begin a new log after the old one was lost.

        Only when the log file is missing or empty; its first row (``log_started``) records the
        reason and what this installation knew of the lost log, so the gap is visible forever.
        """
        path = settings.audit_db_path
        if not reason.strip():
            raise AuditError("Starting a new audit log needs a reason (--reason).")
        if not _is_missing_or_empty(path):
            try:
                probe = cls.open_readonly(path, settings=settings)
            except AuditError:
                probe = None
            if probe is not None:
                with probe:
                    count = probe.head()[0]
                raise AuditError(
                    f"The audit log {path} exists and holds {count} row(s); a new log is only "
                    "started when the old one is missing or empty. Nothing was changed."
                )
            raise AuditError(
                f"{path} exists and is not an empty file; move it aside (keep it as evidence) "
                "before starting a new log. Nothing was changed."
            )
        evidence = history_evidence(settings)
        log = cls.open(settings, _start_new=True)
        previous: dict[str, Any] | None = None
        if evidence is not None:
            text, state = evidence
            previous = {"evidence": text}
            if state is not None and not state.damaged:
                previous.update(log_id=state.log_id, rows=state.rows, head_hash=state.head_hash,
                                last_seen=state.time)  # fmt: skip
        try:
            count, head = log.head()
            record_state(settings, log.log_id, count, head, utc_now_text(), new_log=True)
            if count == 0:
                log.append(
                    AuditEvent(
                        type=EventType.LOG_STARTED,
                        user=user,
                        reason=reason,
                        detail={"new_log": True, "previous_log": previous},
                    )
                )
        except BaseException:
            log.close()
            raise
        return log

    @classmethod
    def open_readonly(cls, path: Path, *, settings: Settings | None = None) -> AuditLog:
        """Open a log file without writing to it (a copy handed over for review, read-only media,
        or this installation's own log for browsing and verifying).

        ``mode=ro`` first; when that fails and no ``-wal`` file holds unmerged rows, the file is
        opened ``immutable=1`` (read-only folder after a clean close: SQLite cannot create the
        ``-shm`` it needs). A WAL log whose ``-wal`` holds rows but whose ``-shm`` is missing on
        read-only media cannot be read safely: copy it (with ``-wal``) somewhere writable.
        """
        path = Path(path)
        own = settings is not None and _same_path(path, settings.audit_db_path)
        if own and settings is not None and _is_missing_or_empty(path):
            _refuse_if_history(settings, path)
        if not path.exists():
            raise AuditError(f"There is no audit log at {path}.")
        if not path.is_file():
            raise AuditError(f"{path} is not a file, so it is not a Bedside audit log.")
        if path.stat().st_size == 0:
            raise AuditError(f"{path} is empty: it is not a Bedside audit log.")
        conn, uri = _connect_readonly(path)
        try:
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        except sqlite3.Error as exc:
            conn.close()
            raise AuditError(cannot_read(path, exc)) from exc
        if "audit_log" not in tables:
            conn.close()
            raise AuditError(
                f"{path} is not a Bedside audit log (an SQLite file without the audit_log table)."
            )
        pseudo = None
        if settings is not None and settings.secret_path.is_file():
            try:
                pseudo = Pseudonymizer(load_or_create_secret(settings.secret_path))
            except AuditError:
                pseudo = None  # searches by patient ID say so; browsing and verifying still work
        log = cls(
            conn,
            path,
            settings=settings,
            pseudonymizer=pseudo,
            busy_timeout_s=DEFAULT_BUSY_TIMEOUT_S,
            read_only=True,
        )
        log.is_own = own
        log.read_uri = uri
        return log

    def record_state(self) -> None:
        """Note (count, head) in ``audit-state.json``; best effort (see :mod:`.state`)."""
        if self.settings is None or self.read_only or not self.log_id:
            return
        try:
            with self._lock:
                count, head = self._head()
        except sqlite3.Error:
            return
        record_state(self.settings, self.log_id, count, head, utc_now_text())

    def close(self) -> None:
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                self.record_state()
            self._conn.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _read_meta(self, key: str) -> str | None:
        try:
            row = self._conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        return str(row[0]) if row else None

    # ----------------------------------------------------------------- writing

    def set_user(self, user: User) -> None:
        """The acting user for events appended without an explicit ``user``."""
        self.user = user

    @property
    def pseudonym_key_id(self) -> str | None:
        """Identifies the site secret in use (None when it is not available)."""
        return self._pseudo.key_id if self._pseudo else None

    def pseudonym(self, kind: str, value: str | None) -> str | None:
        if self._pseudo is None:
            raise AuditError(
                "The pseudonym secret of this installation is not available, so a search by "
                "patient ID is not possible on this log."
            )
        return self._pseudo.pseudonym(kind, value)

    def _values(self, event: AuditEvent) -> tuple[str, dict[str, Any]]:
        """Validate an event: (its name for messages, stored values except seq/time/hashes)."""
        return event_values(
            event,
            default_user=self.user,
            require_named_user=self.require_named_user,
            app_version=self.app_version,
            host=self.host,
            pseudonymizer=self._pseudo,
        )

    def add_listener(self, listener: CommitListener) -> None:
        """Call ``listener(records)`` after each committed append: the one hook every forwarder
        uses (the department store, the ATNA repository; :mod:`viewer.audit.forwarding`).

        It runs on the appending thread while the caller waits, so it must only note the rows and
        return (wake a thread); it never decides whether the act was saved: an exception from it
        is swallowed, because the rows are committed and a forwarder catches up from the log.
        """
        self._listeners.append(listener)

    def remove_listener(self, listener: CommitListener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def _notify(self, records: list[AuditRecord]) -> None:
        for listener in list(self._listeners):
            with contextlib.suppress(Exception):  # committed already; see add_listener
                listener(records)

    def append(self, event: AuditEvent) -> AuditRecord:
        """Append one event; returns only after COMMIT (see :meth:`append_all`)."""
        return self.append_all([event])[0]

    def append_all(self, events: Sequence[AuditEvent]) -> list[AuditRecord]:
        """Append events in ONE transaction, in order; returns only after COMMIT.

        All or nothing: a clinician's decision on several findings is one act, so either every
        row is in the log or none is. Raises :class:`AuditWriteError` (whose message says the act
        was NOT saved) on any failure: disk full, read-only folder, the log locked beyond the
        busy timeout, ... The log stays valid: a failed transaction leaves no row.

        Before COMMIT each row is read back in the same transaction and must be exactly the one
        written: something planted in the file (a ``BEFORE INSERT ... RAISE(IGNORE)`` trigger,
        a view with an ``INSTEAD OF`` trigger in place of the table, a trigger that rewrites
        the row) could otherwise drop or change it while SQLite reports success.
        """
        prepared = [self._values(event) for event in events]
        records: list[AuditRecord] = []
        what = prepared[0][0] if prepared else "event"
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                last = conn.execute(
                    "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                seq = last[0] if last else 0
                prev = last[1] if last else GENESIS_HASH
                for what, values in prepared:
                    seq += 1
                    corrects = values["corrects"]
                    if corrects is not None and not (1 <= corrects < seq):
                        conn.execute("ROLLBACK")
                        raise AuditWriteError(
                            f"The {what} was NOT saved: it corrects row #{corrects}, which does "
                            "not exist."
                        )
                    row = {**values, "seq": seq, "time": utc_now_text(), "prev_hash": prev}
                    hashed = [row[c] for c in HASHED_COLUMNS]
                    digest = row_hash(hashed)
                    conn.execute(INSERT_SQL, (*hashed, digest))
                    written = conn.execute(_READ_BACK_SQL, (seq,)).fetchall()
                    if written != [(*hashed, digest)]:
                        conn.execute("ROLLBACK")
                        raise AuditWriteError(not_saved(what, _not_written(written), self.path))
                    records.append(AuditRecord(*hashed, digest))  # type: ignore[call-arg]
                    prev = digest
                conn.execute("COMMIT")
            except (sqlite3.Error, OSError) as exc:
                try:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # SQLite rolls back a failed COMMIT itself; the row is not there
                raise AuditWriteError(
                    not_saved(what, describe_cause(exc, self.busy_timeout_s), self.path)
                ) from exc
        if self._listeners:
            self._notify(records)
        return records

    def checkpoint(self, key: InstallationKey | None = None) -> Checkpoint:
        """Sign (count, head hash, time) with the installation key and store it in the log."""
        if self.settings is None or self.read_only:
            raise AuditError("A checkpoint can only be written to this installation's own log.")
        key = key or InstallationKey.load_or_create(self.settings.installation_key_path)
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                count, head = self._head()
                cp = make_checkpoint(
                    key, log_id=self.log_id, count=count, head_hash=head, time=utc_now_text()
                )
                conn.execute(
                    "INSERT INTO checkpoints(log_id, count, head_hash, time, key_fingerprint, "
                    "public_key_pem, signature) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (cp.log_id, cp.count, cp.head_hash, cp.time, cp.key_fingerprint,
                     cp.public_key_pem, cp.signature),
                )  # fmt: skip
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                try:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                raise AuditWriteError(
                    not_saved("checkpoint", describe_cause(exc, self.busy_timeout_s), self.path)
                ) from exc
        record_state(self.settings, cp.log_id, cp.count, cp.head_hash, cp.time)
        return cp

    # ----------------------------------------------------------------- reading

    def _head(self) -> tuple[int, str]:
        row = self._conn.execute(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)

    def head(self) -> tuple[int, str]:
        """(last sequence number, its hash); (0, genesis) for an empty log."""
        with self._lock:
            try:
                return self._head()
            except sqlite3.Error as exc:
                raise AuditError(cannot_read(self.path, exc)) from exc

    def stored_checkpoints(self) -> list[Checkpoint]:
        with self._lock:
            try:
                rows = self._conn.execute(
                    "SELECT log_id, count, head_hash, time, key_fingerprint, public_key_pem, "
                    "signature FROM checkpoints ORDER BY id"
                ).fetchall()
            except sqlite3.Error:
                return []
        return [Checkpoint(*row) for row in rows]

    def _where(self, filters: Filters) -> tuple[str, list[Any]]:
        return where_clause(filters, self.pseudonym)

    def count(self, filters: Filters | None = None) -> int:
        where, params = self._where(filters or Filters())
        with self._lock:
            row = self._conn.execute(f"SELECT count(*) FROM audit_log{where}", params).fetchone()  # noqa: S608
        return int(row[0])

    def iter_records(
        self, filters: Filters | None = None, *, batch: int = 2000
    ) -> Iterator[AuditRecord]:
        """Rows in sequence order, streamed in batches (exports of 100,000 rows stay small)."""
        where, params = self._where(filters or Filters())
        last: float = float("-inf")  # rows below #1 are foreign: shown, never skipped
        sql = f"SELECT {SELECT_COLUMNS} FROM audit_log{where}{' AND' if where else ' WHERE'} seq > ? ORDER BY seq LIMIT ?"  # noqa: S608, E501
        while True:
            with self._lock:
                try:
                    rows = self._conn.execute(sql, (*params, last, batch)).fetchall()
                except sqlite3.Error as exc:
                    raise AuditError(cannot_read(self.path, exc)) from exc
            if not rows:
                return
            for row in rows:
                yield AuditRecord(*row)
            last = rows[-1][0]

    def records(self, filters: Filters | None = None, **kwargs: Any) -> list[AuditRecord]:
        """Rows matching ``filters`` or keyword filters (fields of :class:`Filters`)."""
        if kwargs:
            filters = Filters(**kwargs) if filters is None else _replace(filters, kwargs)
        return list(self.iter_records(filters))

    def records_after(self, seq: int, *, limit: int = 500) -> list[AuditRecord]:
        """Up to ``limit`` rows with a sequence number above ``seq``, in order (a forwarder's
        catch-up from its watermark; the primary key makes it one index range)."""
        with self._lock:
            try:
                rows = self._conn.execute(
                    f"SELECT {SELECT_COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?",  # noqa: S608
                    (seq, limit),
                ).fetchall()
            except sqlite3.Error as exc:
                raise AuditError(cannot_read(self.path, exc)) from exc
        return [AuditRecord(*row) for row in rows]

    def get(self, seq: int) -> AuditRecord | None:
        with self._lock:
            row = self._conn.execute(
                f"SELECT {SELECT_COLUMNS} FROM audit_log WHERE seq = ?",  # noqa: S608
                (seq,),
            ).fetchone()
        return AuditRecord(*row) if row else None

    def connection(self) -> sqlite3.Connection:
        """The raw connection (verification and tests); hold :attr:`lock` while using it."""
        return self._conn

    @property
    def lock(self) -> threading.RLock:
        return self._lock


def _replace(filters: Filters, changes: dict[str, Any]) -> Filters:
    return replace(filters, **changes)
