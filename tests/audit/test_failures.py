"""Write failures: disk full, read-only folder, lock held too long. The caller learns the act was
NOT saved, nothing half-written remains, and the log still verifies afterwards."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.audit.helpers import child, decision, fill
from viewer.audit import AuditLog, verify_log
from viewer.config import Settings, load_settings
from viewer.errors import AuditWriteError

NOBODY = 65534


def test_disk_full_fails_cleanly_and_log_stays_valid(log: AuditLog, settings: Settings) -> None:
    fill(log, 5)
    proc = child("fsize", "40000")  # every file may grow by 40 kB at most
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    lines = out.strip().splitlines()
    assert lines[-1].startswith("failed: The decision was NOT saved")
    assert "full" in lines[-1]
    committed = [line.split() for line in lines[:-1]]
    assert len(committed) > 0  # some decisions fitted before the limit
    with AuditLog.open(settings) as again:
        result = verify_log(again)
        assert result.ok, result.problems
        assert result.rows == 5 + len(committed)  # the failed one left nothing behind
        for seq, digest in committed:
            assert again.get(int(seq)).hash == digest  # type: ignore[union-attr]
        assert again.append(decision(99)).seq == result.rows + 1  # space is back: writes work
        assert verify_log(again).ok


@pytest.fixture
def shared_data_dir() -> Iterator[Path]:
    """A data dir a child process can use under another uid (root ignores file modes)."""
    base = Path(tempfile.mkdtemp(prefix="bedside-ro-"))
    base.chmod(0o755)
    data = base / "data"
    data.mkdir()
    if os.geteuid() == 0:
        os.chown(data, NOBODY, NOBODY)
    yield data
    for p in [data, *data.iterdir()]:
        p.chmod(0o700)
    shutil.rmtree(base)


def _in_child_as(uid: int | None, work: Callable[[], str]) -> str:
    """Run ``work`` in a forked child under ``uid`` (root ignores file modes) and return its
    one-line answer. Forked, not exec'd: the interpreter may live where that uid cannot read."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(read_end)
        try:
            if uid is not None:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
            answer = work()
        except BaseException as exc:
            answer = f"crashed: {exc!r}"
        os.write(write_end, answer.encode("utf-8"))
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as fh:
        answer = fh.read().decode("utf-8")
    os.waitpid(pid, 0)
    return answer


def test_read_only_data_dir_refuses_with_clear_error(shared_data_dir: Path) -> None:
    settings = load_settings(env={"BEDSIDE_DATA_DIR": str(shared_data_dir)})
    as_user = NOBODY if os.geteuid() == 0 else None

    def write_three() -> str:
        with AuditLog.open(settings) as log:
            fill(log, 3)
        return "done"

    def try_append() -> str:
        try:
            with AuditLog.open(settings, busy_timeout_s=1) as log:
                return f"saved {log.append(decision(4)).seq}"
        except AuditWriteError as exc:
            return f"failed: {exc}"

    assert _in_child_as(as_user, write_three) == "done"
    for p in shared_data_dir.iterdir():
        p.chmod(0o400)
    shared_data_dir.chmod(0o500)
    out = _in_child_as(as_user, try_append)
    assert out.startswith("failed: "), out
    assert "read-only" in out or "cannot be opened" in out
    assert "No decision can be saved" in out or "NOT saved" in out
    shared_data_dir.chmod(0o700)  # the folder is writable again, the log file is not
    out = _in_child_as(as_user, try_append)
    assert out.startswith(
        "failed: The decision was NOT saved: the audit log or its folder is read-only"
    )
    for p in shared_data_dir.iterdir():
        p.chmod(0o600)
    with AuditLog.open(settings) as log:
        result = verify_log(log)
        assert result.ok and result.rows == 3


def test_lock_held_too_long_fails_with_not_saved(settings: Settings) -> None:
    with AuditLog.open(settings, busy_timeout_s=0.05) as log:
        fill(log, 2)
        blocker = sqlite3.connect(log.path, isolation_level=None, timeout=0)
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(AuditWriteError, match="NOT saved: the audit log is busy"):
            log.append(decision(3))
        blocker.execute("ROLLBACK")
        blocker.close()
        assert log.append(decision(4)).seq == 3
        assert verify_log(log).ok


def test_unwritable_location_refuses_to_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be", encoding="utf-8")
    monkeypatch.setenv("BEDSIDE_DATA_DIR", str(blocker / "data"))
    with pytest.raises(AuditWriteError, match=r"No decision can be saved|NOT saved"):
        AuditLog.open(load_settings())


def test_damaged_file_is_refused_clearly(settings: Settings) -> None:
    settings.audit_db_path.write_bytes(b"this is not an SQLite database" * 100)
    with pytest.raises(AuditWriteError, match="damaged"):
        AuditLog.open(settings)
    from viewer.errors import AuditError

    with pytest.raises(AuditError, match="cannot be read"):
        AuditLog.open_readonly(settings.audit_db_path)
