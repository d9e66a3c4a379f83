"""An audit log file that is not a database, or a damaged one, is one sentence a quality lead can
act on, for reading (verify, show) as for writing, never SQLite's own words ("file is not a
database", "database disk image is malformed"); the file is left as it was."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.audit.helpers import fill
from viewer.audit import AuditLog
from viewer.cli.main import main
from viewer.config import Settings


def _random(db: Path) -> None:
    db.write_bytes(os.urandom(5000))


def _text(db: Path) -> None:
    db.write_text("hello\n", encoding="utf-8")


def _cut_in_half(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])


def _sqlite_header_then_zeros(db: Path) -> None:
    db.write_bytes(b"SQLite format 3\x00" + bytes(4000))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "random-bytes": _random,
    "text": _text,
    "cut-in-half": _cut_in_half,
    "sqlite-header-then-zeros": _sqlite_header_then_zeros,
}
SQLITE_WORDS = ("not a database", "malformed", "disk image", "sqlite")


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
@pytest.mark.parametrize("command", [["audit", "verify"], ["audit", "show"]], ids=" ".join)
def test_a_damaged_log_is_one_sentence_and_left_as_it_was(
    settings: Settings, capsys: pytest.CaptureFixture[str], damage: str, command: list[str]
) -> None:
    with AuditLog.open(settings) as log:
        fill(log, 30)
    db = settings.audit_db_path
    for side in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        side.unlink(missing_ok=True)
    DAMAGE[damage](db)
    before = db.read_bytes()
    assert main(command) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    said = err.replace(str(db), "")  # the path holds "sqlite" and the test's name
    assert str(db) in err and "damaged" in said, err
    assert not any(word in said.lower() for word in SQLITE_WORDS), err
    assert db.read_bytes() == before  # nothing repaired, nothing replaced
