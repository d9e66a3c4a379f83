"""A "bundle" that is a FIFO or a device: ``bundle verify``, ``bundle install`` and ``infer
--bundle`` hung for ever (the refusal's audit row wanted the file's SHA-256, read to its end:
a FIFO waits for a writer, /dev/zero never ends). The refusal is one sentence, at once, and it is
recorded without a digest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from viewer.audit import AuditLog
from viewer.config import Settings


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "model.bundle"
    os.mkfifo(path)
    return path


TARGETS = {"fifo": _fifo, "dev-zero": lambda _tmp: Path("/dev/zero")}
# the command and whether it records the refusal (``bundle verify`` only checks)
COMMANDS = {
    "verify": (["bundle", "verify"], False),
    "install": (["bundle", "install"], True),
    "infer": (["infer", "--bundle"], True),
}


@pytest.mark.parametrize("target", list(TARGETS), ids=list(TARGETS))
@pytest.mark.parametrize("command", list(COMMANDS), ids=list(COMMANDS))
def test_a_bundle_that_is_a_fifo_or_a_device_is_refused_at_once_and_recorded(
    settings: Settings, tmp_path: Path, cxr_path: Path, target: str, command: str
) -> None:
    path = TARGETS[target](tmp_path)
    words, recorded = COMMANDS[command]
    argv = [*words, str(path)] + ([str(cxr_path)] if command == "infer" else [])
    # in a child process: a read that waits for a FIFO's writer must not hang the test run
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from viewer.cli.main import main; sys.exit(main())",
         "--demo", *argv],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "not a regular file" in proc.stderr and "Traceback" not in proc.stderr
    if not recorded:
        return
    with AuditLog.open_readonly(settings.audit_db_path, settings=settings) as log:
        refused = [r for r in log.records() if str(r.type) == "bundle_refused"]
    assert refused and refused[-1].bundle_digest is None
