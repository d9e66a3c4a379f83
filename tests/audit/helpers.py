"""Shared helpers for the audit tests (decisions, raw tampering, child writers)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from viewer.audit import AuditEvent, AuditLog, User
from viewer.audit.chain import ALL_COLUMNS
from viewer.audit.schema import SCHEMA, TRIGGERS

REPO = Path(__file__).resolve().parents[2]
CLINICIAN = User(os_account="dr_sato", name="佐藤 花子", role="Radiologist")


def decision(i: int, *, overrode: bool = False, patient: str | None = None) -> AuditEvent:
    score = (i * 37 % 100) / 100.0
    ai = "opacity" if score >= 0.5 else "no finding"
    final = ("no finding" if ai == "opacity" else "opacity") if overrode else ai
    return AuditEvent(
        type="decision",
        user=CLINICIAN,
        meaning="overrode" if overrode else "confirmed",
        model_id="demo-cxr",
        model_version="1.2.0",
        bundle_digest="ab" * 32,
        threshold=0.5,
        score=score,
        ai_finding=ai,
        clinician_finding=final,
        reason="肺野の陰影は古い瘢痕" if overrode else None,
        ai_shown="after_read",
        patient_id=patient or f"PAT{i:04d}",
        study_uid=f"1.2.3.{i}",
        series_uid=f"1.2.3.{i}.1",
        sop_uid=f"1.2.3.{i}.1.1",
        accession=f"ACC{i}",
        detail={"i": i},
    )


def fill(log: AuditLog, n: int) -> None:
    for i in range(n):
        log.append(decision(i, overrode=i % 4 == 3))


def raw(path: Path) -> sqlite3.Connection:
    """A plain connection, as an attacker with the file would have."""
    return sqlite3.connect(path, isolation_level=None)


def drop_triggers(conn: sqlite3.Connection) -> None:
    for name in TRIGGERS:
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")


def restore_triggers(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA:
        if "TRIGGER" in statement:
            conn.execute(statement)


def child(*args: str, user: int | None = None) -> subprocess.Popen[str]:
    """Start ``tests/audit/writer_child.py`` with this test's environment."""
    kwargs: dict[str, object] = {}
    if user is not None:
        kwargs = {"user": user, "group": user, "extra_groups": []}
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "tests.audit.writer_child", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        **kwargs,
    )


_COLS = ", ".join(ALL_COLUMNS)


def select_row(conn: sqlite3.Connection, seq: int, columns: str = _COLS) -> list[object]:
    """One row's columns (names are our own constants, never input)."""
    return list(conn.execute(f"SELECT {columns} FROM audit_log WHERE seq=?", (seq,)).fetchone())  # noqa: S608


def set_column(conn: sqlite3.Connection, seq: int, column: str, value: object) -> None:
    conn.execute(f"UPDATE audit_log SET {column}=? WHERE seq=?", (value, seq))  # noqa: S608


def insert_row(conn: sqlite3.Connection, values: list[object]) -> None:
    marks = ", ".join("?" * len(values))
    conn.execute(f"INSERT INTO audit_log ({_COLS}) VALUES ({marks})", values)  # noqa: S608
