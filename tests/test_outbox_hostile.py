"""An outbox path that is not an outbox file: the reader and the writer refuse it with a
sentence at once (a FIFO hung SQLite's open, a folder was 'disk I/O error', a link loop a
RuntimeError), and a row whose times are not numbers is a read error, not a TypeError later."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from viewer.outbox import Outbox, OutboxError, OutboxReader

ROOT = Path(__file__).resolve().parents[1]


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _folder(path: Path) -> None:
    path.mkdir()


def _loop(path: Path) -> None:
    path.symlink_to(path)


def _device(path: Path) -> None:
    path.symlink_to("/dev/zero")


@pytest.mark.parametrize(
    "make", [_fifo, _folder, _loop, _device], ids=["fifo", "folder", "loop", "device"]
)
@pytest.mark.parametrize("opener", ["reader", "writer"])
def test_an_outbox_that_is_not_a_file_is_refused_at_once(
    tmp_path: Path, make: Callable[[Path], None], opener: str
) -> None:
    """In a child process with a timeout: before the fix the FIFO blocked forever."""
    path = tmp_path / "outbox.sqlite"
    make(path)
    cls = "OutboxReader" if opener == "reader" else "Outbox"
    code = (
        "import sys\n"
        f"from viewer.outbox import {cls}, OutboxError\n"
        f"try:\n    {cls}(sys.argv[1]).close()\n"
        "except OutboxError as exc:\n    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    verb = "read" if opener == "reader" else "opened"
    assert done.stdout.startswith(f"The outbox {path} cannot be {verb}: "), done.stdout
    assert "disk I/O" not in done.stdout


def damage_time(path: Path, kind: str, text: str) -> None:
    """An outbox holding one row whose queueing time is ``text`` (a damaged file)."""
    with Outbox(path) as box:
        box.put("k1", b"payload", kind=kind)
    db = sqlite3.connect(path)
    db.execute("UPDATE items SET created = ?", (text,))
    db.commit()
    db.close()


def test_a_time_that_is_not_a_number_is_a_read_error(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    damage_time(path, "atna", "abc")
    with OutboxReader(path) as reader, pytest.raises(OutboxError) as raised:
        reader.status()
    assert str(raised.value) == (
        f"The outbox {path} cannot be read: a time in it is not a number ('abc')."
    )
