"""Fixtures for the bundle tests: keys, a manifest template, small signed bundles."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec


def template(
    *,
    model_id: str = "test-cxr",
    version: str = "1.0.0",
    in_channels: int = 1,
    size: int = 64,
    labels: tuple[str, ...] = ("opacity",),
) -> dict[str, Any]:
    """A complete manifest template (everything a person decides) for tests."""
    pre: list[dict[str, Any]] = [
        {"op": "source", "pixels": "stored_window", "if_missing": "minmax"},
        {"op": "invert_monochrome1"},
        {"op": "square", "mode": "pad", "pad_value": "min"},
        {"op": "resize", "size": size, "interpolation": "bilinear", "antialias": True},
    ]
    if in_channels > 1:
        pre.append({"op": "channels", "count": in_channels})
    pre.append({"op": "dtype", "dtype": "float32"})
    data = {
        "id": model_id,
        "name": "Test chest X-ray model",
        "version": version,
        "changelog": [{"version": version, "date": "2026-11-28", "changes": "Test build."}],
        "creator": {"name": "Test Team", "organisation": "Bedside tests"},
        "licence": "Apache-2.0",
        "regulatory_status": "TEST ONLY - not for clinical use",
        "intended_use": "Unit tests of the bundle format.",
        "out_of_scope_uses": ["Any clinical use."],
        "architecture": {"in_channels": in_channels},
        "network_data_format": {
            "inputs": {
                "image": {
                    "type": "image",
                    "format": "magnitude",
                    "modality": "xray",
                    "num_channels": in_channels,
                    "spatial_shape": [size, size],
                    "value_range": [0.0, 1.0],
                }
            },
            "outputs": {
                "pred": {
                    "type": "probabilities",
                    "format": "labels",
                    "num_channels": len(labels),
                    "spatial_shape": [len(labels)],
                    "value_range": [0.0, 1.0],
                    "channel_def": {str(i): n for i, n in enumerate(labels)},
                }
            },
        },
        "preprocessing": pre,
        "labels": [{"name": n, "threshold": 0.5, "operating_point": "test value"} for n in labels],
        "training_data": {
            "description": "none",
            "sources": ["random"],
            "dates": "2026",
            "count": 0,
        },
        "validation_data": {
            "description": "none",
            "sources": ["random"],
            "dates": "2026",
            "count": 0,
        },
        "metrics": [
            {
                "name": "AUROC",
                "label": labels[0],
                "value": 0.5,
                "ci_low": 0.4,
                "ci_high": 0.6,
                "ci_method": "bootstrap",
            }
        ],
        "accepted_inputs": {"modalities": ["CR", "DX"], "views": ["PA", "AP"]},
        "reference_scores": [{"label": labels[0], "bin_edges": [0.0, 0.5, 1.0], "counts": [1, 1]}],
        "selftest": {"tolerance": 1e-4, "tensor_tolerance": 1e-5},
    }
    return copy.deepcopy(data)


@dataclass
class KeyPair:
    private: ec.EllipticCurvePrivateKey
    private_path: Path
    public_path: Path
    fingerprint: str


@pytest.fixture
def make_key(tmp_path: Path) -> Callable[[str], KeyPair]:
    from viewer.bundle.keys import generate_keypair, load_private_key

    def make(name: str = "key") -> KeyPair:
        gen = generate_keypair(tmp_path / "keys" / name)
        return KeyPair(
            load_private_key(gen.private_path), gen.private_path, gen.public_path, gen.fingerprint
        )

    return make


@pytest.fixture
def key(make_key: Callable[[str], KeyPair]) -> KeyPair:
    return make_key("ml-team")


@pytest.fixture
def trust(key: KeyPair) -> Any:
    from viewer.bundle.keys import load_public_key
    from viewer.bundle.signing import TrustedKey
    from viewer.bundle.trust import TrustStore

    return TrustStore.of_keys([TrustedKey.of(load_public_key(key.public_path), source="test")])


def random_state(arch: str, *, in_channels: int, num_labels: int, seed: int) -> dict[str, Any]:
    import torch

    from viewer.bundle.architectures import build_model

    torch.manual_seed(seed)
    model = build_model(arch, in_channels=in_channels, num_labels=num_labels)
    # Non-trivial BatchNorm statistics, as a trained model has.
    with torch.no_grad():
        for name, buf in model.named_buffers():
            if name.endswith("running_mean"):
                buf.uniform_(-0.1, 0.1)
            elif name.endswith("running_var"):
                buf.uniform_(0.5, 1.5)
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.fixture
def build_bundle(tmp_path: Path, cxr_path: Path, key: KeyPair) -> Callable[..., Path]:
    """Create (and by default sign) a small demo-cnn bundle; returns its path."""
    import safetensors.torch

    from viewer.bundle.create import create_bundle

    counter = {"n": 0}

    def build(
        *,
        version: str = "1.0.0",
        model_id: str = "test-cxr",
        signer: KeyPair | bool | None = True,
        seed: int = 0,
        arch: str = "demo-cnn",
        in_channels: int = 1,
        size: int = 64,
        tmpl: dict[str, Any] | None = None,
    ) -> Path:
        counter["n"] += 1
        work = tmp_path / f"build{counter['n']}"
        work.mkdir()
        weights = work / "weights.safetensors"
        safetensors.torch.save_file(
            random_state(arch, in_channels=in_channels, num_labels=1, seed=seed), str(weights)
        )
        t = tmpl or template(model_id=model_id, version=version, in_channels=in_channels, size=size)
        pk = key.private if signer is True else (signer.private if signer else None)
        out = work / f"{model_id}-{version}.bundle"
        create_bundle(
            arch_id=arch,
            weights=weights,
            template=t,
            sample=cxr_path,
            out=out,
            private_key=pk,
            created="2026-11-28T12:00:00Z",
        )
        return out

    return build


# ----------------------------------------------------------------------------- archive helpers


def read_members(path: Path) -> dict[str, bytes]:
    """Members of a zip read with plain zipfile (tests only; the app uses viewer.bundle.archive)."""
    import zipfile

    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def write_members(
    path: Path, members: dict[str, bytes], *, sign_with: KeyPair | None = None
) -> Path:
    """Write members as a deterministic zip; re-sign (as a trusted insider would) if asked."""
    from viewer.bundle.archive import archive_bytes
    from viewer.bundle.signing import SIGNATURE_NAME, sign_files

    members = dict(members)
    if sign_with is not None:
        members.pop(SIGNATURE_NAME, None)
        members[SIGNATURE_NAME] = sign_files(members, sign_with.private, model_name="resigned")
    path.write_bytes(archive_bytes(members))
    return path


def write_raw_zip(path: Path, entries: list[tuple[Any, bytes]]) -> Path:
    """A zip with arbitrary (hostile) entries: each is a name or a ZipInfo plus its data."""
    import warnings
    import zipfile

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for info, data in entries:
                zf.writestr(info, data)
    return path
