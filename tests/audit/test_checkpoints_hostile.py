"""``audit verify --checkpoint`` given a FIFO or a device: it waited for ever for a FIFO's writer
and read /dev/zero into a MemoryError traceback. A checkpoint file is read as a bounded regular
file (viewer.paths.read_bounded): one sentence, before a byte is read."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.audit.helpers import fill
from viewer.audit import AuditLog
from viewer.config import Settings


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "checkpoint.json"
    os.mkfifo(path)
    return path


def _bounded() -> None:  # a read of /dev/zero stops at 2 GiB in the child, not in the machine
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


TARGETS = {"fifo": _fifo, "dev-zero": lambda _tmp: Path("/dev/zero")}


@pytest.mark.parametrize("target", list(TARGETS), ids=list(TARGETS))
def test_a_checkpoint_that_is_a_fifo_or_a_device_is_one_sentence(
    settings: Settings, tmp_path: Path, target: str
) -> None:
    with AuditLog.open(settings) as log:
        fill(log, 3)
    path = TARGETS[target](tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from viewer.cli.main import main; sys.exit(main())",
         "audit", "verify", "--checkpoint", str(path)],
        capture_output=True, text=True, timeout=120, check=False, preexec_fn=_bounded,
    )  # fmt: skip
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    assert f"Checkpoint file ({path}) is " in proc.stderr and "not a regular file" in proc.stderr
