"""A key file that is a FIFO or a device: ``bundle sign --key FIFO`` waited for ever for a
writer and ``--key /dev/zero`` ended in a MemoryError traceback (the whole "file" was read to
look for ENCRYPTED). Every key is read without following it into a FIFO or device and without
reading more than a key's size."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.special_files import SPECIAL, run_child
from viewer.bundle.keys import load_private_key, load_public_key
from viewer.errors import BundleError


@pytest.mark.parametrize("target", list(SPECIAL), ids=list(SPECIAL))
def test_signing_with_a_key_that_is_a_fifo_or_a_device_is_one_sentence(
    tmp_path: Path, target: str
) -> None:
    key = SPECIAL[target](tmp_path)
    bundle = tmp_path / "x.bundle"
    bundle.write_bytes(b"PK\x05\x06" + bytes(18))
    proc = run_child(["bundle", "sign", "--key", str(key), str(bundle)])
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "not a regular file" in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr


@pytest.mark.parametrize("load", [load_private_key, load_public_key], ids=["private", "public"])
def test_loading_a_device_as_a_key_is_refused_without_reading_it(load: object) -> None:
    with pytest.raises(BundleError, match="not a regular file"):
        load("/dev/zero")  # type: ignore[operator]
