"""A weights file that is a FIFO or a device: ``bundle import`` waited for ever for a FIFO's
writer and read /dev/zero until a MemoryError traceback; ``bundle create`` called /dev/zero
"does not exist". Each is one sentence, before a byte is read."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = """
import sys
from viewer.bundle.{module} import {function}
from viewer.errors import BundleError
try:
    {function}(sys.argv[1]{extra})
except BundleError as exc:
    print(exc.message)
"""


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "weights.pt"
    os.mkfifo(path)
    return path


def _bounded() -> None:  # a read of /dev/zero stops at 2 GiB in the child, not in the machine
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


TARGETS = {"fifo": _fifo, "dev-zero": lambda _tmp: Path("/dev/zero")}


@pytest.mark.parametrize("target", list(TARGETS), ids=list(TARGETS))
@pytest.mark.parametrize(
    ("module", "function", "extra"),
    [("torchfile", "read_torch_file", ""), ("create", "read_state_dict", "")],
    ids=["import", "create"],
)
def test_weights_that_are_a_fifo_or_a_device_are_one_sentence(
    tmp_path: Path, target: str, module: str, function: str, extra: str
) -> None:
    path = TARGETS[target](tmp_path)
    code = CHILD.format(module=module, function=function, extra=extra)
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True, text=True, timeout=120, check=False, preexec_fn=_bounded,
    )  # fmt: skip
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert (
        proc.stdout.strip() == "The weights file is not a regular file (a folder, pipe or device)."
    )
