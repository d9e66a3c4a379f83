"""The audit log's SQLite schema: tables, indexes, the append-only triggers and the row SQL.

One place for what the file looks like, so the store (which creates it) and verification (which
compares the file's whole schema, ``sqlite_master``, with :func:`expected_objects`) both depend on
this module instead of on each other. An existing log is never altered here: a missing trigger,
or a trigger, index, table or view nobody here created, is evidence (a planted
``BEFORE INSERT ... RAISE(IGNORE)`` trigger silently drops every row written).
"""

from __future__ import annotations

import functools
import sqlite3
import uuid

from viewer.audit.chain import ALL_COLUMNS
from viewer.audit.query import utc_now_text

SCHEMA_VERSION = "2"  # 2: ``seq`` must be >= 1 (a CHECK); 1: the first logs, without it

_COLUMN_TYPES: dict[str, str] = {
    "seq": "INTEGER PRIMARY KEY CHECK (seq >= 1)",
    "threshold": "REAL",
    "score": "REAL",
    "corrects": "INTEGER",
}
_NOT_NULL = {
    "time", "event_id", "type", "outcome", "user_os", "user_name", "user_role", "app_version",
    "host", "pseudonym_key", "detail_json", "prev_hash", "hash",
}  # fmt: skip


def _column_sql(name: str, version: str = SCHEMA_VERSION) -> str:
    kind = _COLUMN_TYPES.get(name, "TEXT")
    if version == "1" and name == "seq":
        kind = "INTEGER PRIMARY KEY"
    return f"{name} {kind}{' NOT NULL' if name in _NOT_NULL else ''}"


PROTECTED_TABLES = ("audit_log", "checkpoints", "meta")
TRIGGERS = tuple(f"{t}_no_{op}" for t in PROTECTED_TABLES for op in ("update", "delete"))


def _schema(version: str) -> tuple[str, ...]:
    return (
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS audit_log "
        f"({', '.join(_column_sql(c, version) for c in ALL_COLUMNS)})",
        "CREATE INDEX IF NOT EXISTS audit_log_time ON audit_log(time)",
        "CREATE INDEX IF NOT EXISTS audit_log_patient ON audit_log(patient_pseudonym)",
        "CREATE TABLE IF NOT EXISTS checkpoints (id INTEGER PRIMARY KEY, log_id TEXT NOT NULL, "
        "count INTEGER NOT NULL, head_hash TEXT NOT NULL, time TEXT NOT NULL, "
        "key_fingerprint TEXT NOT NULL, public_key_pem TEXT NOT NULL, signature TEXT NOT NULL)",
        *(
            f"CREATE TRIGGER IF NOT EXISTS {t}_no_{op} BEFORE {op.upper()} ON {t} BEGIN "
            f"SELECT RAISE(ABORT, 'the audit log is append-only: rows cannot be {verb}'); END"
            for t in PROTECTED_TABLES
            for op, verb in (("update", "changed"), ("delete", "deleted"))
        ),
    )


SCHEMA = _schema(SCHEMA_VERSION)  # what a new log is created with
SCHEMA_V1 = _schema("1")  # logs created before the CHECK on seq; still valid, never altered
SCHEMAS: dict[str, tuple[str, ...]] = {"1": SCHEMA_V1, SCHEMA_VERSION: SCHEMA}


@functools.cache
def expected_objects(version: str) -> dict[tuple[str, str], str | None]:
    """``(type, name) -> sql`` as ``sqlite_master`` holds it for a log of schema ``version``.

    Built by SQLite itself from :data:`SCHEMAS` (in memory), so the text is exactly what it
    stores, including its own automatic indexes (whose sql is NULL). KeyError: unknown version.
    """
    conn = sqlite3.connect(":memory:")
    try:
        for statement in SCHEMAS[version]:
            conn.execute(statement)
        rows = conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
    finally:
        conn.close()
    return {(str(t), str(n)): sql for t, n, sql in rows}


def stored_objects(conn: sqlite3.Connection) -> dict[tuple[str, str], str | None]:
    """``(type, name) -> sql`` of everything in the file's schema except SQLite's statistics
    tables (``ANALYZE`` writes them; they hold no rows and cannot carry triggers)."""
    rows = conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
    return {(str(t), str(n)): sql for t, n, sql in rows if not str(n).startswith("sqlite_stat")}


INSERT_SQL = (  # column names are our own constants, values are bound parameters
    f"INSERT INTO audit_log ({', '.join(ALL_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join('?' * len(ALL_COLUMNS))})"
)
SELECT_COLUMNS = ", ".join(ALL_COLUMNS)


def has_identity(conn: sqlite3.Connection) -> bool:
    """Whether the log has its ``meta.log_id`` (False too when there is no meta table yet)."""
    try:
        return conn.execute("SELECT value FROM meta WHERE key='log_id'").fetchone() is not None
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return False
        raise


def create_schema(conn: sqlite3.Connection) -> None:
    """Create tables, indexes and triggers once, under the write lock (two first starts race).

    An existing log is never "repaired": dropped triggers are evidence that verify reports.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='audit_log'"
        ).fetchone()
        if exists is None:
            for statement in SCHEMA:
                conn.execute(statement)
        if not has_identity(conn):
            conn.executemany(
                "INSERT INTO meta(key, value) VALUES (?, ?)",
                [
                    ("log_id", str(uuid.uuid4())),
                    ("schema_version", SCHEMA_VERSION),
                    ("created", utc_now_text()),
                ],
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
