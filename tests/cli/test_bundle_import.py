"""`bedside bundle import` (#13 item 1): one command from a release file to a signed bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.bundle.conftest import KeyPair
from tests.bundle.txv_reference import save_densenet_release
from tests.cli.test_bundle import run
from viewer.errors import BundleError


def test_import_torchxrayvision_then_verify_and_install(
    tmp_path: Path, key: KeyPair, capsys: pytest.CaptureFixture[str]
) -> None:
    weights = tmp_path / "densenet121-res224-chex.pt"
    save_densenet_release(weights, "densenet121-res224-chex")
    out = tmp_path / "chex.bundle"
    argv = ["bundle", "import", "torchxrayvision", str(weights), "--weights-name",
            "densenet121-res224-chex", "--key", str(key.private_path), "--out", str(out),
            "--version", "1.2.0", "--resize", "model"]  # fmt: skip
    assert run(argv) == 0
    text = capsys.readouterr().out
    assert "txv-densenet121-res224-chex 1.2.0" in text
    assert "11 label(s) shown, 7 hidden output(s)" in text
    assert run(["bundle", "verify", str(out), "--trust-key", str(key.public_path)]) == 0
    assert "Self-test passed" in capsys.readouterr().out
    # txv shows op_norm-calibrated scores: every shown label declares it
    assert {label["calibration"]["method"] for label in _manifest(out)["labels"]} == {"op_norm"}


def test_import_refuses_a_payload_and_an_unknown_weights_name(tmp_path: Path, key: KeyPair) -> None:
    import zipfile

    marker = tmp_path / "ran"
    evil = tmp_path / "evil.pt"
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("archive/data.pkl", b"cos\nsystem\n(V" + f"touch {marker}".encode() + b"\ntR.")
    base = ["--key", str(key.private_path), "--out", str(tmp_path / "x.bundle")]
    with pytest.raises(BundleError) as info:
        run(["bundle", "import", "torchxrayvision", str(evil), "--weights-name",
             "densenet121-res224-all", *base])  # fmt: skip
    assert info.value.code == "weights" and not marker.exists()
    with pytest.raises(BundleError, match="Unknown TorchXRayVision weights"):
        run(["bundle", "import", "torchxrayvision", str(evil), "--weights-name", "vit", *base])
    assert not (tmp_path / "x.bundle").exists()


def test_import_torchvision_densenet121_with_a_hidden_label(
    tmp_path: Path, key: KeyPair, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    from tests.bundle.conftest import random_state

    state: dict[str, Any] = random_state("densenet121", in_channels=3, num_labels=3, seed=1)
    # CheXNet's layout: DataParallel + a wrapper + Sequential(Linear, Sigmoid)
    wrapped = {
        "module.densenet121." + k.replace("classifier.", "classifier.0."): v
        for k, v in state.items()
    }
    weights = tmp_path / "chexnet.pth"
    torch.save({"state_dict": wrapped}, weights)
    out = tmp_path / "chexnet.bundle"
    argv = ["bundle", "import", "torchvision-densenet121", str(weights), "--id", "chexnet",
            "--labels", "Atelectasis,Cardiomegaly,Other", "--thresholds", "0.2,0.3,",
            "--key", str(key.private_path), "--out", str(out)]  # fmt: skip
    assert run(argv) == 0
    assert "2 label(s) shown, 1 hidden output(s)" in capsys.readouterr().out
    # no calibration: the raw score is shown, and the manifest leaves the default out
    assert all("calibration" not in label for label in _manifest(out)["labels"])


def _manifest(bundle: Path) -> dict[str, Any]:
    import json
    import zipfile

    with zipfile.ZipFile(bundle) as zf:
        data: dict[str, Any] = json.loads(zf.read("manifest.json"))
    return data
