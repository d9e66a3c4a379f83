"""The department audit store against a real PostgreSQL 15 (issue 18 item 3): append-only for
the application's role (refused by the server, checked by the forwarder), idempotent retries,
integrity alarms, and what ``verify --central`` sees that a local chain cannot."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import psycopg
import pytest

from tests.audit.central_helpers import admin, central_rows, set_up, workstation
from tests.audit.helpers import decision, drop_triggers, fill, raw, restore_triggers, select_row
from tests.audit.pg_cluster import APP_PASSWORD, PgCluster
from viewer.audit import AuditLog, verify_log
from viewer.audit.central import (
    CentralDestination,
    CentralError,
    CentralStore,
    NotAppendOnlyError,
    compare_with_central,
    connect,
    forward_central,
    workstation_id,
)
from viewer.audit.chain import HASHED_COLUMNS, row_hash
from viewer.audit.destinations import start_forwarders
from viewer.audit.forwarding import feed, stop_forwarders
from viewer.audit.state import record_state
from viewer.config import Settings
from viewer.outbox import Backoff, Outbox

FAST = Backoff(first_s=0.05, factor=2, cap_s=0.5)


def _forward_all(settings: Settings) -> int:
    result = forward_central(settings, backoff=FAST)
    assert result.error is None, result.error
    return result.sent


def _filled(settings: Settings, n: int) -> None:
    with AuditLog.open(settings) as log:
        fill(log, n)


def test_setup_is_idempotent_and_the_role_may_only_insert_and_select(
    pg_cluster: PgCluster, tmp_path: Path
) -> None:
    ws = workstation(tmp_path / "ws", pg_cluster, "t_grants", "ws-a")
    first = set_up(ws)
    assert any("INSERT and SELECT only" in line for line in first)
    set_up(ws)  # a second run changes nothing and does not fail
    _filled(ws, 3)
    assert _forward_all(ws) == 3
    with connect(ws) as conn:
        conn.set_autocommit(True)
        for statement in (
            "UPDATE t_grants.audit_rows SET reason = 'x' WHERE seq = 1",
            "DELETE FROM t_grants.audit_rows WHERE seq = 3",
            "TRUNCATE t_grants.audit_rows",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    with admin(pg_cluster) as conn:  # the triggers refuse even the table's owner
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("DELETE FROM t_grants.audit_rows WHERE seq = 3")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("TRUNCATE t_grants.audit_rows")
    assert [r[1] for r in central_rows(pg_cluster, "t_grants")] == [1, 2, 3]


def test_the_forwarder_refuses_a_role_that_could_update(
    pg_cluster: PgCluster, tmp_path: Path
) -> None:
    ws = workstation(tmp_path / "ws", pg_cluster, "t_refuse", "ws-b")
    set_up(ws)
    _filled(ws, 4)
    with admin(pg_cluster) as conn:
        conn.execute("GRANT UPDATE (reason) ON t_refuse.audit_rows TO bedside_forwarder")
    try:
        result = forward_central(ws, backoff=FAST)
        assert result.sent == 0 and result.error is not None
        assert "not append-only" in result.error and "UPDATE" in result.error
        assert result.status.pending == 4  # kept, not lost
        with pytest.raises(NotAppendOnlyError):
            CentralStore.open(ws)
    finally:
        with admin(pg_cluster) as conn:
            conn.execute("REVOKE UPDATE (reason) ON t_refuse.audit_rows FROM bedside_forwarder")
    assert central_rows(pg_cluster, "t_refuse") == []


def test_a_crash_between_central_commit_and_local_mark_resends_without_duplicates(
    pg_cluster: PgCluster, tmp_path: Path
) -> None:
    ws = workstation(tmp_path / "ws", pg_cluster, "t_retry", "ws-c")
    set_up(ws)
    _filled(ws, 10)
    destination = CentralDestination(ws)
    with (
        AuditLog.open_readonly(ws.audit_db_path, settings=ws) as log,
        Outbox(ws.central_outbox_path) as box,
    ):
        assert feed(log, box, lambda r: destination.encode(log.log_id, r)) == 10
        destination.send(box.due(limit=6))  # the store committed; the process died before marking
        destination.close()
        assert len(central_rows(pg_cluster, "t_retry")) == 6
        assert box.status().pending == 10
    result = forward_central(ws, backoff=FAST)
    assert result.error is None and result.sent == 10 and result.held == 0
    assert [r[1] for r in central_rows(pg_cluster, "t_retry")] == list(range(1, 11))


def _rechain(settings: Settings, seq: int, column: str, value: object) -> None:
    """What someone with the file and the installation key can do: change a row, recompute
    every later hash, sign a fresh checkpoint and update the state file."""
    with AuditLog.open(settings) as log:
        path, count = log.path, log.head()[0]
    conn = raw(path)
    drop_triggers(conn)
    conn.execute(f"UPDATE audit_log SET {column}=? WHERE seq=?", (value, seq))  # noqa: S608
    prev = conn.execute("SELECT hash FROM audit_log WHERE seq=?", (seq - 1,)).fetchone()[0]
    for n in range(seq, count + 1):
        values = select_row(conn, n, ", ".join(HASHED_COLUMNS))
        values[HASHED_COLUMNS.index("prev_hash")] = prev
        prev = row_hash(values)
        conn.execute(
            "UPDATE audit_log SET prev_hash=?, hash=? WHERE seq=?",
            (values[HASHED_COLUMNS.index("prev_hash")], prev, n),
        )
    conn.execute("DELETE FROM checkpoints")
    restore_triggers(conn)
    conn.close()
    with AuditLog.open(settings) as log:
        record_state(settings, log.log_id, count, prev, "2026-01-01T00:00:00.000000Z", new_log=True)
        log.checkpoint()


def test_verify_central_sees_a_locally_rechained_rewrite(
    pg_cluster: PgCluster, tmp_path: Path
) -> None:
    ws = workstation(tmp_path / "ws", pg_cluster, "t_rewrite", "ws-d")
    set_up(ws)
    _filled(ws, 30)
    assert _forward_all(ws) == 30
    assert compare_with_central(ws).ok
    _rechain(ws, 12, "clinician_finding", "no finding (rewritten)")
    with AuditLog.open_readonly(ws.audit_db_path, settings=ws) as log:
        assert verify_log(log).ok  # the local chain alone calls it intact
    result = compare_with_central(ws)
    assert not result.ok
    kinds = [k for k, _ in result.findings]
    assert kinds == ["rewritten"]
    message = result.findings[0][1]
    assert "row #12" in message and "clinician_finding" in message and "19 row(s)" in message
    # forwarding the rewritten rows again (a fresh outbox) raises the alarm, nothing is replaced
    ws.central_outbox_path.unlink()
    forwarded = forward_central(ws, backoff=FAST)
    assert forwarded.held == 1 and forwarded.error is not None
    assert "INTEGRITY ALARM: row #12" in forwarded.error
    assert "clinician_finding" in forwarded.error


def test_verify_central_sees_a_truncated_local_tail(pg_cluster: PgCluster, tmp_path: Path) -> None:
    ws = workstation(tmp_path / "ws", pg_cluster, "t_trunc", "ws-e")
    set_up(ws)
    _filled(ws, 25)
    _forward_all(ws)
    conn = raw(ws.audit_db_path)
    drop_triggers(conn)
    conn.execute("DELETE FROM audit_log WHERE seq > 18")
    restore_triggers(conn)
    conn.close()
    result = compare_with_central(ws)
    assert [k for k, _ in result.findings] == ["truncated"]
    assert "ends at row #18" in result.findings[0][1] and "#19..#25" in result.findings[0][1]


def test_verify_central_sees_a_rolled_back_file(pg_cluster: PgCluster, tmp_path: Path) -> None:
    ws = workstation(tmp_path / "ws", pg_cluster, "t_rollback", "ws-f")
    set_up(ws)
    _filled(ws, 10)
    backup = tmp_path / "audit-backup.sqlite"
    shutil.copyfile(ws.audit_db_path, backup)  # closed cleanly: no -wal holds rows
    with AuditLog.open(ws) as log:
        fill(log, 8)
    _forward_all(ws)
    for side in ("-wal", "-shm"):
        Path(f"{ws.audit_db_path}{side}").unlink(missing_ok=True)
    shutil.copyfile(backup, ws.audit_db_path)  # the older copy is put back
    before = compare_with_central(ws)
    assert [k for k, _ in before.findings] == ["truncated"]
    with AuditLog.open(ws) as log:  # ... and written on
        log.append(decision(99))
        log.append(decision(100))
    after = compare_with_central(ws)
    kinds = [k for k, _ in after.findings]
    assert kinds == ["rolled_back", "truncated"]
    assert "rolled back: from row #11 on" in after.findings[0][1]
    alarm = forward_central(ws, backoff=FAST)
    assert alarm.queued == 0 and "INTEGRITY ALARM: row #13" in (alarm.error or "")
    assert "now ends at row #12 (rows up to #18 were already sent)" in (alarm.error or "")


def test_default_workstation_id_comes_from_the_installation_key(
    pg_cluster: PgCluster, tmp_path: Path
) -> None:
    ws = workstation(tmp_path / "ws", pg_cluster, "t_id")
    with pytest.raises(CentralError, match="no audit log yet"):
        workstation_id(ws)  # a key made before the log would read as a lost log
    assert not ws.installation_key_path.exists()
    _filled(ws, 1)
    name = workstation_id(ws)
    assert name.startswith("ws-") and len(name) == 19 and workstation_id(ws) == name
    named = workstation(tmp_path / "named", pg_cluster, "t_id", "ward-3")
    other = workstation(tmp_path / "other-account", pg_cluster, "t_id", "ward-3")
    _filled(named, 1)
    _filled(other, 1)
    assert workstation_id(named).startswith("ward-3-") and len(workstation_id(named)) == 15
    assert workstation_id(named) != workstation_id(other)  # two accounts' logs, two chains
    assert APP_PASSWORD not in repr(ws.values.audit_central)  # the password stays in its file


def test_the_app_forwarder_sends_a_committed_row_in_the_background(
    pg_cluster: PgCluster, tmp_path: Path
) -> None:
    ws = workstation(tmp_path / "ws", pg_cluster, "t_app", "ws-app")
    set_up(ws)
    with AuditLog.open(ws) as log:
        forwarders = start_forwarders(ws, log)
        try:
            assert [f.destination.name for f in forwarders] == ["the department audit store"]
            log.append(decision(1))  # the commit wakes the thread: no poll interval to wait for
            deadline = time.monotonic() + 30
            while len(central_rows(pg_cluster, "t_app")) < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stop_forwarders(forwarders, log)
    assert [r[1] for r in central_rows(pg_cluster, "t_app")] == [1]


def test_a_new_local_log_is_held_with_what_it_means_not_mixed_into_the_old_chain(
    pg_cluster: PgCluster, tmp_path: Path
) -> None:
    ws = workstation(tmp_path / "ws", pg_cluster, "t_newlog", "ws-g")
    set_up(ws)
    _filled(ws, 5)
    _forward_all(ws)
    for side in ("", "-wal", "-shm"):
        Path(f"{ws.audit_db_path}{side}").unlink(missing_ok=True)
    with AuditLog.start_new_log(ws, "disk replaced") as log:
        log.append(decision(1))
    result = forward_central(ws, backoff=FAST)
    assert result.held == 1 and result.error is not None
    assert "store holds row #1 of this workstation's earlier log" in result.error
    assert "[audit_central] workstation" in result.error
    assert len(central_rows(pg_cluster, "t_newlog")) == 5  # the old chain is untouched
