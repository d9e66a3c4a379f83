"""A key file that is a FIFO or a device: ``bundle sign --key FIFO`` waited for ever for a
writer and ``--key /dev/zero`` ended in a MemoryError traceback (the whole "file" was read to
look for ENCRYPTED). Every key is read without following it into a FIFO or device and without
reading more than a key's size."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from viewer.bundle.keys import load_private_key, load_public_key
from viewer.errors import BundleError


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "key.pem"
    os.mkfifo(path)
    return path


TARGETS = {"fifo": _fifo, "dev-zero": lambda _tmp: Path("/dev/zero")}


@pytest.mark.parametrize("target", list(TARGETS), ids=list(TARGETS))
def test_signing_with_a_key_that_is_a_fifo_or_a_device_is_one_sentence(
    tmp_path: Path, target: str
) -> None:
    key = TARGETS[target](tmp_path)
    bundle = tmp_path / "x.bundle"
    bundle.write_bytes(b"PK\x05\x06" + bytes(18))
    # in a child process: a read that waits for a FIFO's writer must not hang the test run
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from viewer.cli.main import main; sys.exit(main())",
         "bundle", "sign", "--key", str(key), str(bundle)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "not a regular file" in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr


@pytest.mark.parametrize("load", [load_private_key, load_public_key], ids=["private", "public"])
def test_loading_a_device_as_a_key_is_refused_without_reading_it(load: object) -> None:
    with pytest.raises(BundleError, match="not a regular file"):
        load("/dev/zero")  # type: ignore[operator]
