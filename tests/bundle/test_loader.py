"""Loading: the happy path, DenseNet-121 fidelity, version checks, audit events."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.bundle.conftest import KeyPair, random_state, template
from viewer.bundle.loader import check_compatibility, load_bundle, verify_bundle
from viewer.bundle.manifest import Manifest, parse_manifest
from viewer.errors import BundleError


def test_verify_does_not_need_torch_work(build_bundle: Callable[..., Path], trust: Any) -> None:
    v = verify_bundle(build_bundle(), trust)
    assert v.manifest.id == "test-cxr"
    assert v.key_source == "test"
    assert len(v.digest) == 64


def test_loaded_bundle_fields(build_bundle: Callable[..., Path], trust: Any, key: KeyPair) -> None:
    path = build_bundle()
    loaded = load_bundle(path, trust)
    import hashlib

    assert loaded.digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert loaded.key_fingerprint == key.fingerprint
    assert loaded.path == path
    assert not loaded.model.training
    assert loaded.selftest.passed
    assert loaded.manifest.library_versions["torch"].startswith("2.")


@pytest.fixture
def one_thread() -> Any:
    """One torch thread for a heavy test (two threads on a busy 2-core runner crawl)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_densenet121_bundle_bit_identical_to_eager_model(
    tmp_path: Path, cxr_path: Path, key: KeyPair, trust: Any, one_thread: Any
) -> None:
    """Acceptance: random torchvision-layout DenseNet-121 weights -> bundle -> same outputs."""
    import torch

    from viewer.bundle.architectures import build_model
    from viewer.bundle.create import create_bundle
    from viewer.dicom import read_image
    from viewer.inference.preprocess import ModelInput, preprocess

    torch.manual_seed(0)
    state = random_state("densenet121", in_channels=3, num_labels=2, seed=3)
    eager = build_model("densenet121", in_channels=3, num_labels=2)
    eager.load_state_dict(state, strict=True)
    eager.eval()
    weights = tmp_path / "densenet.pth"
    torch.save(state, weights)  # a .pth state_dict, as the ML team has it
    tmpl = template(in_channels=3, size=128, labels=("opacity", "effusion"))
    tmpl["metrics"] = []
    tmpl["reference_scores"] = []
    out = tmp_path / "densenet.bundle"
    create_bundle(
        arch_id="densenet121", weights=weights, template=tmpl, sample=cxr_path, out=out,
        private_key=key.private,
    )  # fmt: skip
    loaded = load_bundle(out, trust)
    assert loaded.selftest.passed
    assert loaded.selftest.max_abs_diff_output == 0.0
    assert loaded.manifest.weights.parameters == sum(p.numel() for p in eager.parameters())
    x = torch.from_numpy(
        preprocess(ModelInput.from_image(read_image(cxr_path)), loaded.manifest.preprocessing)
    )[None]
    rng = np.random.default_rng(0)
    noise = torch.from_numpy(rng.standard_normal((1, 3, 160, 160)).astype(np.float32))
    with torch.no_grad():
        for batch in (x, noise):
            assert torch.equal(loaded.model(batch), eager(batch))
    loaded_state = loaded.model.state_dict()
    for name, tensor in eager.state_dict().items():
        assert torch.equal(loaded_state[name], tensor), name


@pytest.mark.parametrize(
    ("torch_version", "app_version", "ok"),
    [
        ("2.13.0+cpu", "0.1.0", True),
        ("2.3.1", "0.1.0", False),
        ("3.0.0", "0.1.0", False),
        ("2.13.0", "0.0.9", False),
    ],
)
def test_compatibility(
    build_bundle: Callable[..., Path], trust: Any, torch_version: str, app_version: str, ok: bool
) -> None:
    m = verify_bundle(build_bundle(), trust).manifest
    if ok:
        check_compatibility(m, torch_version=torch_version, app_version=app_version)
    else:
        with pytest.raises(BundleError) as info:
            check_compatibility(m, torch_version=torch_version, app_version=app_version)
        assert info.value.code == "version"


def test_error_names_the_bundle_path(tmp_path: Path, trust: Any) -> None:
    missing = tmp_path / "nope.bundle"
    with pytest.raises(BundleError) as info:
        load_bundle(missing, trust)
    assert info.value.code == "archive"
    assert str(missing) in str(info.value)


def test_audit_events_for_load_and_refusal(
    build_bundle: Callable[..., Path], trust: Any, settings: Any, tmp_path: Path
) -> None:
    from viewer.audit import AuditLog

    good = build_bundle()
    bad = tmp_path / "bad.bundle"
    bad.write_bytes(good.read_bytes()[:-50])
    log = AuditLog.open(settings)
    try:
        load_bundle(good, trust, audit=log)
        with pytest.raises(BundleError):
            load_bundle(bad, trust, audit=log)
        rows = log.records()
    finally:
        log.close()
    kinds = [(str(r.type), r.outcome) for r in rows]
    assert ("bundle_verified", "success") in kinds
    assert ("bundle_refused", "failure") in kinds
    verified = next(r for r in rows if str(r.type) == "bundle_verified")
    assert verified.model_id == "test-cxr"
    assert verified.detail["key_fingerprint"] == trust.keys[0].fingerprint
    assert verified.detail["selftest_threads"] == 1
    refused = next(r for r in rows if str(r.type) == "bundle_refused")
    assert refused.detail["code"] == "archive"
    assert refused.reason


def test_manifest_of_created_bundle_is_canonical(
    build_bundle: Callable[..., Path], trust: Any
) -> None:
    raw = verify_bundle(build_bundle(), trust).member("manifest.json")
    m = parse_manifest(raw)
    assert isinstance(m, Manifest)
    assert raw == m.to_json_bytes()
    assert json.loads(raw)["created"] == "2026-11-28T12:00:00Z"


@pytest.fixture
def three_threads() -> Any:
    """A caller's torch setting other than any bundle's, put back after the test."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(3)
    yield 3
    torch.set_num_threads(before)


def _spy_threads(monkeypatch: pytest.MonkeyPatch, seen: dict[str, Any]) -> None:
    """Record torch's thread count while create computes and load checks the self-test."""
    import torch

    import viewer.inference.selftest as selftest

    real_compute, real_check = selftest.compute_selftest, selftest.check_selftest

    def compute(*args: Any, **kwargs: Any) -> Any:
        out = real_compute(*args, **kwargs)
        seen["create"] = (kwargs.get("threads"), torch.get_num_threads())
        return out

    def check(*args: Any, **kwargs: Any) -> Any:
        seen["load"] = torch.get_num_threads()
        return real_check(*args, **kwargs)

    monkeypatch.setattr(selftest, "compute_selftest", compute)
    monkeypatch.setattr(selftest, "check_selftest", check)


@pytest.mark.parametrize("threads", [None, 2], ids=["default", "template-2"])
def test_selftest_runs_with_the_recorded_thread_count(
    build_bundle: Callable[..., Path],
    trust: Any,
    monkeypatch: pytest.MonkeyPatch,
    three_threads: int,
    threads: int | None,
) -> None:
    """Create computes the expected values with selftest.threads (1 unless the template says),
    records it, and the load reruns with that count; the caller's setting survives both."""
    import torch

    seen: dict[str, Any] = {}
    _spy_threads(monkeypatch, seen)
    tmpl = template()
    if threads is not None:
        tmpl["selftest"]["threads"] = threads
    expected = threads or 1
    path = build_bundle(tmpl=tmpl)
    assert torch.get_num_threads() == three_threads
    loaded = load_bundle(path, trust)
    assert loaded.selftest.passed
    assert loaded.manifest.selftest.threads == expected
    assert seen == {"create": (expected, expected), "load": expected}
    assert torch.get_num_threads() == three_threads


def test_manifest_without_threads_selftest_uses_one_thread(
    build_bundle: Callable[..., Path],
    trust: Any,
    key: KeyPair,
    monkeypatch: pytest.MonkeyPatch,
    three_threads: int,
    tmp_path: Path,
) -> None:
    """A bundle signed before selftest.threads existed still loads, checked with 1 thread."""
    import torch

    from tests.bundle.conftest import read_members, write_members

    members = read_members(build_bundle(tmpl=template()))
    manifest = json.loads(members["manifest.json"])
    del manifest["selftest"]["threads"]
    members["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode()
    old = write_members(tmp_path / "old.bundle", members, sign_with=key)
    seen: dict[str, Any] = {}
    _spy_threads(monkeypatch, seen)
    loaded = load_bundle(old, trust)
    assert loaded.selftest.passed
    assert seen["load"] == 1
    assert torch.get_num_threads() == three_threads


@pytest.mark.parametrize("failure", ["mismatch", "crash"])
def test_thread_setting_restored_when_the_selftest_fails(
    build_bundle: Callable[..., Path],
    trust: Any,
    monkeypatch: pytest.MonkeyPatch,
    three_threads: int,
    failure: str,
) -> None:
    import torch

    import viewer.inference.selftest as selftest

    tmpl = template()
    tmpl["selftest"]["threads"] = 2
    path = build_bundle(tmpl=tmpl)
    seen: list[int] = []

    def check(*_args: Any, **_kwargs: Any) -> Any:
        seen.append(torch.get_num_threads())
        if failure == "crash":
            raise RuntimeError("boom")
        return selftest.SelfTestResult(False, 1.0, 1.0, "outputs differ.")

    monkeypatch.setattr(selftest, "check_selftest", check)
    with pytest.raises(BundleError) as info:
        load_bundle(path, trust)
    assert info.value.code == "selftest"
    assert seen == [2]
    assert torch.get_num_threads() == three_threads
