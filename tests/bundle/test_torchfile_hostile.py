"""A weights file that is a FIFO or a device: ``bundle import`` waited for ever for a FIFO's
writer and read /dev/zero until a MemoryError traceback; ``bundle create`` called /dev/zero
"does not exist". Each is one sentence, before a byte is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.special_files import SPECIAL, run_child

CHILD = """
import sys
from viewer.bundle.{module} import {function}
from viewer.errors import BundleError
try:
    {function}(sys.argv[1])
except BundleError as exc:
    print(exc.message)
"""


@pytest.mark.parametrize("target", list(SPECIAL), ids=list(SPECIAL))
@pytest.mark.parametrize(
    ("module", "function"),
    [("torchfile", "read_torch_file"), ("create", "read_state_dict")],
    ids=["import", "create"],
)
def test_weights_that_are_a_fifo_or_a_device_are_one_sentence(
    tmp_path: Path, target: str, module: str, function: str
) -> None:
    path = SPECIAL[target](tmp_path)
    code = CHILD.format(module=module, function=function)
    proc = run_child([str(path)], code=code)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert (
        proc.stdout.strip() == "The weights file is not a regular file (a folder, pipe or device)."
    )


@pytest.mark.parametrize("target", list(SPECIAL), ids=list(SPECIAL))
@pytest.mark.parametrize("option", ["--licence-file", "--card-notes"])
def test_bundle_create_text_inputs_that_are_a_fifo_or_a_device_are_one_sentence(
    tmp_path: Path, target: str, option: str
) -> None:
    """The licence and the card notes were read whole: a FIFO waited for ever, /dev/zero ran
    out of memory. They are read first, before the weights."""
    path = SPECIAL[target](tmp_path)
    proc = run_child(
        [
            "bundle",
            "create",
            "--arch",
            "small_cnn",
            "--weights",
            "w.safetensors",
            "--manifest",
            "m.json",
            "--sample",
            "s.dcm",
            "--out",
            str(tmp_path / "o.bundle"),
            option,
            str(path),
        ],
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"{option} ({path}) is " in proc.stderr and "not a regular file" in proc.stderr


@pytest.mark.parametrize("target", list(SPECIAL), ids=list(SPECIAL))
def test_a_manifest_template_that_is_a_fifo_or_a_device_is_one_sentence(
    tmp_path: Path, target: str
) -> None:
    path = SPECIAL[target](tmp_path)
    code = CHILD.format(module="create", function="read_template")
    proc = run_child([str(path)], code=code)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "not a regular file" in proc.stdout and "manifest template" in proc.stdout
