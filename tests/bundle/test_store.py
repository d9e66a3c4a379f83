"""The model store: versions kept, one active, explicit downgrade/activate/rollback, recorded."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from viewer.bundle.store import ModelStore
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


# --------------------------------------------------------------- swapped files, altered state


def _stored(store: ModelStore, version: str) -> Path:
    return next(e.path for e in store.list() if e.version == version)


def _sign_as_the_store(store: ModelStore, state: dict[str, Any]) -> None:
    """Write an altered index signed with the installation key: what someone who can also read
    that key could do. The checks after the signature must still hold (defence in depth)."""
    store._write(state)


def _state(store: ModelStore) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(store.state_path.read_text())
    return data


def test_signed_older_bundle_copied_over_the_active_file_is_refused(
    store: ModelStore, build_bundle: Callable[..., Path], audit: Any
) -> None:
    """Hostile finding 7: a validly signed 0.9.0 copied over 1.0.0.bundle ran as 0.9.0."""
    store.install(build_bundle(version="1.0.0"))
    old = build_bundle(version="0.9.0", seed=3)  # signed by the same trusted key
    _stored(store, "1.0.0").write_bytes(old.read_bytes())
    for call in (store.active, store.load_active, lambda: store.active("test-cxr")):
        with pytest.raises(BundleError, match=r"not the one installed: its SHA-256") as info:
            call()
        assert info.value.code == "store"
    with pytest.raises(BundleError, match="not the one installed"):
        store.activate("test-cxr", "1.0.0")
    refusals = [r for r in audit.records() if str(r.type) == "bundle_refused"]
    assert refusals and all(r.outcome == "failure" for r in refusals)
    assert refusals[0].model_version == "1.0.0" and refusals[0].detail["code"] == "store"


def test_swapped_file_with_its_digest_edited_into_the_state_is_refused(
    store: ModelStore, build_bundle: Callable[..., Path]
) -> None:
    """Whoever also edits store.json's digest still meets the manifest's id and version."""
    store.install(build_bundle(version="1.0.0"))
    installed = store.install(build_bundle(version="0.9.0", seed=3), allow_downgrade=True)
    state = _state(store)
    versions = state["models"]["test-cxr"]["versions"]
    versions["1.0.0"]["file"] = versions["0.9.0"]["file"]
    versions["1.0.0"]["digest"] = installed.digest
    _sign_as_the_store(store, state)
    with pytest.raises(BundleError, match=r"recorded as 'test-cxr' 1.0.0 holds 'test-cxr' 0.9.0"):
        store.load_active("test-cxr")


@pytest.mark.parametrize("where", ["absolute", "dotdot", "symlink"])
def test_state_entry_pointing_outside_the_store_is_refused(
    store: ModelStore, build_bundle: Callable[..., Path], tmp_path: Path, where: str
) -> None:
    """Hostile finding 7: store.json's "file" as an absolute path outside the store was followed."""
    store.install(build_bundle(version="1.0.0"))
    state = _state(store)
    entry = state["models"]["test-cxr"]["versions"]["1.0.0"]
    outside = tmp_path / "outside.bundle"
    outside.write_bytes(_stored(store, "1.0.0").read_bytes())  # even the very same bytes
    if where == "absolute":
        entry["file"] = str(outside)
    elif where == "dotdot":
        entry["file"] = "../" * (len(store.root.resolve().parts) - 1) + str(outside)[1:]
    else:
        (store.root / "test-cxr" / "link.bundle").symlink_to(outside)
        entry["file"] = "test-cxr/link.bundle"
    _sign_as_the_store(store, state)
    for call in (store.active, store.load_active, store.list):
        with pytest.raises(BundleError, match="points outside the store") as info:
            call()
        assert info.value.code == "store"


def test_load_active_checks_and_loads_once(
    store: ModelStore, build_bundle: Callable[..., Path], audit: Any
) -> None:
    assert store.load_active() is None
    store.install(build_bundle(version="1.0.0"))
    loaded = store.load_active()
    assert loaded is not None
    assert (loaded.manifest.version, loaded.selftest.passed) == ("1.0.0", True)
    assert loaded.digest == _state(store)["models"]["test-cxr"]["versions"]["1.0.0"]["digest"]
    assert loaded.path == _stored(store, "1.0.0")
    assert str(audit.records()[-1].type) == "bundle_verified"


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda s: s.update(format=2), "has format 2"),
        (lambda s: s.pop("format"), "has format None"),
        (
            lambda s: s["models"]["test-cxr"]["versions"]["1.0.0"].pop("digest"),
            "has no file digest",
        ),
        (lambda s: s["models"]["test-cxr"].update(active="7.0.0"), "7.0.0, which is not installed"),
    ],
    ids=["newer-format", "no-format", "no-digest", "active-not-installed"],
)
def test_state_file_of_another_format_is_refused_clearly(
    store: ModelStore, build_bundle: Callable[..., Path], edit: Callable[[Any], Any], match: str
) -> None:
    store.install(build_bundle(version="1.0.0"))
    state = _state(store)
    edit(state)
    _sign_as_the_store(store, state)
    with pytest.raises(BundleError, match=match) as info:
        store.active()
    assert info.value.code == "store"


def test_infer_with_an_installed_model_refuses_a_swapped_file(
    build_bundle: Callable[..., Path],
    key: Any,
    site_file: Path,
    cxr_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`bedside infer --model ID` (and the GUI, via ModelStore.active) goes through the check."""
    import shutil

    from viewer.bundle.trust import TrustStore
    from viewer.cli.main import main
    from viewer.config import load_settings

    keys = site_file.parent / "trusted-keys"
    keys.mkdir(parents=True)
    shutil.copy(key.public_path, keys / "ml-team.pem")
    settings = load_settings()
    store = ModelStore(settings, None, trust=TrustStore.from_settings(settings))
    store.install(build_bundle(version="1.0.0"))
    assert main(["infer", "--model", "test-cxr", str(cxr_path), "--json"]) == 0
    capsys.readouterr()
    _stored(store, "1.0.0").write_bytes(build_bundle(version="0.9.0", seed=3).read_bytes())
    assert main(["infer", "--model", "test-cxr", str(cxr_path), "--json"]) == 1
    captured = capsys.readouterr()
    assert "not the one installed" in captured.err
    assert "0.9.0" not in captured.out


# --------------------------------------------------------------- file-system failures


def _kinds(audit: Any) -> list[tuple[str, str]]:
    return [(str(r.type), r.outcome) for r in audit.records()]


def test_store_that_cannot_be_locked_refuses_before_verifying(
    store: ModelStore, build_bundle: Callable[..., Path], audit: Any
) -> None:
    """Hostile finding 14: a read-only models/ gave PermissionError on .lock after a
    bundle_verified row. (A folder where the lock file goes fails even for root.)"""
    (store.root / ".lock").mkdir(parents=True)
    with pytest.raises(BundleError, match=r"could not be locked for a change: .*Nothing was") as e:
        store.install(build_bundle())
    assert e.value.code == "store"
    assert _kinds(audit) == [("bundle_installed", "failure")]
    row = audit.records()[-1]
    assert row.detail["code"] == "store" and "could not be locked" in row.reason
    for act in (lambda: store.activate("test-cxr", "1.0.0"), lambda: store.rollback("test-cxr")):
        with pytest.raises(BundleError) as e:
            act()
        assert e.value.code == "store"


@pytest.mark.parametrize("failing", ["copy", "state"])
def test_install_failing_on_disk_leaves_no_installed_row(
    store: ModelStore,
    build_bundle: Callable[..., Path],
    audit: Any,
    monkeypatch: pytest.MonkeyPatch,
    failing: str,
) -> None:
    import errno

    import viewer.bundle.store as store_mod

    def boom(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(store.root))

    if failing == "copy":
        monkeypatch.setattr(store_mod.shutil, "copyfile", boom)
    else:
        monkeypatch.setattr(store_mod, "write_atomic", boom)
    with pytest.raises(BundleError, match="No space left on device") as e:
        store.install(build_bundle())
    assert e.value.code == "store"
    assert _kinds(audit) == [("bundle_verified", "success"), ("bundle_installed", "failure")]
    monkeypatch.undo()
    assert store.list() == [] and store.active() is None
    assert not list(store.root.rglob("*.tmp")) and not list(store.root.rglob("*.bundle"))


def test_activate_and_rollback_failing_on_disk_change_nothing(
    store: ModelStore,
    build_bundle: Callable[..., Path],
    audit: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import viewer.bundle.store as store_mod

    store.install(build_bundle(version="1.0.0"))
    store.install(build_bundle(version="1.1.0", seed=1), activate=True)

    def read_only(*args: Any, **kwargs: Any) -> None:
        raise PermissionError(13, "Permission denied", str(store.state_path))

    monkeypatch.setattr(store_mod, "write_atomic", read_only)
    for act, event in (
        (lambda: store.activate("test-cxr", "1.0.0"), "bundle_activated"),
        (lambda: store.rollback("test-cxr"), "bundle_rolled_back"),
    ):
        with pytest.raises(BundleError, match="could not save its state: Permission denied") as e:
            act()
        assert e.value.code == "store"
        assert _kinds(audit)[-1] == (event, "failure")
    monkeypatch.undo()
    assert [e.version for e in store.list() if e.active] == ["1.1.0"]


def test_unrecorded_install_is_undone(
    store: ModelStore,
    build_bundle: Callable[..., Path],
    audit: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If the audit log cannot record the install, the store does not keep it either."""
    from viewer.errors import AuditWriteError

    real = audit.append

    def append(event: Any) -> Any:
        if str(event.type) == "bundle_installed" and event.outcome == "success":
            raise AuditWriteError("disk full")
        return real(event)

    monkeypatch.setattr(audit, "append", append)
    with pytest.raises(AuditWriteError):
        store.install(build_bundle())
    assert store.list() == [] and not list(store.root.rglob("*.bundle"))


@pytest.mark.skipif(
    not hasattr(__import__("os"), "geteuid") or __import__("os").geteuid() == 0,
    reason="root ignores folder permissions",
)
def test_read_only_models_folder(
    store: ModelStore, build_bundle: Callable[..., Path], audit: Any
) -> None:
    store.root.mkdir(parents=True)
    store.root.chmod(0o555)
    try:
        with pytest.raises(BundleError, match="Permission denied") as e:
            store.install(build_bundle())
        assert e.value.code == "store"
        assert ("bundle_installed", "success") not in _kinds(audit)
    finally:
        store.root.chmod(0o755)


# --------------------------------------------------------------- demo key (issue 12 item 10)


def _demo_bundle() -> Path:
    from viewer.bundle.resources import DEMO_BUNDLE, resource_path

    path = resource_path(*DEMO_BUNDLE)
    if not path.is_file():
        pytest.skip("resources/demo/demo-cxr.bundle is not built (make demo-bundle)")
    return path


def test_demo_key_bundle_is_refused_for_a_named_data_dir(data_dir: Path) -> None:
    """`--demo bundle install` with BEDSIDE_DATA_DIR set installed a demo-key bundle into a real
    store: demo trust only ever applies to demo mode's own throwaway data dir."""
    from viewer.audit import AuditLog
    from viewer.config import load_settings

    settings = load_settings(demo=True)  # BEDSIDE_DATA_DIR is set: a real data dir
    assert settings.demo and not getattr(settings, "throwaway", False)
    with AuditLog.open(settings) as log:
        with pytest.raises(BundleError, match=r"demo key.*never put into a real model store") as e:
            ModelStore(settings, log).install(_demo_bundle())
        assert e.value.code == "untrusted"
        assert ModelStore(settings).list() == []
        assert not any(settings.model_store_dir.rglob("*.bundle"))
        rows = [(str(r.type), r.outcome) for r in log.records()]
    assert ("bundle_refused", "failure") in rows
    assert not any(t in ("bundle_installed", "bundle_activated") for t, _ in rows)


def test_demo_key_bundle_is_refused_even_when_the_site_trusts_the_demo_key(
    settings: Any, site_file: Path
) -> None:
    from viewer.bundle.resources import DEMO_PUBLIC_KEY, resource_path
    from viewer.bundle.trust import TrustStore

    keys = site_file.parent / "trusted-keys"
    keys.mkdir()
    (keys / "demo.pub.pem").write_bytes(resource_path(*DEMO_PUBLIC_KEY).read_bytes())
    store = ModelStore(settings, None, trust=TrustStore.from_settings(settings))
    with pytest.raises(BundleError, match="demo key") as info:
        store.install(_demo_bundle())
    assert info.value.code == "untrusted"


def test_demo_key_bundle_installs_in_the_throwaway_dir_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dataclasses
    import shutil

    from viewer.config import load_settings

    monkeypatch.delenv("BEDSIDE_DATA_DIR")
    settings = load_settings(demo=True)
    try:
        assert settings.throwaway
        loaded = ModelStore(settings).install(_demo_bundle())
        assert ModelStore(settings).load_active() is not None
        # the same store seen as a real data dir (a named BEDSIDE_DATA_DIR): refused at load
        real = dataclasses.replace(settings, throwaway=False)
        with pytest.raises(BundleError, match="demo key") as info:
            ModelStore(real).load_active(loaded.manifest.id)
        assert info.value.code == "untrusted"
    finally:
        shutil.rmtree(settings.data_dir, ignore_errors=True)


# --------------------------------------------------------------- the index itself (issue 12 item 9)


def _set_active(state: dict[str, Any], version: str) -> None:
    state["models"]["test-cxr"]["active"] = version


def _add_entry(state: dict[str, Any], version: str) -> None:
    versions = state["models"]["test-cxr"]["versions"]
    versions["2.0.0"] = dict(versions[version], file=versions[version]["file"])


def _remove_entry(state: dict[str, Any], version: str) -> None:
    model = state["models"]["test-cxr"]
    del model["versions"]["1.1.0"]


def _edit_digest(state: dict[str, Any], version: str) -> None:
    state["models"]["test-cxr"]["versions"]["1.1.0"]["digest"] = "0" * 64


def _drop_signature(state: dict[str, Any], version: str) -> None:
    state.pop("signature")


@pytest.mark.parametrize(
    "edit",
    [_set_active, _add_entry, _remove_entry, _edit_digest, _drop_signature],
    ids=["edited-active-version", "added-entry", "removed-entry", "edited-digest", "no-signature"],
)
def test_hand_edited_index_is_refused_and_recorded(
    store: ModelStore, build_bundle: Callable[..., Path], audit: Any, edit: Callable[..., None]
) -> None:
    """Editing store.json by hand made an old, validly signed version active with no audit row:
    the index is signed with the installation key and checked before any entry is believed."""
    store.install(build_bundle(version="0.9.0", seed=3))
    store.install(build_bundle(version="1.0.0"), activate=True)
    store.install(build_bundle(version="1.1.0", seed=1))
    state = _state(store)
    edit(state, "0.9.0")
    store.state_path.write_text(json.dumps(state, indent=2))
    before = len(_events(audit))
    for call in (
        store.active,
        store.load_active,
        store.list,
        lambda: store.activate("test-cxr", "1.1.0"),
    ):
        with pytest.raises(BundleError, match="not the one this installation wrote") as info:
            call()
        assert info.value.code == "store"
    rows = audit.records()[before:]
    refused = [r for r in rows if str(r.type) == "bundle_refused"]
    assert refused and refused[0].detail["code"] == "store"
    assert not [r for r in rows if r.outcome == "success"]


def test_index_signed_by_another_installation_is_refused(
    store: ModelStore, build_bundle: Callable[..., Path], tmp_path: Path
) -> None:
    import dataclasses

    from viewer.config import load_settings

    store.install(build_bundle(version="1.0.0"))
    other = dataclasses.replace(load_settings(), data_dir=tmp_path / "other-install")
    foreign = ModelStore(other, None, trust=store.trust)
    foreign.root = store.root  # the same folder, written by another installation's key
    foreign._write(_state(store))
    with pytest.raises(BundleError, match="signed by another key") as info:
        store.load_active()
    assert info.value.code == "store"


def test_index_is_signed_and_a_store_action_keeps_it_valid(
    store: ModelStore, build_bundle: Callable[..., Path]
) -> None:
    store.install(build_bundle(version="1.0.0"))
    store.install(build_bundle(version="1.1.0", seed=1), activate=True)
    assert store.rollback("test-cxr") == "1.0.0"
    signature = _state(store)["signature"]
    assert set(signature) == {"key_fingerprint", "value"}
    assert [e.version for e in store.list() if e.active] == ["1.0.0"]
