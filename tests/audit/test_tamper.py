"""Tamper suite: every kind of tampering is detected and the first bad row is named."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.audit.helpers import (
    drop_triggers,
    fill,
    insert_row,
    raw,
    restore_triggers,
    select_row,
    set_column,
)
from viewer.audit import AuditLog, Checkpoint, InstallationKey, verify_log
from viewer.audit.chain import ALL_COLUMNS, GENESIS_HASH, HASHED_COLUMNS, row_hash
from viewer.audit.checkpoints import make_checkpoint
from viewer.audit.state import state_path
from viewer.config import Settings

N = 20


@pytest.fixture
def filled(settings: Settings) -> Iterator[AuditLog]:
    log = AuditLog.open(settings)
    fill(log, N)
    yield log
    log.close()


def _other_value(column: str, value: object) -> object:
    if column in ("seq", "corrects"):
        return 9999 if value is None else int(value) + 1000  # type: ignore[call-overload]
    if column in ("threshold", "score"):
        return 0.123 if value is None else float(value) + 0.001  # type: ignore[arg-type]
    if column == "detail_json":
        return '{"i":-1}'
    return "tampered" if value != "tampered" else "tampered2"


def _verify(log: AuditLog, *cps: Checkpoint) -> object:
    return verify_log(log, [("given", cp) for cp in cps])


def test_untouched_log_verifies(filled: AuditLog) -> None:
    result = verify_log(filled)
    assert result.ok, result.problems
    assert result.rows == N and result.first_bad_seq is None and result.triggers_ok


@pytest.mark.parametrize("seq", [1, 7, N], ids=["first", "middle", "last"])
@pytest.mark.parametrize("column", ALL_COLUMNS)
def test_changed_field_is_detected(filled: AuditLog, column: str, seq: int) -> None:
    conn = raw(filled.path)
    drop_triggers(conn)
    value = select_row(conn, seq, column)[0]
    set_column(conn, seq, column, _other_value(column, value))
    restore_triggers(conn)  # hide the trigger drop: the chain alone must catch it
    conn.close()
    result = verify_log(filled)
    assert not result.ok
    assert result.first_bad_seq == seq, result.problems
    assert f"#{seq}" in result.summary()


def test_deleted_row_is_detected(filled: AuditLog) -> None:
    conn = raw(filled.path)
    drop_triggers(conn)
    conn.execute("DELETE FROM audit_log WHERE seq=9")
    restore_triggers(conn)
    result = verify_log(filled)
    assert not result.ok and result.first_bad_seq == 9
    assert "missing" in result.problems[0]


def test_inserted_row_is_detected(filled: AuditLog) -> None:
    """A forged row slipped in at #8 (later rows renumbered) with a correct hash of its own."""
    conn = raw(filled.path)
    drop_triggers(conn)
    conn.execute("UPDATE audit_log SET seq = seq + 100000 WHERE seq >= 8")
    conn.execute("UPDATE audit_log SET seq = seq - 100000 + 1 WHERE seq >= 100000")
    row = select_row(conn, 7)
    forged = dict(zip(ALL_COLUMNS, row, strict=True))
    forged.update(seq=8, reason="forged", prev_hash=row[-1])
    values = [forged[c] for c in HASHED_COLUMNS]
    insert_row(conn, [*values, row_hash(values)])
    restore_triggers(conn)
    result = verify_log(filled)
    assert not result.ok
    # The forged row is self-consistent; the renumbered original that follows it is not.
    assert result.first_bad_seq == 9, result.problems


def test_appended_garbage_row_is_detected(filled: AuditLog) -> None:
    conn = raw(filled.path)
    row = select_row(conn, 3)
    row[0] = N + 1
    insert_row(conn, row)
    result = verify_log(filled)
    assert not result.ok and result.first_bad_seq == N + 1


def test_reordered_rows_are_detected(filled: AuditLog) -> None:
    conn = raw(filled.path)
    drop_triggers(conn)
    conn.execute("UPDATE audit_log SET seq = -1 WHERE seq = 5")
    conn.execute("UPDATE audit_log SET seq = 5 WHERE seq = 6")
    conn.execute("UPDATE audit_log SET seq = 6 WHERE seq = -1")
    restore_triggers(conn)
    result = verify_log(filled)
    assert not result.ok and result.first_bad_seq == 5, result.problems


def test_truncated_tail_is_detected_against_an_earlier_checkpoint(filled: AuditLog) -> None:
    cp = filled.checkpoint()  # as written by an export: certifies N rows
    fill(filled, 3)
    conn = raw(filled.path)
    drop_triggers(conn)
    conn.execute("DELETE FROM audit_log WHERE seq > ?", (N - 2,))
    conn.execute("DELETE FROM checkpoints")  # the attacker also removes the stored copy
    restore_triggers(conn)
    result = _verify(filled, cp)
    assert not result.ok  # type: ignore[attr-defined]
    assert result.first_bad_seq == N - 1  # type: ignore[attr-defined]
    assert "missing" in result.summary()  # type: ignore[attr-defined]


def test_older_copy_of_the_file_is_detected(
    filled: AuditLog, settings: Settings, tmp_path: Path
) -> None:
    old = tmp_path / "old.sqlite"
    with sqlite3.connect(old) as dst:
        filled.connection().backup(dst)
    fill(filled, 5)
    cp = filled.checkpoint()
    filled.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(settings.audit_db_path) + suffix).unlink(missing_ok=True)
    shutil.copyfile(old, settings.audit_db_path)
    with AuditLog.open_readonly(settings.audit_db_path, settings=settings) as log:
        local = verify_log(log)  # this installation's audit-state.json saw N + 5 rows
        assert not local.ok and local.first_bad_seq == N + 1
        assert "this installation recorded" in local.problems[0]
    state_path(settings).unlink()  # the copy also travels without that file ...
    with AuditLog.open(settings) as log:
        assert verify_log(log).ok  # ... and on its own the old copy is a valid shorter log ...
        result = _verify(log, cp)  # ... but not against the later checkpoint
        assert not result.ok and result.first_bad_seq == N + 1  # type: ignore[attr-defined]


def test_edit_with_triggers_dropped_is_detected(filled: AuditLog) -> None:
    conn = raw(filled.path)
    drop_triggers(conn)
    conn.execute("UPDATE audit_log SET meaning='confirmed', reason=NULL WHERE seq=4")
    result = verify_log(filled)
    assert not result.ok and not result.triggers_ok
    assert result.first_bad_seq == 4
    assert any("triggers" in p for p in result.problems)


def test_rewritten_chain_is_caught_by_checkpoints(filled: AuditLog) -> None:
    """An attacker edits row 12 and recomputes every later hash: only a checkpoint catches it."""
    early = filled.checkpoint()  # certifies rows 1..N
    conn = raw(filled.path)
    drop_triggers(conn)
    conn.execute("UPDATE audit_log SET meaning='confirmed' WHERE seq=12")
    prev = conn.execute("SELECT hash FROM audit_log WHERE seq=11").fetchone()[0]
    for seq in range(12, N + 1):
        values = select_row(conn, seq, ", ".join(HASHED_COLUMNS))
        values[HASHED_COLUMNS.index("prev_hash")] = prev
        prev = row_hash(values)
        conn.execute(
            "UPDATE audit_log SET prev_hash=?, hash=? WHERE seq=?",
            (values[HASHED_COLUMNS.index("prev_hash")], prev, seq),
        )
    restore_triggers(conn)
    result = _verify(filled, early)
    assert not result.ok  # type: ignore[attr-defined]
    assert result.first_bad_seq is not None and result.first_bad_seq <= 12  # type: ignore[attr-defined]
    assert all(not c.ok for c in result.checkpoints)  # type: ignore[attr-defined]


def test_forged_checkpoint_signature_is_refused(filled: AuditLog) -> None:
    cp = filled.checkpoint()
    forged = Checkpoint(cp.log_id, cp.count + 5, cp.head_hash, cp.time, cp.key_fingerprint,
                        cp.public_key_pem, cp.signature)  # fmt: skip
    result = _verify(filled, forged)
    assert not result.ok  # type: ignore[attr-defined]
    assert "signature" in result.problems[0]  # type: ignore[attr-defined]
    assert result.first_bad_seq is None  # type: ignore[attr-defined]  # the log itself is fine


def test_checkpoint_of_another_log_is_flagged(filled: AuditLog, settings: Settings) -> None:
    key = InstallationKey.load_or_create(settings.installation_key_path)
    cp = make_checkpoint(key, log_id="another-log", count=1, head_hash=GENESIS_HASH, time="t")
    result = _verify(filled, cp)
    assert not result.ok and "another audit log" in result.problems[0]  # type: ignore[attr-defined]


def test_checkpoint_signed_by_a_foreign_key_is_flagged(filled: AuditLog, tmp_path: Path) -> None:
    foreign = InstallationKey.load_or_create(tmp_path / "foreign.pem")
    count, head = filled.head()
    cp = make_checkpoint(foreign, log_id=filled.log_id, count=count, head_hash=head, time="t")
    assert cp.signature_valid()
    filled.checkpoint()  # creates this installation's own key
    result = _verify(filled, cp)
    assert not result.ok and "not this installation" in result.problems[0]  # type: ignore[attr-defined]


def test_checkpoint_file_round_trip(filled: AuditLog, tmp_path: Path) -> None:
    cp = filled.checkpoint()
    path = tmp_path / "cp.json"
    path.write_text(cp.to_json(), encoding="utf-8")
    again = Checkpoint.read(path)
    assert again == cp and again.signature_valid()
    assert _verify(filled, again).ok  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "damage",
    [
        "",
        "UPDATE audit_log SET reason='x' WHERE seq=3",
        "DELETE FROM audit_log WHERE seq=11",
        "DELETE FROM audit_log WHERE seq=10",
        "UPDATE audit_log SET prev_hash='0' WHERE seq=11",
        "DELETE FROM audit_log WHERE seq=1",
    ],
    ids=[
        "intact",
        "changed",
        "deleted-at-join",
        "deleted-before-join",
        "relinked-at-join",
        "first",
    ],
)
def test_parallel_scan_finds_what_the_serial_scan_finds(filled: AuditLog, damage: str) -> None:
    """Large logs are verified by forked workers on row ranges; the joins must be checked too."""
    from viewer.audit.verify import _scan_parts

    if damage:
        conn = raw(filled.path)
        drop_triggers(conn)
        conn.execute(damage)
        restore_triggers(conn)
        conn.close()
    if sys.platform == "linux":  # the parallel path really runs here
        assert len(_scan_parts(filled, filled.connection(), filled.head()[0], 3)) == 3
    serial = verify_log(filled, workers=1)
    for workers in (2, 3):
        parallel = verify_log(filled, workers=workers)
        assert (parallel.ok, parallel.first_bad_seq, parallel.rows, parallel.head_hash) == (
            serial.ok,
            serial.first_bad_seq,
            serial.rows,
            serial.head_hash,
        )
        assert set(parallel.problems) == set(serial.problems)
    assert serial.ok == (damage == "")
