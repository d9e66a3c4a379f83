"""A bundle's reference profile: built by ``bundle create --reference``, signed, checked at load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.bundle.conftest import KeyPair, random_state, read_members, template, write_members
from viewer.bundle.create import create_bundle
from viewer.bundle.loader import load_bundle
from viewer.dicom.synthetic import make_cxr
from viewer.errors import BundleError

N_REF = 40


@pytest.fixture
def reference_dir(tmp_path: Path) -> Path:
    """40 accepted synthetic chest images, one CT (refused by the input checks), one text file."""
    folder = tmp_path / "reference"
    (folder / "nested").mkdir(parents=True)
    for i in range(N_REF):
        ds = make_cxr(
            50 + i,
            opacity=i % 2 == 0,
            modality="CR" if i % 4 else "DX",
            size=(128, 128),
            view="AP" if i % 5 == 0 else "PA",
            patient_index=i,
        )
        ds.save_as(folder / "nested" / f"{i}.dcm", enforce_file_format=True)
    ct = make_cxr(999, opacity=False, size=(128, 128))
    ct.Modality = "CT"
    ct.save_as(folder / "ct.dcm", enforce_file_format=True)
    (folder / "README.txt").write_text("not an image", encoding="utf-8")
    return folder


def _create(
    tmp_path: Path, cxr_path: Path, key: KeyPair, reference: Any, **kw: Any
) -> tuple[Path, Any]:
    import safetensors.torch

    weights = tmp_path / "w.safetensors"
    state = random_state("demo-cnn", in_channels=1, num_labels=1, seed=3)
    safetensors.torch.save_file(state, str(weights))
    tmpl = template(model_id="ref-cxr", version="1.0.0", in_channels=1, size=64)
    tmpl["reference_scores"] = []
    out = tmp_path / "ref.bundle"
    created = create_bundle(
        arch_id="demo-cnn",
        weights=weights,
        template=tmpl,
        sample=cxr_path,
        out=out,
        private_key=key.private,
        created="2026-12-06T00:00:00Z",
        reference=reference,
        **kw,
    )
    return out, created.manifest


def test_folder_reference_is_built_signed_and_loaded(
    tmp_path: Path, cxr_path: Path, key: KeyPair, trust: Any, reference_dir: Path
) -> None:
    from viewer.dicom.reader import read_image
    from viewer.inference.predict import Predictor

    out, manifest = _create(tmp_path, cxr_path, key, reference_dir, reference_quantile=0.95)
    profile = manifest.reference_profile
    assert profile is not None and profile.ood is not None
    assert (profile.count, profile.refused) == (N_REF, 1)  # the CT refused, the text skipped
    assert profile.categories["view"] == {"AP": 8, "PA": 32}
    assert profile.categories["manufacturer"] == {"Bedside Synthetic": N_REF}
    assert profile.numeric["rows"].total == N_REF
    assert (profile.ood.layer, profile.ood.dim, profile.ood.quantile) == ("classifier", 48, 0.95)
    # the template gave no reference scores: the reference set's raw scores fill them
    assert len(manifest.reference_scores) == 1 and sum(manifest.reference_scores[0].counts) == N_REF
    assert "reference.safetensors" in read_members(out)
    loaded = load_bundle(out, trust)
    assert loaded.ood is not None and loaded.ood.threshold == profile.ood.threshold
    prediction = Predictor(loaded, threads=1).predict(read_image(reference_dir / "nested/3.dcm"))
    assert prediction.ood is not None and prediction.ood.distance <= prediction.ood.threshold
    assert prediction.audit_detail()["ood"]["threshold"] == profile.ood.threshold
    assert any(c.code == "in_distribution" for c in prediction.checks)


def test_feature_file_reference(tmp_path: Path, cxr_path: Path, key: KeyPair, trust: Any) -> None:
    rng = np.random.default_rng(0)
    npz = tmp_path / "features.npz"
    np.savez(npz, features=rng.normal(size=(120, 48)), scores=rng.uniform(size=(120, 1)))
    out, manifest = _create(tmp_path, cxr_path, key, npz)
    profile = manifest.reference_profile
    assert profile is not None and profile.ood is not None
    assert profile.count == 120 and profile.categories == {} and profile.numeric == {}
    assert sum(manifest.reference_scores[0].counts) == 120
    assert load_bundle(out, trust).ood is not None


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"features": np.zeros((120, 7))}, "takes 48 values"),
        ({"features": np.zeros((120, 48)), "scores": np.zeros((120, 2))}, "scores have shape"),
        ({"features": np.zeros((120, 48)), "scores": np.full((120, 1), 2.0)}, "between 0 and 1"),
        ({"feats": np.zeros((120, 48))}, "holds 'features'"),
        ({"features": np.array([{"a": 1}] * 120, dtype=object)}, "object values, not numbers"),
        ({"features": np.zeros((10, 48))}, "too few"),
    ],
    ids=["wrong-dim", "wrong-scores", "scores-not-probabilities", "no-features", "pickled",
         "too-few"],
)  # fmt: skip
def test_bad_feature_file_is_a_clear_refusal(
    tmp_path: Path, cxr_path: Path, key: KeyPair, arrays: dict[str, Any], message: str
) -> None:
    npz = tmp_path / "bad.npz"
    np.savez(npz, **arrays)
    with pytest.raises(BundleError, match=message) as info:
        _create(tmp_path, cxr_path, key, npz)
    assert info.value.code == "reference"
    assert not (tmp_path / "ref.bundle").exists()


def test_reference_folder_without_usable_images(
    tmp_path: Path, cxr_path: Path, key: KeyPair
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "a.txt").write_text("x", encoding="utf-8")
    with pytest.raises(BundleError, match="no image the model accepts"):
        _create(tmp_path, cxr_path, key, empty)
    with pytest.raises(BundleError, match="not found"):
        _create(tmp_path, cxr_path, key, tmp_path / "missing")


@pytest.fixture
def ref_bundle(tmp_path: Path, cxr_path: Path, key: KeyPair) -> Path:
    rng = np.random.default_rng(1)
    npz = tmp_path / "features.npz"
    np.savez(npz, features=rng.normal(size=(120, 48)))
    return _create(tmp_path, cxr_path, key, npz)[0]


def _resigned(path: Path, members: dict[str, bytes], key: KeyPair) -> Path:
    return write_members(path.with_name("tampered.bundle"), members, sign_with=key)


def test_declared_profile_without_its_member_is_refused(
    ref_bundle: Path, key: KeyPair, trust: Any
) -> None:
    members = read_members(ref_bundle)
    del members["reference.safetensors"]
    with pytest.raises(BundleError, match=r"lacks reference\.safetensors") as info:
        load_bundle(_resigned(ref_bundle, members, key), trust)
    assert info.value.code == "schema"


def test_undeclared_reference_member_is_refused(ref_bundle: Path, key: KeyPair, trust: Any) -> None:
    members = read_members(ref_bundle)
    manifest = json.loads(members["manifest.json"])
    del manifest["reference_profile"]
    members["manifest.json"] = json.dumps(manifest).encode()
    with pytest.raises(BundleError, match=r"holds reference\.safetensors"):
        load_bundle(_resigned(ref_bundle, members, key), trust)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"mean": np.zeros(48, np.float32)}, "exactly 'mean' and 'precision'"),
        ({"mean": np.zeros(47, np.float32), "precision": np.eye(48, dtype=np.float32)}, "(47,)"),
        ({"mean": np.full(48, np.inf, np.float32), "precision": np.eye(48, dtype=np.float32)},
         "not finite"),
        ({"mean": np.zeros(48, np.float32), "precision": np.triu(np.ones((48, 48), np.float32))},
         "not symmetric"),
    ],
    ids=["missing-precision", "wrong-shape", "infinite", "asymmetric"],
)  # fmt: skip
def test_unusable_reference_arrays_are_refused(
    ref_bundle: Path, key: KeyPair, trust: Any, arrays: dict[str, np.ndarray], message: str
) -> None:
    import safetensors.numpy

    members = read_members(ref_bundle)
    members["reference.safetensors"] = safetensors.numpy.save(arrays)
    with pytest.raises(BundleError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_bundle(_resigned(ref_bundle, members, key), trust)


def test_changed_reference_breaks_the_signature(ref_bundle: Path, trust: Any) -> None:
    members = read_members(ref_bundle)
    data = bytearray(members["reference.safetensors"])
    data[-1] ^= 1
    members["reference.safetensors"] = bytes(data)
    with pytest.raises(BundleError) as info:
        load_bundle(write_members(ref_bundle.with_name("flip.bundle"), members), trust)
    assert info.value.code in {"signature", "untrusted", "tampered"}


@pytest.mark.parametrize("quantile", [1.0, 0.3, float("nan")], ids=["one", "below-half", "nan"])
def test_a_bad_quantile_is_refused_before_any_reference_image_is_read(
    tmp_path: Path, cxr_path: Path, key: KeyPair, quantile: float
) -> None:
    """A folder of thousands of images is not scored only to learn the quantile was a typo:
    the reference set here does not even exist, and the quantile is what is refused."""
    with pytest.raises(BundleError, match="reference quantile is") as info:
        _create(tmp_path, cxr_path, key, tmp_path / "missing", reference_quantile=quantile)
    assert info.value.code == "reference"
