"""The committed demo bundle: trusted only in demo mode, honest about what it is, reproducible."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from viewer.bundle.loader import load_bundle
from viewer.bundle.resources import DEMO_BUNDLE, resource_path
from viewer.bundle.trust import TrustStore
from viewer.errors import BundleError


def test_demo_bundle_loads_in_demo_mode(demo_settings: Any) -> None:
    path = resource_path(*DEMO_BUNDLE)
    assert path.stat().st_size < 2.5 * 1024 * 1024  # self-test images 2 MB, reference 10 kB
    loaded = load_bundle(path, TrustStore.from_settings(demo_settings))
    m = loaded.manifest
    assert loaded.key_source == "demo"
    assert loaded.selftest.passed
    assert m.architecture.id == "demo-cnn"
    assert "NOT FOR CLINICAL USE" in m.regulatory_status
    assert any("clinical" in use.lower() for use in m.out_of_scope_uses)
    assert all(metric.dataset == "test" for metric in m.metrics)
    assert m.selftest.threads == 1  # what demo_build computes the self-test with
    # its reference profile: the synthetic reference set's input mix and the reference check
    profile = m.reference_profile
    assert profile is not None and profile.ood is not None and loaded.ood is not None
    assert profile.count == 1000 and profile.refused == 0
    assert profile.categories["manufacturer"] == {"Bedside Synthetic": 1000}
    assert profile.ood.quantile == 0.999 and profile.ood.layer == "classifier"
    assert loaded.ood.threshold == profile.ood.threshold and loaded.ood.dim == 48


def test_demo_bundle_refused_outside_demo_mode(settings: Any) -> None:
    with pytest.raises(BundleError) as info:
        load_bundle(resource_path(*DEMO_BUNDLE), TrustStore.from_settings(settings))
    assert info.value.code == "untrusted"


def test_demo_model_card_matches_bundle() -> None:
    from tests.bundle.conftest import read_members

    members = read_members(resource_path(*DEMO_BUNDLE))
    assert resource_path("demo", "MODEL_CARD.md").read_bytes() == members["MODEL_CARD.md"]


def test_threshold_choice_and_auroc() -> None:
    import numpy as np

    from tests.packaging_modules import demo_build

    auroc, choose_threshold = demo_build().auroc, demo_build().choose_threshold

    scores = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.9])
    labels = np.array([0, 0, 0, 1, 1, 1])
    assert auroc(scores, labels) == 1.0
    t = choose_threshold(scores, labels)
    assert 0.3 < t <= 0.6
    assert auroc(np.array([0.5, 0.5]), np.array([0, 1])) == 0.5


@pytest.mark.slow
def test_demo_build_is_deterministic(tmp_path: Path) -> None:
    """`make demo-bundle` twice gives the same bytes (same machine and library versions).

    The committed bundle was rebuilt on this machine type for #12 (the policy table's defaults and
    a self-test input for every preprocessing step); older one-input bundles still load
    (tests/inference/test_selftest.py). Another CPU may round float reductions differently.
    """
    from tests.packaging_modules import demo_build

    build = demo_build().build
    for name in ("demo-signing-key.pem", "demo-signing-key.pub.pem"):
        shutil.copy(resource_path("demo", name), tmp_path / name)
    rebuilt = build(tmp_path, say=lambda _msg: None)
    assert rebuilt.read_bytes() == resource_path(*DEMO_BUNDLE).read_bytes()


def test_example_template_recreates_the_demo_manifest(tmp_path: Path, cxr_path: Path) -> None:
    """The shipped template is a valid `bundle create --manifest`; computed fields are added."""
    import json

    from tests.bundle.conftest import read_members
    from viewer.bundle.create import create_bundle
    from viewer.bundle.manifest import parse_manifest

    members = read_members(resource_path(*DEMO_BUNDLE))
    weights = tmp_path / "weights.safetensors"
    weights.write_bytes(members["weights.safetensors"])
    template_path = resource_path("demo", "demo-manifest-template.json")
    template = json.loads(template_path.read_text(encoding="utf-8"))
    assert "weights" not in template and "library_versions" not in template
    created = create_bundle(
        arch_id="demo-cnn",
        weights=weights,
        template=template_path,
        sample=cxr_path,
        out=tmp_path / "again.bundle",
        created="2026-11-28T00:00:00Z",
    )
    original = parse_manifest(members["manifest.json"])
    assert created.manifest.weights == original.weights
    assert created.manifest.labels == original.labels
    assert created.manifest.preprocessing == original.preprocessing
    assert not created.signed
