"""Signed bundles for the inference tests, signed by a key the test's site trusts."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.bundle.conftest import random_state

PRE_SMALL: list[dict[str, Any]] = [
    {"op": "source", "pixels": "stored_window", "if_missing": "minmax"},
    {"op": "invert_monochrome1"},
    {"op": "square", "mode": "crop"},
    {"op": "resize", "size": 64, "interpolation": "bilinear", "antialias": True},
    {"op": "normalize", "method": "fixed_range", "in_min": 0.0, "in_max": 1.0,
     "out_min": -1024.0, "out_max": 1024.0},
    {"op": "dtype", "dtype": "float32"},
]  # fmt: skip

# ImageNet-style DenseNet-121 input, as torchvision weights expect: 3 channels, mean/std.
PRE_DENSENET: list[dict[str, Any]] = [
    {"op": "source", "pixels": "stored_window", "if_missing": "minmax"},
    {"op": "invert_monochrome1"},
    {"op": "square", "mode": "pad", "pad_value": "min"},
    {"op": "resize", "size": 224, "interpolation": "bicubic", "antialias": True},
    {"op": "channels", "count": 3},
    {"op": "normalize", "method": "mean_std", "mean": [0.485, 0.456, 0.406],
     "std": [0.229, 0.224, 0.225]},
    {"op": "dtype", "dtype": "float32"},
]  # fmt: skip


def template(
    *,
    preprocessing: list[dict[str, Any]],
    model_id: str = "infer-test",
    version: str = "1.0.0",
    in_channels: int = 1,
    labels: tuple[tuple[str, float], ...] = (("opacity", 0.5),),
    views: tuple[str, ...] = ("PA",),
    calibration: str = "none",
) -> dict[str, Any]:
    """A complete manifest template for tests (what a person decides); ``calibration``: every
    label's calibration method (left out when ``none``)."""
    declared = {} if calibration == "none" else {"calibration": {"method": calibration}}
    size = next(s["size"] for s in preprocessing if s["op"] == "resize")
    names = [n for n, _ in labels]
    return copy.deepcopy(
        {
            "id": model_id,
            "name": "Inference test model",
            "version": version,
            "changelog": [{"version": version, "date": "2026-11-28", "changes": "Test build."}],
            "creator": {"name": "Test Team", "organisation": "Bedside tests"},
            "licence": "Apache-2.0",
            "regulatory_status": "TEST ONLY - not for clinical use",
            "intended_use": "Inference tests.",
            "out_of_scope_uses": ["Any clinical use."],
            "architecture": {"in_channels": in_channels},
            "network_data_format": {
                "inputs": {"image": {
                    "type": "image", "format": "magnitude", "modality": "xray",
                    "num_channels": in_channels, "spatial_shape": [size, size],
                    "value_range": [-1024.0, 1024.0]}},
                "outputs": {"pred": {
                    "type": "logits", "format": "labels", "num_channels": len(labels),
                    "spatial_shape": [len(labels)], "value_range": [-1e6, 1e6],
                    "channel_def": {str(i): n for i, n in enumerate(names)}}},
            },
            "preprocessing": preprocessing,
            "labels": [
                {"name": n, "threshold": t, "activation": "sigmoid",
                 "operating_point": f"sensitivity 0.90 at this threshold ({n}, test set)",
                 **declared}
                for n, t in labels
            ],
            "training_data": {"description": "none", "sources": ["random"], "dates": "2026",
                              "count": 0},
            "validation_data": {"description": "none", "sources": ["random"], "dates": "2026",
                                "count": 0},
            "metrics": [{"name": "AUROC", "label": names[0], "value": 0.5, "ci_low": 0.4,
                         "ci_high": 0.6, "ci_method": "bootstrap"}],
            "accepted_inputs": {"modalities": ["CR", "DX"], "views": list(views),
                                "body_parts": ["CHEST"]},
            "reference_scores": [{"label": names[0], "bin_edges": [0.0, 0.5, 1.0],
                                  "counts": [1, 1]}],
            "selftest": {"tolerance": 1e-4, "tensor_tolerance": 1e-5},
        }
    )  # fmt: skip


@pytest.fixture
def site_key(tmp_path: Path) -> Any:
    """A signing key whose public half is in the test site's trusted-keys folder."""
    from viewer.bundle.keys import generate_keypair, load_private_key

    site_keys = tmp_path / "site" / "trusted-keys"
    gen = generate_keypair(tmp_path / "ml-team-key")
    site_keys.mkdir(parents=True, exist_ok=True)
    (site_keys / "ml-team.pub.pem").write_bytes(Path(gen.public_path).read_bytes())
    return load_private_key(gen.private_path)


@pytest.fixture
def make_bundle(tmp_path: Path, site_key: Any) -> Callable[..., Path]:
    """Create a signed bundle with ``bundle create``'s own code; returns its path."""
    from viewer.bundle.create import build_members, finish
    from viewer.dicom.synthetic import make_cxr

    counter = {"n": 0}

    def build(
        *,
        arch: str = "demo-cnn",
        preprocessing: list[dict[str, Any]] | None = None,
        in_channels: int = 1,
        labels: tuple[tuple[str, float], ...] = (("opacity", 0.5),),
        photometric: str = "MONOCHROME1",
        seed: int = 0,
        key: Any = None,
        **template_args: Any,
    ) -> Path:
        counter["n"] += 1
        work = tmp_path / f"bundle{counter['n']}"
        work.mkdir()
        sample = work / "sample.dcm"
        make_cxr(7, opacity=True, size=(240, 200), photometric=photometric).save_as(
            sample, enforce_file_format=True
        )
        tmpl = template(preprocessing=preprocessing or PRE_SMALL, in_channels=in_channels,
                        labels=labels, **template_args)  # fmt: skip
        members, manifest, _ = build_members(
            arch_id=arch,
            state_dict=random_state(
                arch, in_channels=in_channels, num_labels=len(labels), seed=seed
            ),
            template=tmpl,
            sample=sample,
            created="2026-11-28T12:00:00Z",
        )
        out = work / f"{manifest.id}-{manifest.version}.bundle"
        finish(members, manifest, out, key or site_key)
        return out

    return build


@pytest.fixture
def resign(site_key: Any) -> Callable[..., Path]:
    """Rewrite a bundle's manifest (e.g. one preprocessing parameter) and sign it again.

    This is a bundle whose signature is valid but whose preprocessing no longer matches its
    self-test: what a careless edit after ``bundle create`` would produce.
    """
    from viewer.bundle.archive import read_archive
    from viewer.bundle.create import finish
    from viewer.bundle.manifest import MANIFEST_NAME, parse_manifest

    def rewrite(path: Path, edit: Callable[[dict[str, Any]], None], out: Path) -> Path:
        members = dict(read_archive(path).members)
        data = json.loads(members[MANIFEST_NAME])
        edit(data)
        manifest = parse_manifest(json.dumps(data).encode())
        members[MANIFEST_NAME] = manifest.to_json_bytes()
        finish(members, manifest, out, site_key)
        return out

    return rewrite
