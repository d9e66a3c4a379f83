"""``audit verify --checkpoint`` given a FIFO or a device: it waited for ever for a FIFO's writer
and read /dev/zero into a MemoryError traceback. A checkpoint file is read as a bounded regular
file (viewer.paths.read_bounded): one sentence, before a byte is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.audit.helpers import fill
from tests.special_files import SPECIAL, run_child
from viewer.audit import AuditLog
from viewer.config import Settings


@pytest.mark.parametrize("target", list(SPECIAL), ids=list(SPECIAL))
def test_a_checkpoint_that_is_a_fifo_or_a_device_is_one_sentence(
    settings: Settings, tmp_path: Path, target: str
) -> None:
    with AuditLog.open(settings) as log:
        fill(log, 3)
    path = SPECIAL[target](tmp_path)
    proc = run_child(["audit", "verify", "--checkpoint", str(path)])
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    assert f"Checkpoint file ({path}) is " in proc.stderr and "not a regular file" in proc.stderr
