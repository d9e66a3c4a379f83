"""The model manager's calls into the store, without Qt: rows, their order, and audited actions.

Rows are built from the committed demo bundle (trusted only in demo mode); only the test that
installs and re-tests a bundle loads torch.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from tests.waits import WAIT_S
from viewer.bundle import StoreEntry, TrustStore
from viewer.bundle.resources import DEMO_BUNDLE, resource_path
from viewer.session.model_admin import (
    STORED_FILE_CHANGED,
    BundleRow,
    _row,
    install_bundle,
    list_bundles,
    run_selftest,
    sort_rows,
)


def _entry(**changes: Any) -> StoreEntry:
    from viewer.bundle.archive import read_archive

    path = resource_path(*DEMO_BUNDLE)
    entry = StoreEntry(
        id="bedside-demo-cxr",
        version="1.0.0",
        digest=read_archive(path).digest,
        key_fingerprint="recorded-at-install",
        installed_at="2026-11-28T12:00:00Z",
        active=True,
        path=path,
        name="Bedside demo",
    )
    return replace(entry, **changes)


def _plain_row(model_id: str, version: str) -> BundleRow:
    return BundleRow(model_id, version, "", "", "", "", False, Path(f"{version}.bundle"))


def test_importing_the_model_admin_imports_neither_qt_nor_torch() -> None:
    import subprocess

    code = (
        "import sys, viewer.session.model_admin; "
        "assert 'torch' not in sys.modules and 'PySide6' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=WAIT_S)


def test_rows_sort_by_model_then_semver_precedence() -> None:
    rows = [
        _plain_row("b", "0.1.0"),
        _plain_row("a", "1.0.0"),
        _plain_row("a", "1.0.0-rc.1"),
        _plain_row("a", "1.10.0"),
        _plain_row("a", "1.9.0"),
    ]
    assert [(r.model_id, r.version) for r in sort_rows(rows)] == [
        ("a", "1.0.0-rc.1"),
        ("a", "1.0.0"),
        ("a", "1.9.0"),
        ("a", "1.10.0"),
        ("b", "0.1.0"),
    ]


def test_a_verified_entry_carries_its_card_and_signer(demo_settings: Any) -> None:
    row = _row(_entry(), TrustStore.from_settings(demo_settings))
    assert (row.selftest, row.problem) == ("passed", "")
    assert row.card is not None and row.card.model_id == "bedside-demo-cxr"
    assert row.creator == "Bedside developers (Bedside (demo))" == row.card.creator_text
    assert row.key_fingerprint != "recorded-at-install"  # what the signature check found


def test_a_stored_file_that_changed_is_refused(demo_settings: Any) -> None:
    row = _row(_entry(digest="0" * 64), TrustStore.from_settings(demo_settings))
    assert (row.selftest, row.problem) == ("refused", STORED_FILE_CHANGED)


def test_an_entry_whose_key_is_no_longer_trusted_is_refused_with_the_reason(
    settings: Any,
) -> None:
    row = _row(_entry(), TrustStore.from_settings(settings))  # not demo: demo key untrusted
    assert row.selftest == "refused" and row.card is None
    assert "No trusted signing keys" in row.problem
    assert row.key_fingerprint == "recorded-at-install"  # the store's record, nothing new


def test_an_empty_store_lists_no_rows_and_no_keys(settings: Any) -> None:
    view = list_bundles(settings)
    assert (view.rows, view.keys, view.problems) == ([], [], [])


def test_install_list_and_selftest_are_audited(demo_settings: Any) -> None:
    import dataclasses

    from viewer.audit import AuditLog

    # A demo-key bundle is installed only into demo mode's throwaway data dir (issue 12 item
    # 10); this test's own temporary data dir stands in for it.
    demo_settings = dataclasses.replace(demo_settings, throwaway=True)
    assert install_bundle(demo_settings, resource_path(*DEMO_BUNDLE), allow_downgrade=False) == (
        "bedside-demo-cxr",
        "1.0.0",
        True,
    )
    view = list_bundles(demo_settings)
    assert [(r.version, r.active, r.selftest) for r in view.rows] == [("1.0.0", True, "passed")]
    assert [source for source, _fp, _path in view.keys] == ["demo"]
    outcome = run_selftest(demo_settings, view.rows[0])
    assert outcome.passed and 0.0 <= outcome.max_abs_diff <= 1e-4
    log = AuditLog.open(demo_settings)
    try:
        types = [str(r.type) for r in log.records()]
    finally:
        log.close()
    assert types.count("bundle_installed") == 1
    assert types[-1] == "bundle_verified"  # the re-test, loaded through the store
