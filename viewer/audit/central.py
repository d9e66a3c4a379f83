"""The department audit store: every workstation's rows, copied to PostgreSQL where they cannot
be changed, so what a local chain cannot prove about itself becomes visible.

A local hash chain verifies as intact after its tail is cut off, after the file is replaced by
an older copy, and after someone holding the installation key rewrites rows and recomputes
every hash and checkpoint. A copy kept elsewhere, by a role that may only add rows, catches all
three (:func:`compare_with_central`).

How rows travel (:mod:`viewer.audit.forwarding`, shared with ATNA): the app's forwarder thread
(woken after each commit) and ``bedside audit forward`` feed the local log's new rows into the
durable outbox ``DATA_DIR/central-outbox.sqlite`` (one transaction per batch, keyed by log id and
sequence number) and drain it in order, in batches; each batch is one PostgreSQL transaction
(:class:`CentralDestination`). The local append only wakes that thread: it costs the same with
forwarding on (``bench/bench_central.py``). The receiver is idempotent on ``(workstation,
seq)``: a batch re-sent after a crash between the central COMMIT and the local "sent" mark
inserts nothing, and a row that arrives again with *different* content, or that does not continue
the chain the store holds, is an integrity alarm (the item is held, ``status`` and ``forward``
say so), never silently dropped.

The store (:func:`setup_store`, ``bedside audit central setup``): one table, primary key
(workstation, seq), the row's fields, ``prev_hash`` and ``hash`` exactly as the local chain has
them, the local log's id and the central receive time (set by a trigger, not by the sender).
The application's role gets INSERT and SELECT only; UPDATE, DELETE and TRUNCATE are revoked, and
triggers refuse them even for the owner (defence in depth). The forwarder checks its own
privileges at every connection (``has_table_privilege``) and refuses a store it could change.

psycopg is imported when a connection is made, never at import (``bedside --version`` stays
light).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from viewer.audit.chain import ALL_COLUMNS, GENESIS_HASH, HASHED_COLUMNS, make_hasher
from viewer.audit.checkpoints import InstallationKey
from viewer.audit.events import AuditRecord
from viewer.audit.forwarding import PassResult, forward_pass
from viewer.audit.forwarding import went_back as forwarding_went_back
from viewer.audit.query import TIME_FORMAT, Filters, where_clause
from viewer.audit.schema import SELECT_COLUMNS
from viewer.audit.stats import ModelStats, WeekStats, model_stats
from viewer.audit.store import AuditLog
from viewer.config import Settings
from viewer.errors import AuditError
from viewer.outbox import Backoff, Outbox, OutboxItem, PermanentSendError
from viewer.paths import ca_file_problem

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "CentralComparison",
    "CentralDestination",
    "CentralError",
    "CentralStore",
    "CentralUnavailableError",
    "ChainCheck",
    "DepartmentReport",
    "NotAppendOnlyError",
    "Privileges",
    "compare_with_central",
    "connect",
    "department_report",
    "forward_central",
    "setup_store",
    "workstation_id",
]

TABLE = "audit_rows"
BATCH = 500  # rows per central transaction (x 33 parameters, well under PostgreSQL's 65,535)
_SQL_TYPES = {"seq": "bigint", "corrects": "bigint", "threshold": "float8", "score": "float8"}
_NULLABLE = frozenset(
    {"meaning", "model_id", "model_version", "bundle_digest", "threshold", "score", "ai_finding",
     "clinician_finding", "reason", "ai_shown", "patient_pseudonym", "study_pseudonym",
     "series_pseudonym", "sop_pseudonym", "accession_pseudonym", "corrects"}
)  # fmt: skip
_CENTRAL_COLUMNS = ("workstation", *ALL_COLUMNS, "log_id")
_SEQ = ALL_COLUMNS.index("seq")
_HASH = ALL_COLUMNS.index("hash")
_PREV = ALL_COLUMNS.index("prev_hash")
_TIME = ALL_COLUMNS.index("time")


class CentralError(AuditError):
    """The department audit store cannot be used as asked (the message says why and what to do)."""


class CentralUnavailableError(CentralError):
    """The store cannot be reached or logged into: rows wait in the outbox, nothing is lost."""


class NotAppendOnlyError(CentralError):
    """The application's role could change or remove rows: forwarding there proves nothing."""


# ------------------------------------------------------------------------------------ settings


def workstation_id(settings: Settings) -> str:
    """This log's chain name in the store: ``[audit_central] workstation`` and the first 8 hex
    digits of the installation key's fingerprint (``ward-3-1a2b3c4d``), or ``ws-`` and 16 of
    them. The key is per data folder, so two OS accounts on one machine (each its own log, its
    own sequence numbers) never share a chain, while the name still says where it came from."""
    key = InstallationKey.load_public(settings.installation_key_path)
    if key is None:
        if not settings.audit_db_path.exists():
            # never made before the log: a key without a log reads as a lost log (audit.state)
            raise CentralError(
                "This workstation has no audit log yet, so it has no name in the department "
                "audit store (the name comes from the installation key made with the log). "
                "Start Bedside once, then try again."
            )
        key = InstallationKey.load_or_create(settings.installation_key_path)
    configured = settings.values.audit_central.workstation
    if configured:
        return f"{configured}-{key.fingerprint[:8]}"
    return f"ws-{key.fingerprint[:16]}"


def _read_password(path: str) -> str | None:
    if not path:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CentralError(
            f"The department audit store's password file {path} cannot be read: {exc}."
        ) from exc
    password = text.strip("\r\n")
    if not password:
        raise CentralError(f"The department audit store's password file {path} is empty.")
    return password


def connect_kwargs(
    settings: Settings, *, user: str | None = None, password: str | None = None, dbname: str = ""
) -> dict[str, Any]:
    """libpq connection parameters from ``[audit_central]`` (another role for ``setup``)."""
    c = settings.values.audit_central
    if not c.host:
        raise CentralError(
            "No department audit store is configured: set [audit_central] host (and enabled = "
            "true) in the site file."
        )
    kwargs: dict[str, Any] = {
        "host": c.host,
        "port": c.port,
        "dbname": dbname or c.dbname,
        "user": user or c.user,
        "sslmode": c.sslmode,
        "connect_timeout": max(1, round(c.connect_timeout_s)),
        "application_name": "bedside",
        # a stalled server must not hold the forwarder (or a `verify --central`) forever
        "options": "-c statement_timeout=60000 -c idle_in_transaction_session_timeout=60000",
    }
    if c.ca_file:
        # whoever can change the CA file picks the server taken for the department store
        problem = ca_file_problem(c.ca_file, "audit_central.ca_file")
        if problem is not None:
            raise CentralError(problem)
        kwargs["sslrootcert"] = c.ca_file
    secret = password if user is not None else _read_password(c.password_file)
    if secret is not None:
        kwargs["password"] = secret
    return kwargs


def connect(
    settings: Settings, *, user: str | None = None, password: str | None = None, dbname: str = ""
) -> psycopg.Connection[tuple[Any, ...]]:
    """A connection to the store; :class:`CentralUnavailableError` with the server's reason."""
    import psycopg

    kwargs = connect_kwargs(settings, user=user, password=password, dbname=dbname)
    try:
        return psycopg.connect(**kwargs)
    except psycopg.Error as exc:
        where = f"{kwargs['host']}:{kwargs['port']}/{kwargs['dbname']} as {kwargs['user']}"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CentralUnavailableError(
            f"The department audit store ({where}) cannot be reached: {reason}. Rows wait in "
            "this workstation's outbox and are sent when it is back; nothing is lost."
        ) from exc


def _table(schema: str) -> str:
    return f"{schema}.{TABLE}"  # schema is validated as a plain identifier in viewer.config


# --------------------------------------------------------------------------------------- setup


def _column_ddl(name: str) -> str:
    kind = _SQL_TYPES.get(name, "text")
    null = "" if name in _NULLABLE else " NOT NULL"
    return f"{name} {kind}{null}"


def schema_statements(schema: str, app_role: str) -> list[str]:
    """The store's DDL and grants (idempotent; names were validated, never user text here)."""
    t = _table(schema)
    cols = ",\n  ".join(_column_ddl(c) for c in _CENTRAL_COLUMNS)
    refuse = f"{schema}.refuse_change"
    stamp = f"{schema}.stamp_received"
    return [
        f"CREATE SCHEMA IF NOT EXISTS {schema}",
        f"CREATE TABLE IF NOT EXISTS {t} (\n  {cols},\n"
        "  received_at timestamptz NOT NULL DEFAULT clock_timestamp(),\n"
        "  CHECK (seq >= 1),\n  PRIMARY KEY (workstation, seq))",
        f"CREATE INDEX IF NOT EXISTS {TABLE}_time ON {t} (time)",
        f"CREATE OR REPLACE FUNCTION {refuse}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'the department audit store is append-only: rows cannot be changed, "
        "deleted or truncated (%)', TG_OP USING ERRCODE = 'insufficient_privilege'; END $$",
        f"CREATE OR REPLACE FUNCTION {stamp}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "NEW.received_at := clock_timestamp(); RETURN NEW; END $$",
        f"CREATE OR REPLACE TRIGGER {TABLE}_no_change BEFORE UPDATE OR DELETE ON {t} "
        f"FOR EACH ROW EXECUTE FUNCTION {refuse}()",
        f"CREATE OR REPLACE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {t} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {refuse}()",
        f"CREATE OR REPLACE TRIGGER {TABLE}_received BEFORE INSERT ON {t} "
        f"FOR EACH ROW EXECUTE FUNCTION {stamp}()",
        f"REVOKE ALL ON {t} FROM PUBLIC",
        f"REVOKE ALL ON {t} FROM {app_role}",
        f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA {schema} TO {app_role}",
        f"GRANT SELECT, INSERT ON {t} TO {app_role}",
    ]


def setup_store(
    settings: Settings,
    *,
    admin_user: str,
    admin_password: str | None,
    app_password: str | None,
) -> list[str]:
    """Create (idempotently) the database if missing, the application role, the schema, the
    table, its triggers and the grants, connecting as ``admin_user``. Returns what was done, in
    words. ``app_password`` (re)sets the role's password when given."""
    import psycopg
    from psycopg import sql

    c = settings.values.audit_central
    done: list[str] = []
    with connect(settings, user=admin_user, password=admin_password, dbname="postgres") as conn:
        conn.set_autocommit(True)
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (c.dbname,))
        if exists.fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(c.dbname)))
            done.append(f"created database {c.dbname}")
        role = conn.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = %s", (c.user,)
        ).fetchone()
        if role is None:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(c.user)))
            done.append(f"created role {c.user}")
        elif role[0]:
            raise NotAppendOnlyError(
                f"The role {c.user} is a PostgreSQL superuser, so it could change or delete "
                "any row: name an ordinary role in [audit_central] user. Nothing was changed."
            )
        conn.execute(
            sql.SQL("ALTER ROLE {} NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT LOGIN").format(
                sql.Identifier(c.user)
            )
        )
        if app_password is not None:
            conn.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(c.user), sql.Literal(app_password)
                )
            )
            done.append(f"set the password of {c.user}")
    try:
        with (
            connect(settings, user=admin_user, password=admin_password) as conn,
            conn.transaction(),
        ):
            for statement in schema_statements(c.db_schema, c.user):
                conn.execute(statement.encode("utf-8"))
    except psycopg.Error as exc:
        raise CentralError(f"The department audit store could not be set up: {exc}") from exc
    done.append(
        f"schema {c.db_schema}, table {_table(c.db_schema)}, append-only triggers; {c.user} may "
        "INSERT and SELECT only"
    )
    return done


# -------------------------------------------------------------------------------- privileges


@dataclass(frozen=True)
class Privileges:
    """What the connected role may do on the table (``has_table_privilege``)."""

    role: str
    insert: bool
    select: bool
    update: bool
    delete: bool
    truncate: bool
    triggers: tuple[str, ...]

    @property
    def can_change(self) -> list[str]:
        return [
            name
            for name, ok in (("UPDATE", self.update), ("DELETE", self.delete),
                             ("TRUNCATE", self.truncate))
            if ok
        ]  # fmt: skip


def check_privileges(conn: psycopg.Connection[tuple[Any, ...]], schema: str) -> Privileges:
    """The connected role's rights on the store; refuses a missing table, a role that cannot
    INSERT/SELECT and, above all, one that could UPDATE, DELETE or TRUNCATE (not append-only)."""
    t = _table(schema)
    row = conn.execute("SELECT current_user, to_regclass(%s) IS NOT NULL", (t,)).fetchone()
    assert row is not None  # noqa: S101 - SELECT without FROM returns one row
    role, exists = str(row[0]), bool(row[1])
    if not exists:
        raise CentralError(
            f"The department audit store has no table {t} (or {role} may not see it): IT sets "
            "it up once with `bedside audit central setup`."
        )
    rights = conn.execute(
        "SELECT has_table_privilege(%(t)s, 'INSERT'), has_table_privilege(%(t)s, 'SELECT'), "
        "has_any_column_privilege(%(t)s, 'UPDATE'), has_table_privilege(%(t)s, 'DELETE'), "
        "has_table_privilege(%(t)s, 'TRUNCATE')",
        {"t": t},
    ).fetchone()
    assert rights is not None  # noqa: S101 - as above
    triggers = conn.execute(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND NOT tgisinternal "
        "AND tgenabled <> 'D' ORDER BY tgname",
        (t,),
    ).fetchall()
    insert, select, update, delete, truncate = (bool(x) for x in rights)
    priv = Privileges(
        role, insert, select, update, delete, truncate, tuple(str(r[0]) for r in triggers)
    )
    if priv.can_change:
        raise NotAppendOnlyError(
            f"The department audit store is not append-only: the role {role} may "
            f"{', '.join(priv.can_change)} rows of {t}. A copy its writer can change proves "
            "nothing, so no row is forwarded. IT: run `bedside audit central setup` (it revokes "
            "UPDATE, DELETE and TRUNCATE), or name a role with INSERT and SELECT only."
        )
    if not (priv.insert and priv.select):
        raise CentralError(
            f"The role {role} may not {'INSERT into' if not priv.insert else 'SELECT from'} "
            f"{t}: run `bedside audit central setup` to grant INSERT and SELECT."
        )
    return priv


# ------------------------------------------------------------------------------------ receiver


def _from_central(row: Sequence[Any]) -> list[Any]:
    """A central row (``ALL_COLUMNS`` order) with the Python types the local chain hashed."""
    out = list(row)
    for name in ("threshold", "score"):
        i = ALL_COLUMNS.index(name)
        if out[i] is not None:
            out[i] = float(out[i])
    return out


class CentralStore:
    """One connection to the store, its privileges checked."""

    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]], schema: str) -> None:
        self.conn = conn
        self.schema = schema
        self.table = _table(schema)
        self.privileges = check_privileges(conn, schema)
        conn.commit()

    @classmethod
    def open(cls, settings: Settings) -> CentralStore:
        conn = connect(settings)
        try:
            return cls(conn, settings.values.audit_central.db_schema)
        except BaseException:
            conn.close()
            raise

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> CentralStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def insert(self, workstation: str, entries: Sequence[tuple[str, Sequence[Any]]]) -> int:
        """Insert ``(log_id, row)`` entries (rows in ``ALL_COLUMNS`` order, in seq order) in ONE
        transaction; returns how
        many were new. Rows already there with identical content are a harmless retry. Raises
        :class:`PermanentSendError` (key ``workstation:seq``) when a row conflicts with
        different content, or the first row does not continue the central chain: the
        workstation's log was rewritten, rolled back or replaced."""
        import psycopg

        if not entries:
            return 0
        rows = [row for _log_id, row in entries]
        cols = ", ".join(_CENTRAL_COLUMNS)
        one = "(" + ", ".join(["%s"] * len(_CENTRAL_COLUMNS)) + ")"
        params: list[Any] = []
        for log_id, row in entries:
            params += [workstation, *row, log_id]
        first = rows[0]
        try:
            with self.conn.transaction():
                if first[_SEQ] > 1:
                    before = self.conn.execute(
                        f"SELECT hash FROM {self.table} WHERE workstation = %s AND seq = %s",  # noqa: S608 - validated name
                        (workstation, first[_SEQ] - 1),
                    ).fetchone()
                    if before is not None and before[0] != first[_PREV]:
                        raise PermanentSendError(
                            _alarm(workstation, first[_SEQ], "does not continue the central "
                                   f"chain: it names row #{first[_SEQ] - 1} with a hash the "
                                   "store never received"),
                            key=f"{workstation}:{first[_SEQ]}",
                        )  # fmt: skip
                new = self.conn.execute(
                    f"INSERT INTO {self.table} ({cols}) VALUES {', '.join([one] * len(rows))} "  # noqa: S608 - our names
                    "ON CONFLICT (workstation, seq) DO NOTHING RETURNING seq",
                    params,
                ).fetchall()
                inserted = {int(r[0]) for r in new}
                if len(inserted) < len(rows):
                    self._check_retry(
                        workstation, [e for e in entries if e[1][_SEQ] not in inserted]
                    )
        except psycopg.DataError as exc:
            raise PermanentSendError(
                f"The department audit store refused a row of {workstation}: {exc}",
                key=f"{workstation}:{first[_SEQ]}",
            ) from exc
        return len(inserted)

    def _check_retry(self, workstation: str, entries: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Rows that were already there: identical means a retry; anything else is an alarm."""
        seqs = [int(row[_SEQ]) for _log_id, row in entries]
        stored = {
            int(r[_SEQ]): (str(r[-1]), _from_central(r[:-1]))
            for r in self.conn.execute(
                f"SELECT {SELECT_COLUMNS}, log_id FROM {self.table} "  # noqa: S608 - our names
                "WHERE workstation = %s AND seq = ANY(%s)",
                (workstation, seqs),
            ).fetchall()
        }
        for log_id, row in entries:
            seq = int(row[_SEQ])
            their_log, theirs = stored.get(seq, ("", None))
            if theirs == list(row):
                continue
            key = f"{workstation}:{seq}"
            if theirs is not None and their_log != log_id:
                raise PermanentSendError(
                    _alarm(workstation, seq, f"belongs to audit log {log_id}, but the store holds "
                           f"row #{seq} of this workstation's earlier log {their_log}. If IT "
                           "started a new log on purpose (`bedside audit init --new-log`), give "
                           "this machine a new name ([audit_central] workstation) so the new log "
                           "forwards as a chain of its own; otherwise restore the original log"),
                    key=key,
                )  # fmt: skip
            fields = (
                [c for c, a, b in zip(ALL_COLUMNS, row, theirs, strict=True) if a != b]
                if theirs is not None
                else ["(row not readable)"]
            )
            raise PermanentSendError(
                _alarm(workstation, seq, "differs from the copy the store received earlier "
                       f"({', '.join(fields)})"),
                key=key,
            )  # fmt: skip

    # -- reading ---------------------------------------------------------------------------

    def workstations(self) -> list[tuple[str, int, int, str | None]]:
        """(workstation, rows, highest seq, last received UTC) per workstation."""
        rows = self.conn.execute(
            f"SELECT workstation, count(*), max(seq), "  # noqa: S608 - our names
            "to_char(max(received_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
            f"FROM {self.table} GROUP BY workstation ORDER BY workstation"
        ).fetchall()
        self.conn.commit()
        return [(str(w), int(n), int(m), t) for w, n, m, t in rows]

    def iter_rows(self, workstation: str, *, batch: int = 5000) -> Iterator[list[Any]]:
        """One workstation's rows in seq order (``ALL_COLUMNS`` order), streamed."""
        last = 0
        while True:
            rows = self.conn.execute(
                f"SELECT {SELECT_COLUMNS} FROM {self.table} "  # noqa: S608 - our names
                "WHERE workstation = %s AND seq > %s ORDER BY seq LIMIT %s",
                (workstation, last, batch),
            ).fetchall()
            self.conn.commit()
            if not rows:
                return
            for row in rows:
                yield _from_central(row)
            last = int(rows[-1][_SEQ])

    def received_at(self, workstation: str, seq: int) -> datetime | None:
        row = self.conn.execute(
            f"SELECT received_at FROM {self.table} WHERE workstation = %s AND seq = %s",  # noqa: S608
            (workstation, seq),
        ).fetchone()
        self.conn.commit()
        return None if row is None else row[0]

    def iter_records(
        self,
        filters: Filters | None = None,
        *,
        workstation: str | None = None,
        pseudonym: Callable[[str, str | None], str | None] | None = None,
        batch: int = 2000,
    ) -> Iterator[tuple[str, AuditRecord]]:
        """(workstation, record) for the department, filtered like the local log (a patient
        is matched by the keyed pseudonym: the workstations must share the site secret)."""

        def no_secret(_kind: str, _value: str | None) -> str | None:
            raise AuditError(
                "A search by patient ID needs this site's pseudonym secret, which is not "
                "available here."
            )

        where, params = where_clause(filters or Filters(), pseudonym or no_secret)
        clauses = [where.removeprefix(" WHERE ").replace("?", "%s")] if where else []
        if workstation:
            clauses.append("workstation = %s")
            params.append(workstation)
        clauses.append("(workstation, seq) > (%s, %s)")
        sql = (
            f"SELECT workstation, {SELECT_COLUMNS} FROM {self.table} WHERE "  # noqa: S608 - ours
            + " AND ".join(clauses)
            + " ORDER BY workstation, seq LIMIT %s"
        )
        last: tuple[str, int] = ("", 0)
        while True:
            rows = self.conn.execute(sql, (*params, *last, batch)).fetchall()
            self.conn.commit()
            if not rows:
                return
            for ws, *values in rows:
                yield str(ws), AuditRecord(*_from_central(values))
            last = (str(rows[-1][0]), int(rows[-1][1 + _SEQ]))


def _alarm(workstation: str, seq: int, what: str) -> str:
    return (
        f"INTEGRITY ALARM: row #{seq} of workstation {workstation} {what}. The local audit log "
        "was rewritten, rolled back or replaced; forwarding is held at this row. Run `bedside "
        "audit verify --central` and tell IT."
    )


# ----------------------------------------------------------------------------------- forwarder


class CentralDestination:
    """The department store as a forwarding destination (:mod:`viewer.audit.forwarding`): the
    app's forwarder thread and ``bedside audit forward`` feed this workstation's outbox from the
    log and hand its batches to :meth:`send`, one central transaction each."""

    name = "the department audit store"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.workstation = workstation_id(settings)
        self.outbox_path = settings.central_outbox_path
        self._store: CentralStore | None = None

    def encode(self, log_id: str, record: AuditRecord) -> bytes:
        """The row exactly as the local chain hashed it, with its log's id."""
        row = [getattr(record, column) for column in ALL_COLUMNS]
        return json.dumps({"log_id": log_id, "row": row}, ensure_ascii=False).encode("utf-8")

    def send(self, items: list[OutboxItem]) -> None:
        """One batch, one central transaction; reconnects (and re-checks privileges) after a
        failure. A conflict with different content raises :class:`PermanentSendError`."""
        if self._store is None:
            self._store = CentralStore.open(self.settings)
        entries = []
        for item in items:
            payload = json.loads(item.payload)
            entries.append((str(payload["log_id"]), payload["row"]))
        try:
            self._store.insert(self.workstation, entries)
        except PermanentSendError:
            raise
        except Exception:
            self.close()  # reconnect next round (server restarted, network cut)
            raise

    def close(self) -> None:
        if self._store is not None:
            with contextlib.suppress(Exception):  # a dead connection may fail to close
                self._store.close()
            self._store = None


def went_back(settings: Settings) -> str | None:
    """The alarm when the local log now ends below rows already queued (cut off or rolled back):
    the feed would otherwise wait silently for those sequence numbers to come round again."""
    gap = forwarding_went_back(settings, settings.central_outbox_path)
    if gap is None:
        return None
    head, queued = gap
    return _alarm(
        workstation_id(settings),
        head + 1,
        f"was forwarded, but the local audit log now ends at row #{head} (rows up to #{queued} "
        "were already sent): its tail was cut off or the file rolled back",
    )


def forward_central(
    settings: Settings,
    *,
    backoff: Backoff | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> PassResult:
    """One forwarding pass (``bedside audit forward``, cron, tests): queue the log's new rows,
    send what is due. A store that is down or refused, and a local log that went backwards, are
    reported in ``error``; the rows wait in the outbox (with backoff) and nothing is lost."""
    alarm = went_back(settings)
    result = forward_pass(
        settings, CentralDestination(settings), backoff=backoff, should_stop=should_stop,
        batch_size=BATCH,
    )  # fmt: skip
    error = "; ".join(e for e in (alarm, result.error) if e) or None
    return replace(result, error=error)


# -------------------------------------------------------------------------------- verification


@dataclass
class ChainCheck:
    """One workstation's chain as the store holds it."""

    workstation: str
    rows: int
    ok: bool
    problem: str = ""


def verify_central_chain(store: CentralStore, workstation: str) -> ChainCheck:
    """Seqs 1..N without gaps, each row naming the previous hash, each hash matching its row."""
    hasher = make_hasher()
    prev, expected, n = GENESIS_HASH, 1, 0
    for row in store.iter_rows(workstation):
        n += 1
        seq = int(row[_SEQ])
        if seq != expected:
            return ChainCheck(workstation, n, False, f"row #{expected} is missing (next is #{seq})")
        if row[_PREV] != prev:
            return ChainCheck(workstation, n, False, f"row #{seq} does not name row "
                              f"#{seq - 1}'s hash")  # fmt: skip
        if hasher(row[:_HASH]) != row[_HASH]:
            return ChainCheck(workstation, n, False, f"row #{seq}'s hash does not match its "
                              "content")  # fmt: skip
        prev, expected = row[_HASH], seq + 1
    return ChainCheck(workstation, n, True)


@dataclass
class CentralComparison:
    """The local chain against the central copy of this workstation."""

    workstation: str
    local_rows: int
    central_rows: int
    findings: list[tuple[str, str]] = field(default_factory=list)  # (kind, sentence)
    notes: list[str] = field(default_factory=list)
    central_chain: ChainCheck | None = None
    departments: list[ChainCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings and all(c.ok for c in self.departments)

    def summary(self) -> str:
        if self.ok:
            return (
                f"The local audit log ({self.local_rows} rows) agrees with the department store's "
                f"copy of workstation {self.workstation} ({self.central_rows} rows)."
            )
        return (
            f"THE LOCAL AUDIT LOG DOES NOT MATCH THE DEPARTMENT STORE (workstation "
            f"{self.workstation}: {self.local_rows} rows here, {self.central_rows} there)."
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "workstation": self.workstation,
            "local_rows": self.local_rows,
            "central_rows": self.central_rows,
            "findings": [{"kind": k, "message": m} for k, m in self.findings],
            "notes": list(self.notes),
            "central_chains": [
                {"workstation": c.workstation, "rows": c.rows, "ok": c.ok, "problem": c.problem}
                for c in self.departments
            ],
        }


def _local_rows(log: AuditLog) -> Iterator[list[Any]]:
    last = 0
    while True:
        with log.lock:
            rows = (
                log.connection()
                .execute(
                    f"SELECT {SELECT_COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq LIMIT 5000",  # noqa: S608
                    (last,),
                )
                .fetchall()
            )
        if not rows:
            return
        yield from (list(r) for r in rows)
        last = int(rows[-1][_SEQ])


def compare_with_central(
    settings: Settings, *, all_workstations: bool = True, store: CentralStore | None = None
) -> CentralComparison:
    """Compare the local log with its central copy and name what differs in plain words:
    a truncated local tail, a rolled-back file, a locally re-chained rewrite. With
    ``all_workstations`` every workstation's central chain is verified too."""
    ws = workstation_id(settings)
    own = store is None
    store = store or CentralStore.open(settings)
    try:
        with AuditLog.open_readonly(settings.audit_db_path, settings=settings) as log:
            result = _compare(store, ws, log)
        if all_workstations:
            result.departments = [verify_central_chain(store, w) for w, *_ in store.workstations()]
        elif result.central_chain is not None:
            result.departments = [result.central_chain]
        for check in result.departments:
            if not check.ok:
                result.findings.append(
                    ("central_chain", f"The store's chain of workstation {check.workstation} is "
                     f"broken: {check.problem}.")
                )  # fmt: skip
        return result
    finally:
        if own:
            store.close()


def _compare(store: CentralStore, ws: str, log: AuditLog) -> CentralComparison:
    central_iter = store.iter_rows(ws)
    local_n = central_n = 0
    first_diff: tuple[list[Any], list[Any]] | None = None
    differing = 0
    local_row: list[Any] | None = None
    central_row: list[Any] | None = None
    local_iter = _local_rows(log)
    local_row = next(local_iter, None)
    central_row = next(central_iter, None)
    last_local: list[Any] | None = None
    while local_row is not None or central_row is not None:
        if local_row is not None and (central_row is None or local_row[_SEQ] < central_row[_SEQ]):
            local_n, last_local = local_n + 1, local_row
            local_row = next(local_iter, None)
        elif local_row is None or (central_row is not None and central_row[_SEQ] < local_row[_SEQ]):
            central_n += 1
            central_row = next(central_iter, None)
        else:
            assert local_row is not None and central_row is not None  # noqa: S101 - same seq
            local_n, central_n, last_local = local_n + 1, central_n + 1, local_row
            if local_row[_HASH] != central_row[_HASH]:
                differing += 1
                if first_diff is None:
                    first_diff = (local_row, central_row)
            local_row, central_row = next(local_iter, None), next(central_iter, None)
    local_head = int(last_local[_SEQ]) if last_local else 0
    result = CentralComparison(ws, local_n, central_n)
    central_head = max((m for w, _n, m, _t in store.workstations() if w == ws), default=0)
    if first_diff is not None:
        mine, theirs = first_diff
        seq = int(mine[_SEQ])
        fields = [c for c, a, b in zip(HASHED_COLUMNS, mine, theirs, strict=False) if a != b]
        content = [f for f in fields if f != "prev_hash"]
        received = store.received_at(ws, seq)
        written = _parse_time(mine[_TIME])
        if received is not None and written is not None and written > received:
            result.findings.append(
                ("rolled_back", f"The local audit log was rolled back: from row #{seq} on, its "
                 f"rows were written after the store had received different rows #{seq}.. "
                 f"(local row #{seq} at {mine[_TIME]}, the store's copy received at "
                 f"{received.isoformat()}). An older copy of the file was put back and written "
                 f"on; {differing} row(s) differ.")
            )  # fmt: skip
        else:
            what = f"different {', '.join(content)}" if content else "a different chain"
            result.findings.append(
                ("rewritten", f"The local audit log was rewritten: row #{seq} has {what} than "
                 f"the copy the store received, and {differing} row(s) differ in all. Its own "
                 "chain was recomputed (only someone with write access and this installation's "
                 "key does that), so a local verification alone would call it intact.")
            )  # fmt: skip
    if central_head > local_head:
        result.findings.append(
            ("truncated", f"The local audit log ends at row #{local_head}, but the store holds "
             f"rows up to #{central_head}: its tail was cut off, or the file was rolled back to "
             f"an earlier copy. Rows #{local_head + 1}..#{central_head} exist only in the "
             "department store.")
        )  # fmt: skip
    if local_head > central_head:
        result.notes.append(
            f"Rows #{central_head + 1}..#{local_head} are not in the store yet (waiting in the "
            "outbox: `bedside audit central status`)."
        )
    result.central_chain = verify_central_chain(store, ws)
    return result


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)
    except (ValueError, TypeError):
        return None


def retry_held(settings: Settings) -> int:
    """Make held and waiting rows due now (after IT resolved an alarm or an outage)."""
    with Outbox(settings.central_outbox_path) as box:
        return box.retry_now()


# ------------------------------------------------------------------------------ department view


@dataclass
class WorkstationSummary:
    workstation: str
    rows: int  # matching the filters
    decisions: int
    stored: int  # every row the store holds for it
    head: int
    last_received: str | None
    chain: ChainCheck


@dataclass
class DepartmentReport:
    """The audit report's figures for the whole department (or one workstation)."""

    workstations: list[WorkstationSummary]
    models: list[ModelStats]
    filters: list[tuple[str, str]]

    @property
    def ok(self) -> bool:
        return all(w.chain.ok for w in self.workstations)


def _merge_stats(into: dict[tuple[str, str], ModelStats], more: list[ModelStats]) -> None:
    """Add one workstation's per-model figures (its seqs are its own, so amendments are matched
    within a workstation before the sums are taken)."""
    for m in more:
        acc = into.setdefault(
            (m.model_id, m.model_version), ModelStats(m.model_id, m.model_version)
        )
        acc.bundle_digests |= m.bundle_digests
        for name in ("cases", "ai_scored", "ai_positive", "confirmed", "overrode",
                     "shown_before_read", "amended"):  # fmt: skip
            setattr(acc, name, getattr(acc, name) + getattr(m, name))
        acc.reasons.update(m.reasons)
        for week, w in m.weeks.items():
            aw = acc.weeks.setdefault(week, WeekStats(week))
            aw.cases += w.cases
            aw.ai_positive += w.ai_positive
            aw.ai_scored += w.ai_scored
            aw.overrides += w.overrides
        acc.weeks = dict(sorted(acc.weeks.items()))


def department_report(
    store: CentralStore,
    filters: Filters | None = None,
    *,
    workstation: str | None = None,
    pseudonym: Callable[[str, str | None], str | None] | None = None,
) -> DepartmentReport:
    """Per workstation: rows, decisions and its chain as the store holds it; per model version:
    cases, AI-positive, agreement and override rates over the department's decisions."""
    stored = {w: (n, head, t) for w, n, head, t in store.workstations()}
    if workstation is not None and workstation not in stored:
        known = ", ".join(sorted(stored)) or "none yet"
        raise CentralError(
            f"The department audit store holds no rows of workstation {workstation} "
            f"(known: {known})."
        )
    groups: dict[str, list[AuditRecord]] = {}
    for ws, record in store.iter_records(filters, workstation=workstation, pseudonym=pseudonym):
        groups.setdefault(ws, []).append(record)
    models: dict[tuple[str, str], ModelStats] = {}
    summaries = []
    for ws in sorted(stored if workstation is None else [workstation]):
        records = groups.get(ws, [])
        _merge_stats(models, model_stats(records))
        n, head, received = stored[ws]
        summaries.append(
            WorkstationSummary(
                ws,
                len(records),
                sum(r.type == "decision" for r in records),
                n,
                head,
                received,
                verify_central_chain(store, ws),
            )
        )
    return DepartmentReport(summaries, list(models.values()), (filters or Filters()).describe())
