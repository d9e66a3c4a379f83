"""A "bundle" that is a FIFO or a device: ``bundle verify``, ``bundle install`` and ``infer
--bundle`` hung for ever (the refusal's audit row wanted the file's SHA-256, read to its end:
a FIFO waits for a writer, /dev/zero never ends). The refusal is one sentence, at once, and it is
recorded without a digest."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.special_files import SPECIAL, run_child
from viewer.audit import AuditLog
from viewer.config import Settings

# the command and whether it records the refusal (``bundle verify`` only checks)
COMMANDS = {
    "verify": (["bundle", "verify"], False),
    "install": (["bundle", "install"], True),
    "infer": (["infer", "--bundle"], True),
}


@pytest.mark.parametrize("target", list(SPECIAL), ids=list(SPECIAL))
@pytest.mark.parametrize("command", list(COMMANDS), ids=list(COMMANDS))
def test_a_bundle_that_is_a_fifo_or_a_device_is_refused_at_once_and_recorded(
    settings: Settings, tmp_path: Path, cxr_path: Path, target: str, command: str
) -> None:
    path = SPECIAL[target](tmp_path)
    words, recorded = COMMANDS[command]
    argv = [*words, str(path)] + ([str(cxr_path)] if command == "infer" else [])
    proc = run_child(["--demo", *argv])
    assert proc.returncode == 1, proc.stderr
    assert "not a regular file" in proc.stderr and "Traceback" not in proc.stderr
    if not recorded:
        return
    with AuditLog.open_readonly(settings.audit_db_path, settings=settings) as log:
        refused = [r for r in log.records() if str(r.type) == "bundle_refused"]
    assert refused and refused[-1].bundle_digest is None
