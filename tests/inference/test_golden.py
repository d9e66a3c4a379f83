"""Golden tests: what ``bundle create`` stored is what the viewer computes, bit for bit.

``bundle create`` (viewer.bundle.create, which calls viewer.inference.selftest) stores the
sample's pixels, the preprocessed tensor and the logits in the bundle's self-test; these tests
read them back and require exact equality for generated DICOMs, for a small demo-cnn bundle, a
DenseNet-121 bundle at 224 px and the shipped demo bundle. The thread count is fixed to the one
used at creation: DenseNet's float reductions differ in the last bits between 1 and 2 threads.
A one-parameter change of the preprocessing in a (re-signed) manifest is refused at load.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.inference.conftest import PRE_DENSENET, PRE_SMALL
from viewer.errors import BundleError
from viewer.inference.engine import configure_threads
from viewer.inference.postprocess import postprocess
from viewer.inference.predict import Predictor
from viewer.inference.preprocess import ModelInput, preprocess

THREADS = 2


def _stored(path: Path) -> dict[str, np.ndarray]:
    import safetensors.numpy

    from viewer.bundle.archive import read_archive
    from viewer.bundle.manifest import SELFTEST_NAME

    tensors: dict[str, np.ndarray] = safetensors.numpy.load(
        read_archive(path).members[SELFTEST_NAME]
    )
    return tensors


def _check_golden(loaded: Any, stored: dict[str, np.ndarray], dicom: Path) -> None:
    from viewer.dicom import read_image

    image = read_image(dicom)
    inp = ModelInput.from_image(image)
    np.testing.assert_array_equal(inp.pixels, stored["input.pixels"])
    if "input.window" in stored:
        assert inp.window == tuple(stored["input.window"].tolist())
    tensor = preprocess(inp, loaded.manifest.preprocessing)
    assert tensor.dtype == stored["expected.tensor"].dtype
    np.testing.assert_array_equal(tensor, stored["expected.tensor"])
    # the thread count the expected logits were computed with: the manifest's selftest.threads
    # where the bundle records it, else the THREADS the test configured before bundle create
    threads = getattr(loaded.manifest.selftest, "threads", None) or THREADS
    prediction = Predictor(loaded, threads=threads).predict(image)
    expected = postprocess(stored["expected.logits"], loaded.manifest)
    assert [r.score for r in prediction.labels] == [r.score for r in expected]
    assert [r.positive for r in prediction.labels] == [r.positive for r in expected]
    assert loaded.selftest.passed
    assert loaded.selftest.max_abs_diff_tensor == 0.0
    assert loaded.selftest.max_abs_diff_output == 0.0


def _sample(tmp_path: Path, photometric: str) -> Path:
    """The DICOM the make_bundle fixture used as its self-test sample, generated again."""
    from viewer.dicom.synthetic import make_cxr

    path = tmp_path / f"again-{photometric}.dcm"
    make_cxr(7, opacity=True, size=(240, 200), photometric=photometric).save_as(
        path, enforce_file_format=True
    )
    return path


@pytest.mark.parametrize("photometric", ["MONOCHROME1", "MONOCHROME2"])
def test_golden_small_bundle(
    make_bundle: Callable[..., Path], settings: Any, tmp_path: Path, photometric: str
) -> None:
    from viewer.bundle.loader import load_bundle
    from viewer.bundle.trust import TrustStore

    configure_threads(THREADS)
    path = make_bundle(photometric=photometric)
    loaded = load_bundle(path, TrustStore.from_settings(settings))
    _check_golden(loaded, _stored(path), _sample(tmp_path, photometric))


def test_golden_densenet121_bundle_at_224(
    make_bundle: Callable[..., Path], settings: Any, tmp_path: Path
) -> None:
    from viewer.bundle.loader import load_bundle
    from viewer.bundle.trust import TrustStore

    configure_threads(THREADS)
    path = make_bundle(arch="densenet121", preprocessing=PRE_DENSENET, in_channels=3,
                       labels=(("opacity", 0.5), ("effusion", 0.3)),
                       photometric="MONOCHROME2")  # fmt: skip
    loaded = load_bundle(path, TrustStore.from_settings(settings))
    stored = _stored(path)
    assert stored["expected.tensor"].shape == (3, 224, 224)
    assert stored["expected.logits"].shape == (2,)
    _check_golden(loaded, stored, _sample(tmp_path, "MONOCHROME2"))


def test_golden_demo_bundle(demo_settings: Any, tmp_path: Path) -> None:
    """The shipped demo bundle: its self-test sample is make_cxr(7, opacity=True, 256 x 256)."""
    from viewer.bundle.loader import load_bundle
    from viewer.bundle.resources import DEMO_BUNDLE, resource_path
    from viewer.bundle.trust import TrustStore
    from viewer.dicom.synthetic import make_cxr

    path = resource_path(*DEMO_BUNDLE)
    if not path.is_file():
        pytest.skip("resources/demo/demo-cxr.bundle is not built (make demo-bundle)")
    # demo_build creates it with one thread (demo-cnn gives the same bits with 1 or 2 threads)
    configure_threads(1)
    loaded = load_bundle(path, TrustStore.from_settings(demo_settings))
    sample = tmp_path / "demo-sample.dcm"
    make_cxr(7, opacity=True, size=(256, 256)).save_as(sample, enforce_file_format=True)
    _check_golden(loaded, _stored(path), sample)


def _set_step(op: str, **changes: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        step = next(s for s in data["preprocessing"] if s["op"] == op)
        step.update(changes)

    return edit


def _drop_inversion(data: dict[str, Any]) -> None:
    data["preprocessing"] = [s for s in data["preprocessing"] if s["op"] != "invert_monochrome1"]


EDITS: dict[str, Callable[[dict[str, Any]], None]] = {
    "resize-size": _set_step("resize", size=72),
    "resize-interpolation": _set_step("resize", interpolation="bicubic"),
    "resize-antialias": _set_step("resize", antialias=False),
    "normalization-range": _set_step("normalize", out_min=-1000.0),
    "inversion": _drop_inversion,
    "square-mode": _set_step("square", mode="pad"),
}


@pytest.mark.parametrize("edit", list(EDITS.values()), ids=list(EDITS))
def test_one_changed_preprocessing_parameter_is_refused_at_load(
    make_bundle: Callable[..., Path],
    resign: Callable[..., Path],
    settings: Any,
    tmp_path: Path,
    edit: Callable[[dict[str, Any]], None],
) -> None:
    from viewer.bundle.loader import load_bundle
    from viewer.bundle.trust import TrustStore

    assert any(s["op"] == "normalize" for s in PRE_SMALL)
    original = make_bundle(photometric="MONOCHROME1")
    trust = TrustStore.from_settings(settings)
    assert load_bundle(original, trust).selftest.passed
    changed = resign(original, edit, tmp_path / "changed.bundle")
    with pytest.raises(BundleError) as info:
        load_bundle(changed, trust)
    assert info.value.code == "selftest"
    assert "self-test" in str(info.value)


def test_unknown_preprocessing_op_refuses_the_bundle_at_load(
    make_bundle: Callable[..., Path], site_key: Any, settings: Any, tmp_path: Path
) -> None:
    """An op this viewer does not know fails at load (manifest schema), never at an image."""
    import json

    from viewer.bundle.archive import read_archive
    from viewer.bundle.create import finish
    from viewer.bundle.loader import load_bundle
    from viewer.bundle.manifest import MANIFEST_NAME, parse_manifest
    from viewer.bundle.trust import TrustStore

    members = dict(read_archive(make_bundle()).members)
    manifest = parse_manifest(members[MANIFEST_NAME])
    data = json.loads(members[MANIFEST_NAME])
    data["preprocessing"].insert(1, {"op": "clahe", "clip_limit": 2.0})
    members[MANIFEST_NAME] = json.dumps(data).encode()
    out = finish(members, manifest, tmp_path / "clahe.bundle", site_key).path
    with pytest.raises(BundleError) as info:
        load_bundle(out, TrustStore.from_settings(settings))
    assert info.value.code in ("schema", "preprocessing")
    assert "clahe" in str(info.value) or "preprocessing" in str(info.value)
