"""Model manager: install / activate / roll back (confirmed, audited) and refusals, by object name.

Bundles are small demo-cnn models signed with a test key that the site trusts (its public key in
the site's trusted-keys folder), built once per module.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QLabel, QMessageBox, QPushButton, QTableWidget, QTextBrowser
from pytestqt.qtbot import QtBot

from tests.bundle.conftest import random_state, template
from tests.waits import WAIT_MS
from viewer.audit import AuditLog
from viewer.config import Settings, load_settings
from viewer.ui.qt_model_manager import QtModelManager


@dataclass(frozen=True)
class Bundles:
    v100: Path
    v110: Path
    untrusted: Path
    tampered: Path
    public_key: Path


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> Bundles:
    import safetensors.torch

    from viewer.bundle.archive import read_archive, write_archive
    from viewer.bundle.create import create_bundle
    from viewer.bundle.keys import generate_keypair, load_private_key
    from viewer.dicom.synthetic import make_cxr

    root = tmp_path_factory.mktemp("bundles")
    sample = root / "sample.dcm"
    make_cxr(1, opacity=True, size=(128, 128)).save_as(sample, enforce_file_format=True)
    trusted = generate_keypair(root / "trusted")
    stranger = generate_keypair(root / "stranger")

    def build(version: str, key_path: Path, seed: int) -> Path:
        weights = root / f"w-{version}-{seed}.safetensors"
        state = random_state("demo-cnn", in_channels=1, num_labels=1, seed=seed)
        safetensors.torch.save_file(state, str(weights))
        tmpl = template(model_id="test-cxr", version=version, size=64)
        tmpl["intended_use"] = "Second reader for adult PA chest X-rays (test model)."
        out = root / f"test-cxr-{version}-{seed}.bundle"
        create_bundle(
            arch_id="demo-cnn",
            weights=weights,
            template=tmpl,
            sample=sample,
            out=out,
            private_key=load_private_key(key_path),
            created="2026-11-28T12:00:00Z",
        )
        return out

    v100 = build("1.0.0", trusted.private_path, 0)
    v110 = build("1.1.0", trusted.private_path, 1)
    untrusted = build("1.2.0", stranger.private_path, 2)
    # Tampered: the manifest changed after signing (threshold lowered), signature kept.
    members = dict(read_archive(v110).members)
    manifest = json.loads(members["manifest.json"])
    manifest["labels"][0]["threshold"] = 0.05
    members["manifest.json"] = json.dumps(manifest).encode()
    tampered = root / "tampered.bundle"
    write_archive(members, tampered)
    return Bundles(v100, v110, untrusted, tampered, trusted.public_path)


@pytest.fixture
def it_settings(bundles: Bundles, site_file: Path) -> Settings:
    keys = site_file.parent / "trusted-keys"
    keys.mkdir()
    (keys / "ml-team.pub.pem").write_bytes(bundles.public_key.read_bytes())
    return load_settings()


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every confirmation answers Yes; the questions asked are collected."""
    asked: list[str] = []

    def question(_parent: Any, title: str, text: str, *_args: Any) -> QMessageBox.StandardButton:
        asked.append(f"{title}: {text}")
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


@pytest.fixture
def manager(qtbot: QtBot, it_settings: Settings) -> Iterator[QtModelManager]:
    win = QtModelManager(it_settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=WAIT_MS)
    yield win
    win.shutdown()
    assert QThreadPool.globalInstance().waitForDone(WAIT_MS), "a worker outlived its test"


def _wait(qtbot: QtBot, win: QtModelManager) -> None:
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=WAIT_MS)


def _table(win: QtModelManager) -> list[tuple[str, str, str]]:
    """(version, self-test, active) per row, as shown."""
    t = win.findChild(QTableWidget, "modelTable")
    return [
        (t.item(r, 1).text(), t.item(r, 4).text(), t.item(r, 5).text()) for r in range(t.rowCount())
    ]


def _events(settings: Settings) -> list[tuple[str, str, str | None]]:
    log = AuditLog.open(settings)
    try:
        return [(r.type, r.outcome, r.model_version) for r in log.records()]
    finally:
        log.close()


def _install(qtbot: QtBot, win: QtModelManager, path: Path) -> None:
    win.install(path)
    _wait(qtbot, win)


def test_empty_store_says_so(manager: QtModelManager) -> None:
    assert _table(manager) == []
    assert "No model bundle is installed" in manager.findChild(QLabel, "modelStatus").text()
    assert not manager.findChild(QPushButton, "activateButton").isEnabled()
    assert not manager.findChild(QPushButton, "rollbackButton").isEnabled()


def test_install_activate_rollback_are_confirmed_and_audited(
    qtbot: QtBot,
    manager: QtModelManager,
    bundles: Bundles,
    it_settings: Settings,
    answers: list[str],
) -> None:
    status = manager.findChild(QLabel, "modelStatus")
    _install(qtbot, manager, bundles.v100)
    assert "now the active version" in status.text()
    assert _table(manager) == [("1.0.0", "Passed at install", "Active")]
    _install(qtbot, manager, bundles.v110)
    assert "not active until you activate it" in status.text()
    assert _table(manager) == [
        ("1.0.0", "Passed at install", "Active"),
        ("1.1.0", "Passed at install", ""),
    ]
    assert manager.selected_row().version == "1.1.0"

    manager.findChild(QPushButton, "activateButton").click()
    _wait(qtbot, manager)
    assert "1.1.0 is now active" in status.text()
    assert [row[2] for row in _table(manager)] == ["", "Active"]

    manager.select("test-cxr", "1.1.0")
    manager.findChild(QPushButton, "rollbackButton").click()
    _wait(qtbot, manager)
    assert "the active version is now 1.0.0" in status.text()
    assert [row[2] for row in _table(manager)] == ["Active", ""]

    assert len(answers) == 4  # two installs, one activation, one roll-back: each confirmed
    events = _events(it_settings)
    assert ("bundle_installed", "success", "1.0.0") in events
    assert ("bundle_installed", "success", "1.1.0") in events
    assert ("bundle_activated", "success", "1.1.0") in events
    assert ("bundle_rolled_back", "success", "1.0.0") in events


def test_declined_confirmation_changes_nothing(
    qtbot: QtBot,
    manager: QtModelManager,
    bundles: Bundles,
    it_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(QMessageBox, "question", lambda *_a: QMessageBox.StandardButton.No)
    manager.install(bundles.v100)
    assert not manager.is_busy()
    assert _table(manager) == []
    assert _events(it_settings) == []


@pytest.mark.parametrize(
    ("which", "lead", "fragment"),
    [
        ("untrusted", "The signing key is not trusted at this site.", "trust"),
        ("tampered", "The signature does not match the contents", "signature"),
    ],
    ids=["untrusted-key", "tampered-manifest"],
)
def test_refused_bundle_shows_the_reason_and_is_audited(
    qtbot: QtBot,
    manager: QtModelManager,
    bundles: Bundles,
    it_settings: Settings,
    answers: list[str],
    which: str,
    lead: str,
    fragment: str,
) -> None:
    _install(qtbot, manager, getattr(bundles, which))
    text = manager.findChild(QLabel, "modelStatus").text()
    prefix = "Bundle refused: " + lead
    assert text.startswith(prefix)
    assert fragment in text[len(prefix) :].lower()  # the core's own sentence follows
    assert "Traceback" not in text
    assert _table(manager) == []
    assert [e[:2] for e in _events(it_settings)] == [("bundle_refused", "failure")]


def test_downgrade_needs_a_second_explicit_confirmation(
    qtbot: QtBot,
    manager: QtModelManager,
    bundles: Bundles,
    it_settings: Settings,
    answers: list[str],
) -> None:
    _install(qtbot, manager, bundles.v110)
    _install(qtbot, manager, bundles.v100)  # older: refused, asked again, installed
    assert any("older version" in question for question in answers)
    assert _table(manager) == [
        ("1.0.0", "Passed at install", ""),
        ("1.1.0", "Passed at install", "Active"),
    ]
    events = _events(it_settings)
    assert ("bundle_refused", "failure", "1.0.0") in events
    assert ("bundle_installed", "success", "1.0.0") in events


def test_model_card_and_selftest(
    qtbot: QtBot, manager: QtModelManager, bundles: Bundles, answers: list[str]
) -> None:
    _install(qtbot, manager, bundles.v100)
    card = manager.findChild(QTextBrowser, "modelCard").toPlainText()
    for expected in (
        "Second reader for adult PA chest X-rays",  # intended use
        "Any clinical use.",  # out of scope
        "test value",  # operating point
        "95% 0.4–0.6 (bootstrap)",  # metric with its confidence interval
        "Training data",
        "Test Team (Bedside tests)",
    ):
        assert expected in card, expected
    manager.findChild(QPushButton, "selftestButton").click()
    _wait(qtbot, manager)
    assert _table(manager) == [("1.0.0", "Passed (just now)", "Active")]
    assert "passed" in manager.findChild(QLabel, "modelStatus").text()
    # the thread that ran the self-test (torch) ends at once instead of idling 30 s with an
    # OpenMP team of its own, which halves the speed of the main window's forward passes
    assert manager._runner.pool.expiryTimeout() == 0


def test_a_stored_file_that_no_longer_verifies_is_shown_refused(
    qtbot: QtBot, manager: QtModelManager, bundles: Bundles, answers: list[str]
) -> None:
    _install(qtbot, manager, bundles.v100)
    stored = manager.rows()[0].path
    assert stored is not None
    stored.write_bytes(bundles.tampered.read_bytes())
    manager.findChild(QPushButton, "refreshModelsButton").click()
    _wait(qtbot, manager)
    assert _table(manager)[0][1] == "REFUSED"
    assert "refused" in manager.findChild(QTextBrowser, "modelCard").toPlainText()


def test_widgets_have_accessible_names(manager: QtModelManager) -> None:
    for cls, name in (
        (QTableWidget, "modelTable"),
        (QTextBrowser, "modelCard"),
        (QPushButton, "installBundleButton"),
        (QPushButton, "activateButton"),
        (QPushButton, "rollbackButton"),
    ):
        widget = manager.findChild(cls, name)
        assert widget is not None, name
        assert widget.accessibleName(), name


def test_window_stays_open_while_an_install_runs(
    qtbot: QtBot, manager: QtModelManager, bundles: Bundles, answers: list[str]
) -> None:
    manager.install(bundles.v100)
    assert manager.is_busy()  # cleared only by the GUI thread, so this is not a race
    manager.close()
    assert manager.isVisible()
    assert "Please wait" in manager.findChild(QLabel, "modelStatus").text()
    _wait(qtbot, manager)
    assert "now the active version" in manager.findChild(QLabel, "modelStatus").text()
    manager.close()
    assert not manager.isVisible()


def test_damaged_store_is_reported_not_hidden(
    qtbot: QtBot,
    manager: QtModelManager,
    it_settings: Settings,
    bundles: Bundles,
    answers: list[str],
) -> None:
    _install(qtbot, manager, bundles.v100)
    assert len(_table(manager)) == 1
    (it_settings.model_store_dir / "store.json").write_text("{not json", encoding="utf-8")
    manager.findChild(QPushButton, "refreshModelsButton").click()
    _wait(qtbot, manager)
    status = manager.findChild(QLabel, "modelStatus")
    assert status.text().startswith("The model store cannot be read: ")
    assert "#b00020" in status.styleSheet()
    assert _table(manager) == []


def test_trusted_keys_are_summarised(manager: QtModelManager, bundles: Bundles) -> None:
    label = manager.findChild(QLabel, "trustedKeys")
    assert label.text() == "Trusted signing keys: 1 (site 1)."
    assert label.toolTip().startswith("site: ")


def test_no_trusted_key_is_a_visible_problem(qtbot: QtBot, settings: Settings) -> None:
    win = QtModelManager(settings)  # the default site: no trusted-keys folder at all
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=WAIT_MS)
    label = win.findChild(QLabel, "trustedKeys")
    assert label.text().startswith("No trusted signing keys")
    assert "#b00020" in label.styleSheet()
    win.shutdown()


def test_selftest_refuses_a_validly_signed_bundle_swapped_in_the_store(
    qtbot: QtBot, manager: QtModelManager, bundles: Bundles, answers: list[str]
) -> None:
    """The self-test loads through the store, which checks the recorded digest, id and version."""
    from viewer.bundle.store import ModelStore
    from viewer.errors import BundleError

    _install(qtbot, manager, bundles.v100)
    stored = manager.rows()[0].path
    assert stored is not None
    stored.write_bytes(bundles.v110.read_bytes())  # signed by the trusted key, but not 1.0.0
    manager.findChild(QPushButton, "selftestButton").click()
    _wait(qtbot, manager)
    assert _table(manager)[0][1] == "FAILED"
    with pytest.raises(BundleError) as raised:
        ModelStore(manager.settings).load("test-cxr", "1.0.0")
    assert raised.value.code == "store"
    assert str(raised.value) in manager.findChild(QLabel, "modelStatus").text()


def test_table_sorts_a_pre_release_below_its_release(
    qtbot: QtBot, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SemVer precedence (viewer.bundle.version): 1.0.0-rc.1 < 1.0.0 < 1.10.0, never equal."""
    from viewer.session.model_admin import BundleRow, StoreView
    from viewer.ui import qt_model_manager

    def row(version: str) -> BundleRow:
        return BundleRow("test-cxr", version, "Test", "", "ab" * 32, "", False, Path(version))

    view = StoreView(rows=[row("1.10.0"), row("1.0.0"), row("1.0.0-rc.1")], keys=[], problems=[])
    monkeypatch.setattr(qt_model_manager, "list_bundles", lambda _settings: view)
    win = QtModelManager(settings)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=WAIT_MS)
    assert [version for version, _test, _active in _table(win)] == ["1.0.0-rc.1", "1.0.0", "1.10.0"]
    win.shutdown()


def test_change_history_of_the_selected_model(
    qtbot: QtBot, manager: QtModelManager, bundles: Bundles, answers: list[str]
) -> None:
    """Issue 16 item 4: each activation and roll-back is a signed change record, listed (newest
    first) under the model card, each verified."""
    history = manager.findChild(QTableWidget, "changeHistory")
    assert history.accessibleName()
    _install(qtbot, manager, bundles.v100)
    _install(qtbot, manager, bundles.v110)
    manager.select("test-cxr", "1.1.0")
    manager.findChild(QPushButton, "activateButton").click()
    _wait(qtbot, manager)
    qtbot.waitUntil(lambda: len(manager.history_rows()) == 2, timeout=WAIT_MS)
    shown = [
        [history.item(r, c).text() for c in range(history.columnCount())]
        for r in range(history.rowCount())
    ]
    assert shown[0][1] == "Activated 1.0.0 → 1.1.0" and shown[0][4] == "Verified"
    assert shown[1][1] == "Activated none → 1.0.0"
    assert shown[0][2] == "none" and shown[0][3]
    heading = manager.findChild(QLabel, "changeHistoryHeading")
    assert heading.text() == "Change records of test-cxr: 2"
