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


@pytest.mark.parametrize("target", list(TARGETS), ids=list(TARGETS))
@pytest.mark.parametrize("option", ["--licence-file", "--card-notes"])
def test_bundle_create_text_inputs_that_are_a_fifo_or_a_device_are_one_sentence(
    tmp_path: Path, target: str, option: str
) -> None:
    """The licence and the card notes were read whole: a FIFO waited for ever, /dev/zero ran
    out of memory. They are read first, before the weights."""
    path = TARGETS[target](tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from viewer.cli.main import main; sys.exit(main())",
         "bundle", "create", "--arch", "small_cnn", "--weights", "w.safetensors", "--manifest",
         "m.json", "--sample", "s.dcm", "--out", str(tmp_path / "o.bundle"), option, str(path)],
        capture_output=True, text=True, timeout=120, check=False, preexec_fn=_bounded,
    )  # fmt: skip
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"{option} ({path}) is " in proc.stderr and "not a regular file" in proc.stderr


@pytest.mark.parametrize("target", list(TARGETS), ids=list(TARGETS))
def test_a_manifest_template_that_is_a_fifo_or_a_device_is_one_sentence(
    tmp_path: Path, target: str
) -> None:
    path = TARGETS[target](tmp_path)
    code = CHILD.format(module="create", function="read_template", extra="")
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True, text=True, timeout=120, check=False, preexec_fn=_bounded,
    )  # fmt: skip
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "not a regular file" in proc.stdout and "manifest template" in proc.stdout
