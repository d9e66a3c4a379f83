"""The model store: versions kept, one active, explicit downgrade/activate/rollback, recorded."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from viewer.bundle.store import ModelStore, semver_key
from viewer.errors import BundleError


@pytest.fixture
def audit(settings: Any) -> Any:
    from viewer.audit import AuditLog

    log = AuditLog.open(settings)
    yield log
    log.close()


@pytest.fixture
def store(settings: Any, trust: Any, audit: Any) -> ModelStore:
    return ModelStore(settings, audit, trust=trust)


def _events(audit: Any) -> list[tuple[str, str, str | None]]:
    return [(str(r.type), r.outcome, r.model_version) for r in audit.records()]


def test_semver_order() -> None:
    ordered = ["0.9.9", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0", "1.0.1", "1.10.0"]
    assert sorted(reversed(ordered), key=semver_key) == ordered


def test_first_install_becomes_active(store: ModelStore, build_bundle: Callable[..., Path]) -> None:
    store.install(build_bundle(version="1.0.0"))
    entries = store.list()
    assert [(e.version, e.active) for e in entries] == [("1.0.0", True)]
    active = store.active("test-cxr")
    assert active is not None and active.is_file()
    assert store.active() == active
    assert json.loads(store.state_path.read_text())["models"]["test-cxr"]["active"] == "1.0.0"


def test_newer_install_is_kept_but_not_activated_implicitly(
    store: ModelStore, build_bundle: Callable[..., Path], audit: Any
) -> None:
    store.install(build_bundle(version="1.0.0"))
    store.install(build_bundle(version="1.1.0", seed=1))
    assert [(e.version, e.active) for e in store.list()] == [("1.0.0", True), ("1.1.0", False)]
    store.activate("test-cxr", "1.1.0")
    assert [e.version for e in store.list() if e.active] == ["1.1.0"]
    kinds = _events(audit)
    assert ("bundle_installed", "success", "1.1.0") in kinds
    assert ("bundle_activated", "success", "1.1.0") in kinds


def test_rollback_returns_to_previous_active(
    store: ModelStore, build_bundle: Callable[..., Path], audit: Any
) -> None:
    store.install(build_bundle(version="1.0.0"))
    store.install(build_bundle(version="1.1.0", seed=1), activate=True)
    assert store.rollback("test-cxr") == "1.0.0"
    assert [e.version for e in store.list() if e.active] == ["1.0.0"]
    assert ("bundle_rolled_back", "success", "1.0.0") in _events(audit)
    assert store.rollback("test-cxr") == "1.1.0"


def test_rollback_without_history(store: ModelStore, build_bundle: Callable[..., Path]) -> None:
    store.install(build_bundle(version="1.0.0"))
    with pytest.raises(BundleError, match="no earlier active version"):
        store.rollback("test-cxr")


def test_explicit_downgrade_is_recorded(
    store: ModelStore, build_bundle: Callable[..., Path], audit: Any
) -> None:
    store.install(build_bundle(version="2.0.0"))
    with pytest.raises(BundleError) as info:
        store.install(build_bundle(version="1.0.0", seed=1))
    assert info.value.code == "downgrade"
    assert ("bundle_refused", "failure", "1.0.0") in _events(audit)
    store.install(build_bundle(version="1.0.0", seed=2), allow_downgrade=True)
    assert [(e.version, e.active) for e in store.list()] == [("1.0.0", False), ("2.0.0", True)]
    row = next(
        r
        for r in audit.records()
        if str(r.type) == "bundle_installed" and r.model_version == "1.0.0"
    )
    assert row.detail["downgrade"] is True
    assert row.reason == "explicit downgrade"


def test_same_version_different_content_refused(
    store: ModelStore, build_bundle: Callable[..., Path]
) -> None:
    first = build_bundle(version="1.0.0")
    store.install(first)
    store.install(first)  # same bytes: idempotent
    with pytest.raises(BundleError, match="already installed with different content"):
        store.install(build_bundle(version="1.0.0", seed=5))


def test_activate_unknown_version(store: ModelStore, build_bundle: Callable[..., Path]) -> None:
    store.install(build_bundle(version="1.0.0"))
    with pytest.raises(BundleError, match="not installed"):
        store.activate("test-cxr", "9.9.9")
    with pytest.raises(BundleError, match="No model 'other'"):
        store.activate("other", "1.0.0")


def test_tampered_store_file_is_not_activated(
    store: ModelStore, build_bundle: Callable[..., Path]
) -> None:
    store.install(build_bundle(version="1.0.0"))
    store.install(build_bundle(version="1.1.0", seed=1))
    stored = next(e.path for e in store.list() if e.version == "1.1.0")
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 1
    stored.write_bytes(bytes(data))
    with pytest.raises(BundleError):
        store.activate("test-cxr", "1.1.0")
    assert [e.version for e in store.list() if e.active] == ["1.0.0"]


def test_refused_bundle_is_not_installed(
    store: ModelStore, build_bundle: Callable[..., Path], make_key: Callable[[str], Any]
) -> None:
    with pytest.raises(BundleError) as info:
        store.install(build_bundle(signer=make_key("stranger")))
    assert info.value.code == "untrusted"
    assert store.list() == []
    assert store.active() is None


def test_damaged_state_file(store: ModelStore, build_bundle: Callable[..., Path]) -> None:
    store.install(build_bundle())
    store.state_path.write_text("{not json")
    with pytest.raises(BundleError, match="state file is unreadable"):
        store.list()


def test_two_processes_install_at_once(
    build_bundle: Callable[..., Path], key: Any, site_file: Path, data_dir: Path
) -> None:
    """The GUI and the CLI may act together: neither install is lost (a lock serialises them)."""
    import os
    import shutil
    import subprocess
    import sys

    keys = site_file.parent / "trusted-keys"
    keys.mkdir(parents=True)
    shutil.copy(key.public_path, keys / "ml-team.pem")
    bundles = [build_bundle(version=f"1.{i}.0", seed=i) for i in range(3)]
    env = dict(os.environ, BEDSIDE_DATA_DIR=str(data_dir), BEDSIDE_SITE_CONFIG=str(site_file))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "viewer", "bundle", "install", str(b), "--allow-downgrade"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for b in bundles
    ]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], results
    from viewer.bundle.trust import TrustStore
    from viewer.config import load_settings

    settings = load_settings()
    store = ModelStore(settings, None, trust=TrustStore.from_settings(settings))
    assert sorted(e.version for e in store.list()) == ["1.0.0", "1.1.0", "1.2.0"]
    assert len([e for e in store.list() if e.active]) == 1


@pytest.mark.skipif(__import__("sys").platform == "win32", reason="POSIX flock")
def test_store_lock_is_exclusive(store: ModelStore) -> None:
    import fcntl

    with (
        store._lock(),
        (store.root / ".lock").open("a+b") as other,
        pytest.raises(BlockingIOError),
    ):
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    with (store.root / ".lock").open("a+b") as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again
        fcntl.flock(other.fileno(), fcntl.LOCK_UN)
