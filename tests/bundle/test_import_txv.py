"""`bundle import torchxrayvision`: parity with TorchXRayVision's own code (issue 13).

Random weights saved in txv's release formats (a pickled DenseNet module, the ResNet-50 state
dict); generated DICOMs of 8, 10, 12 and 15 bits, MONOCHROME1 and 2, odd and even sides. The
bundle, loaded as the viewer loads it and scored by the Predictor, must give txv's raw scores
(``raw_score``) and, as the shown score, txv's op_norm-calibrated output within 1e-4 for the
README pipeline (read_xray_dcm -> XRayCenterCrop -> XRayResizer -> model) and the model-resize
pipeline (the model's own F.interpolate), and the same decisions as txv's calibrated output > 0.5.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.bundle.txv_reference import save_densenet_release, save_resnet_release, xrv

# (bits, photometric, rows, cols): odd and even sides, both crop directions
IMAGES = [
    (8, "MONOCHROME2", 300, 261),
    (10, "MONOCHROME1", 257, 320),
    (12, "MONOCHROME2", 331, 300),
    (15, "MONOCHROME1", 290, 245),
    (12, "MONOCHROME1", 199, 180),  # smaller than 224: scikit-image does not filter
]


def _dicoms(folder: Path, images: list[tuple[int, str, int, int]]) -> list[Path]:
    from viewer.dicom.synthetic import make_cxr

    paths = []
    for i, (bits, photometric, rows, cols) in enumerate(images):
        ds = make_cxr(
            i, opacity=bool(i % 2), photometric=photometric, size=(rows, cols), bits_stored=bits
        )
        path = folder / f"img{i}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def _txv_scores(
    model: Any, path: Path, size: int, resize: str, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """txv's raw sigmoid scores and its op_norm-calibrated ones for one file: a txv DenseNet's
    own forward with the operating thresholds of ``name`` set (sigmoid, then ``op_norm``); the
    ResNet-50 state dict sits in a torchvision module, so ``op_norm`` is applied to its sigmoid
    as txv's ``ResNet.forward`` does."""
    import torch

    lib = xrv()
    thresholds = torch.tensor(lib.models.model_urls[name]["op_threshs"], dtype=torch.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        img = lib.utils.read_xray_dcm(path)[None]
        img = lib.datasets.XRayCenterCrop()(img)
        if resize == "readme":
            img = lib.datasets.XRayResizer(size)(img)
        x = torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32))[None]
        if resize == "model":
            x = torch.nn.functional.interpolate(
                x, size=(size, size), mode="bilinear", antialias=True
            )
        with torch.no_grad():
            raw = torch.sigmoid(model(x))
            if isinstance(model, lib.models.DenseNet):
                model.op_threshs = thresholds
                try:
                    calibrated = model(x)
                finally:
                    model.op_threshs = None
            else:
                calibrated = lib.models.op_norm(raw, thresholds)
    return raw[0].numpy(), calibrated[0].numpy()


def _bedside(bundle: Path, trust: Any, paths: list[Path]) -> tuple[Any, list[Any]]:
    from viewer.bundle.loader import load_bundle
    from viewer.dicom.reader import read_image
    from viewer.inference.predict import Predictor

    loaded = load_bundle(bundle, trust)
    predictor = Predictor(loaded, threads=2)
    return loaded.manifest, [predictor.predict(read_image(p)) for p in paths]


def _compare(
    manifest: Any,
    predictions: list[Any],
    reference: list[tuple[np.ndarray, np.ndarray]],
    name: str,
) -> float:
    """Bedside's raw score against txv's sigmoid and its shown score against txv's calibrated
    output, label by label; each decision against txv's calibrated output > 0.5."""
    lib = xrv()
    table = lib.models.model_urls[name]
    shown = manifest.shown_outputs
    worst = worst_shown = 0.0
    for prediction, (raw, calibrated) in zip(predictions, reference, strict=True):
        for label, index in zip(prediction.labels, shown, strict=True):
            assert label.label == table["labels"][index]
            assert label.calibrated and label.shown_threshold == 0.5
            worst = max(worst, abs(label.raw_score - float(raw[index])))
            # the shown score is txv's calibrated output, to the same tolerance
            worst_shown = max(worst_shown, abs(label.score - float(calibrated[index])))
            if abs(float(raw[index]) - label.threshold) > 1e-6:  # not a tie
                assert label.positive == bool(calibrated[index] > 0.5), label
                assert label.positive == (label.score >= 0.5), label
    # shown with -s
    print(f"max |score difference| {name}: raw {worst:.2e}, calibrated {worst_shown:.2e}")
    assert worst <= 1e-4, worst
    assert worst_shown <= 1e-4, worst_shown
    return worst


@pytest.fixture(scope="module")
def densenet_case(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("txv-densenet")
    model = save_densenet_release(folder / "densenet121-res224-all.pt", "densenet121-res224-all")
    return {"folder": folder, "model": model, "paths": _dicoms(folder, IMAGES)}


@pytest.mark.parametrize("resize", ["readme", "model"])
def test_densenet_matches_torchxrayvision(
    densenet_case: dict[str, Any], resize: str, key: Any, trust: Any
) -> None:
    from viewer.bundle.importers import import_torchxrayvision

    folder = densenet_case["folder"]
    out = folder / f"dn-{resize}.bundle"
    import_torchxrayvision(
        folder / "densenet121-res224-all.pt",
        weights_name="densenet121-res224-all",
        out=out,
        private_key=key.private,
        resize=resize,
    )
    manifest, predictions = _bedside(out, trust, densenet_case["paths"])
    assert len(manifest.labels) == 18 and not manifest.hidden_outputs
    reference = [
        _txv_scores(densenet_case["model"], p, 224, resize, "densenet121-res224-all")
        for p in densenet_case["paths"]
    ]
    _compare(manifest, predictions, reference, "densenet121-res224-all")


def test_hidden_outputs_are_never_shown(
    tmp_path: Path, key: Any, trust: Any, densenet_case: dict[str, Any]
) -> None:
    """nih: 14 labels and 4 outputs with no label and a NaN threshold."""
    from viewer.bundle.importers import import_torchxrayvision

    weights = tmp_path / "nih.pt"
    model = save_densenet_release(weights, "densenet121-res224-nih", seed=3)
    out = tmp_path / "nih.bundle"
    import_torchxrayvision(
        weights, weights_name="densenet121-res224-nih", out=out, private_key=key.private
    )
    paths = densenet_case["paths"][:2]
    manifest, predictions = _bedside(out, trust, paths)
    assert [h.output for h in manifest.hidden_outputs] == [14, 15, 16, 17]
    assert all(h.reason == "no label" for h in manifest.hidden_outputs)
    assert len(predictions[0].labels) == 14
    assert "" not in [r.label for r in predictions[0].labels]
    reference = [_txv_scores(model, p, 224, "readme", "densenet121-res224-nih") for p in paths]
    _compare(manifest, predictions, reference, "densenet121-res224-nih")


@pytest.mark.slow
@pytest.mark.parametrize("resize", ["readme", "model"])
def test_resnet50_matches_torchxrayvision(
    tmp_path: Path, resize: str, key: Any, trust: Any
) -> None:
    from viewer.bundle.importers import import_torchxrayvision

    weights = tmp_path / "resnet50.pt"
    model = save_resnet_release(weights)
    out = tmp_path / "rn.bundle"
    import_torchxrayvision(
        weights, weights_name="resnet50-res512-all", out=out, private_key=key.private,
        resize=resize,
    )  # fmt: skip
    paths = _dicoms(tmp_path, [(12, "MONOCHROME1", 601, 540), (10, "MONOCHROME2", 530, 575)])
    manifest, predictions = _bedside(out, trust, paths)
    # Lung Lesion and Enlarged Cardiomediastinum have no published threshold
    assert [h.name for h in manifest.hidden_outputs] == [
        "Lung Lesion",
        "Enlarged Cardiomediastinum",
    ]
    reference = [_txv_scores(model, p, 512, resize, "resnet50-res512-all") for p in paths]
    _compare(manifest, predictions, reference, "resnet50-res512-all")


def test_tables_match_torchxrayvision() -> None:
    """The labels and thresholds Bedside copied are the library's, in order."""
    import math

    from viewer.bundle.importers import TXV_VERSION, TXV_WEIGHTS

    lib = xrv()
    assert lib.__version__ == TXV_VERSION
    for name, (url, labels, thresholds) in TXV_WEIGHTS.items():
        table = lib.models.model_urls[name]
        assert url == table["weights_url"]
        assert list(labels) == table["labels"]
        for ours, theirs in zip(thresholds, table["op_threshs"], strict=True):
            assert (ours is None and math.isnan(theirs)) or ours == float(theirs)
