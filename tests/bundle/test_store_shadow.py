"""The store's shadow candidate: one per model id, never the active one, signed, recorded."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.bundle.test_store import _events, audit, store
from viewer.bundle.store import ModelStore
from viewer.errors import BundleError

__all__ = ["audit", "store"]  # fixtures imported for pytest


def _shadow(store: ModelStore) -> list[tuple[str, bool, bool]]:
    return [(e.version, e.active, e.shadow) for e in store.list()]


def test_install_as_shadow_keeps_the_active_and_is_recorded(
    store: ModelStore, build_bundle: Callable[..., Path], audit: Any
) -> None:
    store.install(build_bundle(version="1.0.0"))
    store.install(build_bundle(version="1.1.0", seed=1), shadow=True)
    assert _shadow(store) == [("1.0.0", True, False), ("1.1.0", False, True)]
    entry = store.shadow_entry("test-cxr")
    assert entry is not None and entry.version == "1.1.0"
    started = [r for r in audit.records() if r.type == "shadow_started"]
    assert len(started) == 1 and started[0].outcome == "success"
    assert started[0].bundle_digest == entry.digest
    assert started[0].detail["active_version"] == "1.0.0"
    # the index holding it is signed: a hand edit is refused
    data = json.loads(store.state_path.read_text())
    data["models"]["test-cxr"]["shadow"] = None
    store.state_path.write_text(json.dumps(data))
    with pytest.raises(BundleError, match="not the one this installation wrote"):
        store.list()


def test_stop_and_activation_end_shadow_scoring(
    store: ModelStore, build_bundle: Callable[..., Path], audit: Any
) -> None:
    store.install(build_bundle(version="1.0.0"))
    store.install(build_bundle(version="1.1.0", seed=1), shadow=True)
    assert store.stop_shadow("test-cxr") == "1.1.0"
    assert store.shadow_entry("test-cxr") is None
    assert ("shadow_stopped", "success", "1.1.0") in _events(audit)
    with pytest.raises(BundleError, match="has no shadow candidate"):
        store.stop_shadow("test-cxr")
    store.set_shadow("test-cxr", "1.1.0")
    store.activate("test-cxr", "1.1.0")  # the candidate goes live: no longer a shadow
    assert _shadow(store) == [("1.0.0", False, False), ("1.1.0", True, False)]


def test_shadow_refusals_are_clear_and_recorded(
    store: ModelStore, build_bundle: Callable[..., Path], audit: Any
) -> None:
    first = build_bundle(version="1.0.0")
    with pytest.raises(BundleError, match="no active version"):
        store.install(first, shadow=True)
    assert store.list() == []  # nothing installed
    store.install(first)
    with pytest.raises(BundleError, match="is the active version"):
        store.set_shadow("test-cxr", "1.0.0")
    with pytest.raises(BundleError, match="not installed"):
        store.set_shadow("test-cxr", "9.9.9")
    with pytest.raises(BundleError, match="not both"):
        store.install(build_bundle(version="1.1.0", seed=1), shadow=True, activate=True)
    failures = [e for e in _events(audit) if e[1] == "failure"]
    assert ("shadow_started", "failure", "1.0.0") in failures
    assert ("bundle_installed", "failure", "1.0.0") in failures


def test_a_swapped_candidate_file_is_not_set(
    store: ModelStore, build_bundle: Callable[..., Path]
) -> None:
    store.install(build_bundle(version="1.0.0"))
    store.install(build_bundle(version="1.1.0", seed=1))
    stored = next(e.path for e in store.list() if e.version == "1.1.0")
    stored.write_bytes(stored.read_bytes()[:-10])
    with pytest.raises(BundleError, match="not the one installed"):
        store.set_shadow("test-cxr", "1.1.0")
    assert store.shadow_entry("test-cxr") is None
