"""Shared helpers for the audit tests (decisions, raw tampering, child writers)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from viewer.audit import AuditEvent, AuditLog, User
from viewer.audit.chain import ALL_COLUMNS
from viewer.audit.forwarding import Forwarder
from viewer.audit.schema import SCHEMA, TRIGGERS
from viewer.outbox import Backoff, Outbox

if TYPE_CHECKING:
    from collections.abc import Callable

    from viewer.audit.forwarding import Destination
    from viewer.config import Settings

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


def record_and_forward(
    settings: Settings,
    destination: Callable[[Settings], Destination],
    events: int,
    done: threading.Event,
    errors: list[str],
    *,
    per_transaction: int = 10,
) -> None:
    """One simulated workstation of a fleet test: ``events`` decisions appended in transactions
    of ``per_transaction`` rows (a decision on several findings), each commit waking the app's
    own forwarder, which goes on until ``done``; any failure is put in ``errors`` (never a
    silent thread death), the forwarder's last error too (the test judges which are expected).
    ``destination`` is made once the log is open (the department store names the workstation
    by the key made with the log)."""
    try:
        with AuditLog.open(settings) as log:
            forwarder = Forwarder(
                settings,
                destination(settings),
                idle_s=0.3,
                outbox_factory=lambda path: Outbox(
                    path, backoff=Backoff(first_s=0.1, factor=2, cap_s=0.8)
                ),
            )
            log.add_listener(forwarder.notify)
            forwarder.start()
            try:
                for start in range(0, events, per_transaction):
                    log.append_all([decision(i) for i in range(start, start + per_transaction)])
                    time.sleep(0.002)
                done.wait(240)  # keep forwarding until the test has seen everything arrive
            finally:
                log.remove_listener(forwarder.notify)
                forwarder.stop(timeout=10)
                if forwarder.last_error:
                    errors.append(forwarder.last_error)
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
