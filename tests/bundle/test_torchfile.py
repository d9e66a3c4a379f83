"""The restricted reader of torch release files: tensors yes, code never (issue 13)."""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from viewer.bundle.torchfile import read_torch_file, state_dict_of
from viewer.errors import BundleError


def _release_file(path: Path, payload: bytes) -> Path:
    """A file in torch's zip layout (archive/data.pkl, archive/data/0, ...) around a pickle."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", payload)
        z.writestr("archive/byteorder", b"little")
        z.writestr("archive/data/0", np.arange(4, dtype="<f4").tobytes())
        z.writestr("archive/version", b"3\n")
    return path


def test_a_pickle_payload_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    command = f"touch {marker}".encode()
    # GLOBAL os.system, (command,), REDUCE, STOP
    payload = b"cos\nsystem\n(" + b"V" + command + b"\ntR."
    assert pickle.loads.__name__  # the payload is a real one: it would run under pickle.loads
    path = _release_file(tmp_path / "evil.pt", payload)
    with pytest.raises(BundleError) as info:
        read_torch_file(path)
    assert info.value.code == "weights"
    assert "os.system" in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize(
    "global_name",
    [b"builtins\neval", b"subprocess\nPopen", b"torch\nload", b"torch.nn.modules\n__import__"],
)
def test_other_globals_are_refused(tmp_path: Path, global_name: bytes) -> None:
    path = _release_file(tmp_path / "evil.pt", b"c" + global_name + b"\n(V1\ntR.")
    with pytest.raises(BundleError, match="refused"):
        read_torch_file(path)


def test_reads_a_module_and_a_state_dict(tmp_path: Path) -> None:
    import torch

    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    model.register_buffer("op_threshs", torch.tensor([0.5]))
    torch.save(model, tmp_path / "m.pt")
    torch.save(model.state_dict(), tmp_path / "s.pt")
    for name in ("m.pt", "s.pt"):
        state = state_dict_of(read_torch_file(tmp_path / name))
        assert state.keys() == model.state_dict().keys()
        for k, v in model.state_dict().items():
            assert np.array_equal(state[k], v.numpy())


def test_not_a_zip_and_a_short_storage(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.pt"
    legacy.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(BundleError, match="not a torch zip"):
        read_torch_file(legacy)
    buf = io.BytesIO()
    pickle.Pickler(buf, protocol=2).dump(None)
    short = tmp_path / "short.pt"
    with zipfile.ZipFile(short, "w") as z:
        z.writestr("a/data.pkl", b"\x80\x02(X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
                   b"X\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x64tQ.")  # fmt: skip
        z.writestr("a/data/0", b"\x00" * 8)
    with pytest.raises(BundleError, match="shorter"):
        read_torch_file(short)
