"""Tamper suite: every kind of tampering is detected and the first bad row is named."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.audit.helpers import (
    decision,
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
from viewer.errors import AuditWriteError

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
    conn.execute("UPDATE audit_log SET seq = 1000000 WHERE seq = 5")  # seq >= 1: a CHECK
    conn.execute("UPDATE audit_log SET seq = 5 WHERE seq = 6")
    conn.execute("UPDATE audit_log SET seq = 6 WHERE seq = 1000000")
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


# ------------------------------------------- issue 12.1: the schema itself is part of the log

_COLUMNS_AS_NEW = ", ".join(f"NEW.{c}" for c in ALL_COLUMNS)
_REWRITING_COLUMNS = ", ".join(
    "'rewritten'" if c == "clinician_finding" else f"NEW.{c}" for c in ALL_COLUMNS
)
_AS_VIEW = (
    "ALTER TABLE audit_log RENAME TO audit_log_real",
    "CREATE VIEW audit_log AS SELECT * FROM audit_log_real",
)
# Each plants something in the file that changes what the writer's INSERT does.
WRITE_SABOTAGE: dict[str, tuple[str, ...]] = {
    "before-insert-ignore": (
        "CREATE TRIGGER x BEFORE INSERT ON audit_log BEGIN SELECT RAISE(IGNORE); END",
    ),
    "before-insert-ignore-when": (
        "CREATE TRIGGER x BEFORE INSERT ON audit_log WHEN NEW.meaning = 'overrode' "
        "BEGIN SELECT RAISE(IGNORE); END",
    ),
    "after-insert-rewrites-row": (
        "DROP TRIGGER audit_log_no_update",
        "CREATE TRIGGER x AFTER INSERT ON audit_log BEGIN "
        "UPDATE audit_log SET clinician_finding = 'rewritten' WHERE seq = NEW.seq; END",
    ),
    "view-instead-of-drops": (
        *_AS_VIEW,
        "CREATE TRIGGER x INSTEAD OF INSERT ON audit_log BEGIN SELECT 1; END",
    ),
    "view-instead-of-rewrites": (
        *_AS_VIEW,
        "CREATE TRIGGER x INSTEAD OF INSERT ON audit_log BEGIN "  # noqa: S608 - test SQL
        f"INSERT INTO audit_log_real ({', '.join(ALL_COLUMNS)}) VALUES ({_REWRITING_COLUMNS}); "
        "END",
    ),
}


def _plant(path: Path, statements: Sequence[str]) -> None:
    conn = raw(path)
    for statement in statements:
        conn.execute(statement)
    conn.close()


@pytest.mark.parametrize("sabotage", list(WRITE_SABOTAGE), ids=list(WRITE_SABOTAGE))
def test_append_refuses_to_report_a_row_it_did_not_write(filled: AuditLog, sabotage: str) -> None:
    """The writer reads its row back in the same transaction before it says "saved"."""
    _plant(filled.path, WRITE_SABOTAGE[sabotage])
    with pytest.raises(AuditWriteError, match="NOT saved") as info:
        filled.append(decision(99, overrode=True))
    assert "audit log" in str(info.value) and "verify" in str(info.value)
    assert filled.head()[0] == N  # nothing new, nothing rewritten
    assert [r.seq for r in filled.records()] == list(range(1, N + 1))
    assert not verify_log(filled).ok  # and the planted change is a verification failure


def test_append_still_works_and_confirms_on_an_untouched_log(filled: AuditLog) -> None:
    record = filled.append(decision(99, overrode=True))
    assert record.seq == N + 1 and filled.get(N + 1) == record


# Each changes the file's schema without touching a row: all must fail verification.
SCHEMA_TAMPERING: dict[str, tuple[tuple[str, ...], str]] = {
    "before-insert-trigger": (WRITE_SABOTAGE["before-insert-ignore"], "x"),
    "after-insert-trigger": (
        ("CREATE TRIGGER x AFTER INSERT ON audit_log BEGIN SELECT RAISE(IGNORE); END",),
        "x",
    ),
    "trigger-on-checkpoints": (
        ("CREATE TRIGGER x BEFORE INSERT ON checkpoints BEGIN SELECT RAISE(IGNORE); END",),
        "x",
    ),
    "trigger-on-meta": (
        ("CREATE TRIGGER x AFTER INSERT ON meta BEGIN SELECT 1; END",),
        "x",
    ),
    "view-instead-of": (WRITE_SABOTAGE["view-instead-of-drops"], "audit_log"),
    "extra-index": (("CREATE INDEX x ON audit_log(reason)",), "x"),
    "extra-unique-index": (("CREATE UNIQUE INDEX x ON audit_log(user_os, seq)",), "x"),
    "extra-table": (("CREATE TABLE x (a)",), "x"),
    "extra-view": (("CREATE VIEW x AS SELECT seq FROM audit_log",), "x"),
    "dropped-index": (("DROP INDEX audit_log_time",), "audit_log_time"),
    "dropped-trigger": (("DROP TRIGGER checkpoints_no_delete",), "checkpoints_no_delete"),
    "altered-trigger": (
        (
            "DROP TRIGGER audit_log_no_update",
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
            "WHEN NEW.reason IS OLD.reason BEGIN SELECT RAISE(ABORT, 'append-only'); END",
        ),
        "audit_log_no_update",
    ),
    "altered-index": (
        ("DROP INDEX audit_log_time", "CREATE INDEX audit_log_time ON audit_log(time, reason)"),
        "audit_log_time",
    ),
    "renamed-table": (
        ("ALTER TABLE checkpoints RENAME TO checkpoints_old",),
        "checkpoints",
    ),
}


@pytest.mark.parametrize("case", list(SCHEMA_TAMPERING), ids=list(SCHEMA_TAMPERING))
def test_changed_schema_fails_verification(filled: AuditLog, case: str) -> None:
    statements, name = SCHEMA_TAMPERING[case]
    cp = filled.checkpoint()  # even against an earlier checkpoint: the rows are all still there
    _plant(filled.path, statements)
    result = verify_log(filled, [("earlier report", cp)])
    assert not result.ok, case
    assert any("schema" in p and name in p for p in result.problems), result.problems
    assert "schema" in result.summary()


def test_dropped_row_story_from_the_review(filled: AuditLog) -> None:
    """The reported attack end to end: a planted trigger, an override the GUI thought saved,
    and `audit verify` (with an earlier checkpoint) calling the log intact."""
    cp = filled.checkpoint()
    _plant(filled.path, WRITE_SABOTAGE["before-insert-ignore"])
    with pytest.raises(AuditWriteError):
        filled.append(decision(99, overrode=True))
    result = verify_log(filled, [("earlier report", cp)])
    assert not result.ok and "trigger x" in " ".join(result.problems)


# -------------------------------------------------- issue 12.2: sequence numbers are 1..N


def test_schema_refuses_a_sequence_number_below_one(filled: AuditLog) -> None:
    conn = raw(filled.path)
    row = select_row(conn, 3)
    for seq in (0, -5):
        row[0] = seq
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            insert_row(conn, row)
    conn.close()


def _old_log(settings: Settings) -> AuditLog:
    """A log created by an earlier Bedside: schema version 1, no CHECK on seq."""
    from viewer.audit.schema import SCHEMA_V1

    settings.audit_db_path.parent.mkdir(parents=True, exist_ok=True)
    conn = raw(settings.audit_db_path)
    for statement in SCHEMA_V1:
        conn.execute(statement)
    conn.executemany(
        "INSERT INTO meta(key, value) VALUES (?, ?)",
        [("log_id", "old-log"), ("schema_version", "1"), ("created", "2025-01-01T00:00:00Z")],
    )
    conn.close()
    log = AuditLog.open(settings)
    fill(log, N)
    return log


def test_old_log_without_the_check_still_verifies(settings: Settings) -> None:
    with _old_log(settings) as log:
        result = verify_log(log)
        assert result.ok, result.problems


@pytest.mark.parametrize("seq", [0, -1, -(2**63)], ids=["zero", "minus-one", "most-negative"])
def test_foreign_row_below_one_fails_verification_on_an_old_log(
    settings: Settings, seq: int
) -> None:
    with _old_log(settings) as log:
        conn = raw(log.path)
        row = select_row(conn, 3)
        row[0] = seq
        insert_row(conn, row)
        conn.close()
        result = verify_log(log)
        assert not result.ok
        assert any(f"#{seq}" in p and "1" in p for p in result.problems), result.problems
        assert seq in [r.seq for r in log.records()]  # shown, never silently skipped


def test_foreign_row_in_a_rebuilt_table_fails_verification(filled: AuditLog) -> None:
    """The CHECK can be removed only by rebuilding the table: the schema check sees it, and
    the 1..N check still names the row."""
    conn = raw(filled.path)
    conn.execute("PRAGMA writable_schema=ON")
    conn.execute(
        "UPDATE sqlite_master SET sql = replace(sql, ' CHECK (seq >= 1)', '') "
        "WHERE name = 'audit_log'"
    )
    conn.close()
    conn = raw(filled.path)
    row = select_row(conn, 3)
    row[0] = 0
    insert_row(conn, row)
    conn.close()
    filled.connection().execute("SELECT 1 FROM audit_log LIMIT 1")
    with AuditLog.open_readonly(filled.path) as log:
        result = verify_log(log)
    assert not result.ok
    assert any("#0" in p for p in result.problems), result.problems
    assert any("schema" in p and "audit_log" in p for p in result.problems), result.problems


def test_duplicate_sequence_numbers_fail_verification(filled: AuditLog) -> None:
    """Duplicates need a table without its primary key: rebuilt by hand."""
    conn = raw(filled.path)
    drop_triggers(conn)
    conn.execute("CREATE TABLE copy AS SELECT * FROM audit_log")
    conn.execute("DROP TABLE audit_log")
    conn.execute("ALTER TABLE copy RENAME TO audit_log")
    conn.execute("INSERT INTO audit_log SELECT * FROM audit_log WHERE seq = 4")
    restore_triggers(conn)
    conn.close()
    result = verify_log(filled)
    assert not result.ok
    assert any("#4" in p and "more than once" in p for p in result.problems), result.problems
