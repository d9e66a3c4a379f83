"""Hostile reference profiles: a bundle signed by a trusted key (a careless or compromised
maker) whose reference check would silently pass every image, or whose reference set would hang
or exhaust ``bundle create``. Each is a clear refusal, at load or at create."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.bundle.conftest import KeyPair, read_members
from tests.bundle.test_reference import _create, _resigned, ref_bundle, reference_dir
from viewer.bundle.loader import load_bundle
from viewer.errors import BundleError

__all__ = ["ref_bundle", "reference_dir"]  # fixtures, imported for these tests

D = 48  # demo-cnn's feature size


def _with_arrays(ref_bundle: Path, key: KeyPair, mean: Any, precision: Any) -> Path:
    import safetensors.numpy

    members = read_members(ref_bundle)
    members["reference.safetensors"] = safetensors.numpy.save(
        {"mean": np.asarray(mean), "precision": np.asarray(precision)}
    )
    return _resigned(ref_bundle, members, key)


def _negative_at(i: int) -> np.ndarray:
    p = np.eye(D, dtype=np.float32)
    p[i, i] = -1.0
    return p


@pytest.mark.parametrize(
    "precision",
    [-np.eye(D, dtype=np.float32), np.zeros((D, D), np.float32), _negative_at(D - 1),
     np.full((D, D), np.nan, np.float32), np.diag(np.r_[np.ones(D - 1), 0.0]).astype(np.float32)],
    ids=["negative-definite", "zero", "indefinite", "nan", "singular"],
)  # fmt: skip
def test_a_precision_that_is_not_positive_definite_is_refused(
    ref_bundle: Path, key: KeyPair, trust: Any, precision: np.ndarray
) -> None:
    # sqrt of a negative "squared distance" was clamped to 0: every image would have passed
    bundle = _with_arrays(ref_bundle, key, np.zeros(D, np.float32), precision)
    with pytest.raises(BundleError, match="reference profile is unusable") as info:
        load_bundle(bundle, trust)
    assert info.value.code == "schema"


def _with_manifest(ref_bundle: Path, key: KeyPair, **ood: Any) -> Path:
    members = read_members(ref_bundle)
    text = members["manifest.json"].decode()
    manifest = json.loads(text)
    manifest["reference_profile"]["ood"].update(ood)
    members["manifest.json"] = json.dumps(manifest).encode()
    return _resigned(ref_bundle, members, key)


@pytest.mark.parametrize(
    ("ood", "message"),
    [({"threshold": float("inf")}, "threshold"), ({"threshold": float("nan")}, "threshold"),
     ({"threshold": -1.0}, "threshold"), ({"dim": 8193}, "dim"), ({"dim": 0}, "dim"),
     ({"dim": 8192}, r"not \(8192,\)"),
     ({"layer": "features.14"}, "takes 3072 values"), ({"layer": "features"}, "takes 4096 values"),
     ({"layer": "nowhere"}, "no layer 'nowhere'"), ({"layer": "x" * 201}, "layer")],
    ids=["infinite-threshold", "nan-threshold", "negative-threshold", "dim-too-large", "dim-zero",
         "dim-8192-tiny-member",
         "layer-not-linear", "layer-a-block", "layer-missing", "layer-too-long"],
)  # fmt: skip
def test_a_declared_check_that_cannot_hold_is_refused(
    ref_bundle: Path, key: KeyPair, trust: Any, ood: dict[str, Any], message: str
) -> None:
    with pytest.raises(BundleError, match=message) as info:
        load_bundle(_with_manifest(ref_bundle, key, **ood), trust)
    assert info.value.code == "schema"


def test_a_huge_finite_threshold_loads_and_still_refuses_non_finite_features(
    ref_bundle: Path, key: KeyPair, trust: Any
) -> None:
    from viewer.inference.ood import ood_check

    loaded = load_bundle(_with_manifest(ref_bundle, key, threshold=1e308), trust)
    assert loaded.ood is not None
    check, distance = ood_check(loaded.ood, np.full(D, np.nan))
    assert check.level == "refusal" and distance == float("inf")
    check, _ = ood_check(loaded.ood, None)
    assert check.level == "refusal"


def test_a_layer_that_runs_twice_per_forward_is_refused(ref_bundle: Path) -> None:
    import torch

    from viewer.bundle.loader import load_reference
    from viewer.bundle.manifest import parse_manifest
    from viewer.inference.ood import capture_features

    members = read_members(ref_bundle)
    manifest = parse_manifest(members["manifest.json"])
    relu = torch.nn.ReLU()
    model = torch.nn.Sequential(relu, relu)  # one module, called twice in one forward
    with capture_features(relu) as seen, torch.inference_mode():
        model(torch.zeros(1, D))
    with pytest.raises(BundleError, match=r"ran 2 time\(s\) in the self-test's 1 forward"):
        load_reference(manifest, members["reference.safetensors"], seen=seen, forwards=1)


# ----------------------------------------------------------------------------- bundle create


def _npy(shape: tuple[int, ...], dtype: str = "<f8", body: bytes = b"") -> bytes:
    """A .npy member whose header declares ``shape`` whatever the body holds."""
    header = repr({"descr": dtype, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + body


def _zip(path: Path, members: dict[str, bytes], *, deflate: bool = True) -> Path:
    import zipfile

    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _feature_file(tmp_path: Path, kind: str) -> Path:
    rng = np.random.default_rng(0)
    good = rng.normal(size=(120, D))
    p = tmp_path / "features.npz"
    if kind == "declares-8-TB":
        return _zip(p, {"features.npy": _npy((10**7, 10**5))})
    if kind == "declares-too-many-images":
        return _zip(p, {"features.npy": _npy((20_001, D))})
    if kind == "declares-wrong-width":
        return _zip(p, {"features.npy": _npy((120, 10**6))})
    if kind == "directory-bomb":  # 500,000 directory entries (28 MB) behind a count of 2
        import struct

        name = b"features.npy"
        entry = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, *[0] * 7, len(name),
                            *[0] * 6) + name  # fmt: skip
        directory = entry * 500_000
        p.write_bytes(directory + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 2, 2,
                                              len(directory), 0, 0))  # fmt: skip
        return p
    if kind == "zip-bomb":  # 40 MB of zeros deflated to ~40 kB, declared as (120, 48)
        return _zip(p, {"features.npy": _npy((120, D)) + bytes(40 * 1024 * 1024)})
    if kind == "object-array":
        np.savez(p, features=np.array([[object()] * D] * 120, dtype=object))
    elif kind == "structured":
        np.savez(p, features=np.zeros((120, D), dtype=[("a", "<f8")]))
    elif kind == "complex":
        np.savez(p, features=good.astype(np.complex128))
    elif kind == "datetime":
        np.savez(p, features=np.zeros((120, D), dtype="datetime64[s]"))
    elif kind == "strings":
        np.savez(p, features=good.astype(str))
    elif kind == "npy-not-npz":
        np.save(p.with_suffix(".npy"), good)
        p.with_suffix(".npy").rename(p)
    elif kind == "pickle":
        p.write_bytes(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01.")
    elif kind == "raw-member":
        return _zip(p, {"features": good.tobytes()})
    elif kind == "3-d":
        np.savez(p, features=good.reshape(120, D, 1))
    elif kind == "nan":
        good[3, 3] = np.nan
        np.savez(p, features=good)
    elif kind == "constant":
        np.savez(p, features=np.ones((120, D)))
    elif kind == "scores-out-of-range":
        np.savez(p, features=good, scores=np.full((120, 1), 2.0))
    elif kind == "scores-nan":
        np.savez(p, features=good, scores=np.full((120, 1), np.nan))
    elif kind == "empty-zip":
        return _zip(p, {})
    elif kind == "directory-member":
        return _zip(p, {"features.npy/": b""})
    return p


FEATURE_FILES = [
    "declares-8-TB", "declares-too-many-images", "declares-wrong-width", "directory-bomb",
    "zip-bomb",
    "object-array", "structured", "complex", "datetime", "strings", "npy-not-npz", "pickle",
    "raw-member", "3-d", "nan", "constant", "scores-out-of-range", "scores-nan", "empty-zip",
    "directory-member",
]  # fmt: skip


@pytest.mark.parametrize("kind", FEATURE_FILES)
def test_hostile_feature_files_are_a_clear_refusal(
    tmp_path: Path, cxr_path: Path, key: KeyPair, kind: str
) -> None:
    import tracemalloc

    from viewer.bundle.architectures import build_model

    build_model("demo-cnn", in_channels=1, num_labels=1)  # torch imported before counting
    path = _feature_file(tmp_path, kind)
    tracemalloc.start()
    try:
        with pytest.raises(BundleError) as info:
            _create(tmp_path, cxr_path, key, path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.code == "reference"
    assert "\n" not in info.value.message and len(info.value.message) < 400
    assert peak < 64 * 1024 * 1024, f"{peak / 2**20:.0f} MiB allocated before the refusal"


def test_a_hostile_reference_folder_is_read_without_hanging(
    tmp_path: Path, cxr_path: Path, key: KeyPair, reference_dir: Path
) -> None:
    """A symlink loop, a FIFO (reading it would wait for a writer), a link to /dev/zero, a
    broken link, an empty file, and an image whose Manufacturer is 300 characters long (longer
    than a profile category may be: it was a pydantic traceback)."""
    import os

    from viewer.dicom.synthetic import make_cxr

    (reference_dir / "nested" / "loop").symlink_to(reference_dir, target_is_directory=True)
    os.mkfifo(reference_dir / "pipe.dcm")
    (reference_dir / "zero.dcm").symlink_to("/dev/zero")
    (reference_dir / "broken.dcm").symlink_to(tmp_path / "nowhere")
    (reference_dir / "empty.dcm").write_bytes(b"")
    import warnings

    ds = make_cxr(7, opacity=False, size=(128, 128))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pydicom: longer than VR LO allows
        ds.Manufacturer = "M" * 300
    ds.save_as(reference_dir / "long.dcm", enforce_file_format=True)
    _, manifest = _create(tmp_path, cxr_path, key, reference_dir, reference_quantile=0.95)
    profile = manifest.reference_profile
    assert profile is not None and profile.count == 41  # 40 + the long-named one
    assert "M" * 128 in profile.categories["manufacturer"]
