"""Settings dialog and first run, driven by object names (pytest-qt, offscreen)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QThreadPool
from PySide6.QtWidgets import QComboBox, QDialogButtonBox, QLabel, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from tests.waits import WAIT_MS
from viewer.config import Settings, load_settings
from viewer.ui.i18n import install_translator
from viewer.ui.qt_settings import QtSettingsDialog, needs_first_run


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    yield
    app = QCoreApplication.instance()
    if app is not None:
        install_translator(app, "en")
    assert QThreadPool.globalInstance().waitForDone(WAIT_MS), "a worker outlived its test"


def _dialog(qtbot: QtBot, settings: Settings, **kwargs: bool) -> QtSettingsDialog:
    dialog = QtSettingsDialog(settings, **kwargs)
    qtbot.addWidget(dialog)
    dialog.open()  # window-modal, does not block like exec()
    return dialog


def _save(dialog: QtSettingsDialog) -> None:
    button = dialog.findChild(QPushButton, "saveSettingsButton")
    assert button is not None and button.isEnabled()
    button.click()


def test_save_writes_user_file_and_updates_settings(
    qtbot: QtBot, settings: Settings, data_dir: Path
) -> None:
    dialog = _dialog(qtbot, settings)
    dialog.findChild(QLineEdit, "clinicianName").setText("Dr. Aiko Tanaka")
    role = dialog.findChild(QComboBox, "clinicianRole")
    role.setCurrentIndex(role.findData("Radiologist"))
    order = dialog.findChild(QComboBox, "readingOrder")
    order.setCurrentIndex(order.findData("read_first"))
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT_MS):
        _save(dialog)
    assert dialog.settings.values.user.name == "Dr. Aiko Tanaka"
    assert dialog.settings.values.user.role == "Radiologist"
    assert dialog.settings.values.reading.order == "read_first"
    reloaded = load_settings()  # what the next start sees
    assert reloaded.values.user.name == "Dr. Aiko Tanaka"
    assert reloaded.values.reading.order == "read_first"
    assert "read_first" in (data_dir / "settings.toml").read_text(encoding="utf-8")


def test_typed_role_is_kept_as_typed(qtbot: QtBot, settings: Settings) -> None:
    dialog = _dialog(qtbot, settings)
    dialog.findChild(QLineEdit, "clinicianName").setText("Dr. B")
    dialog.findChild(QComboBox, "clinicianRole").setEditText("Chest physician")
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT_MS):
        _save(dialog)
    assert dialog.settings.values.user.role == "Chest physician"


def test_data_dir_is_shown_read_only(qtbot: QtBot, settings: Settings, data_dir: Path) -> None:
    dialog = _dialog(qtbot, settings)
    label = dialog.findChild(QLabel, "dataDirLabel")
    assert isinstance(label, QLabel)  # a label: nothing to edit
    assert label.text() == str(data_dir)


def test_site_locked_keys_are_disabled_and_say_so(
    qtbot: QtBot, site_file: Path, data_dir: Path
) -> None:
    site_file.write_text(
        'locked = ["reading.order", "ui.language"]\n[reading]\norder = "read_first"\n',
        encoding="utf-8",
    )
    dialog = _dialog(qtbot, load_settings())
    order = dialog.findChild(QComboBox, "readingOrder")
    language = dialog.findChild(QComboBox, "languageCombo")
    name = dialog.findChild(QLineEdit, "clinicianName")
    assert not order.isEnabled() and not language.isEnabled()
    assert order.currentData() == "read_first"
    assert order.toolTip() == "Set by your site"
    note = dialog.findChild(QLabel, "reading_order_lock")
    assert not note.isHidden() and "Set by your site" in note.text()
    assert name.isEnabled()
    assert dialog.findChild(QLabel, "user_name_lock").isHidden()
    # Even if a locked editor's value were changed programmatically, it is not saved.
    order.setCurrentIndex(order.findData("ai_first"))
    name.setText("Dr. C")
    assert dialog.changes() == {"user.name": "Dr. C"}
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT_MS):
        _save(dialog)
    assert dialog.settings.values.reading.order == "read_first"
    assert "reading" not in (data_dir / "settings.toml").read_text(encoding="utf-8")


def test_save_error_is_shown_and_dialog_stays_open(
    qtbot: QtBot, settings: Settings, data_dir: Path
) -> None:
    (data_dir / "settings.toml").mkdir()  # the user file cannot be written
    dialog = _dialog(qtbot, settings)
    dialog.findChild(QLineEdit, "clinicianName").setText("Dr. D")
    _save(dialog)
    error = dialog.findChild(QLabel, "settingsError")
    assert not error.isHidden()
    assert error.text().startswith("Settings were not saved")
    assert dialog.isVisible()
    assert dialog.settings.values.user.name == ""


def test_needs_first_run(settings: Settings, site_file: Path) -> None:
    assert needs_first_run(settings)
    assert not needs_first_run(settings.with_user_values(user={"name": "Dr. E"}))
    site_file.write_text('locked = ["user.name"]\n', encoding="utf-8")
    assert not needs_first_run(load_settings())  # the user could not fix it anyway


def test_first_run_requires_a_name(qtbot: QtBot, settings: Settings) -> None:
    dialog = _dialog(qtbot, settings, first_run=True)
    save = dialog.findChild(QDialogButtonBox, "settingsButtons").button(
        QDialogButtonBox.StandardButton.Save
    )
    assert dialog.findChild(QLabel, "firstRunIntro").isVisibleTo(dialog)
    assert not save.isEnabled()
    dialog.findChild(QLineEdit, "clinicianName").setText("  ")
    assert not save.isEnabled()
    dialog.findChild(QLineEdit, "clinicianName").setText("Dr. F")
    assert save.isEnabled()
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT_MS):
        save.click()
    assert not needs_first_run(dialog.settings)


def test_widgets_have_accessible_names(qtbot: QtBot, settings: Settings) -> None:
    dialog = _dialog(qtbot, settings)
    for name in ("clinicianName", "clinicianRole", "readingOrder", "languageCombo", "dataDirLabel"):
        widget = dialog.findChild(QWidget, name)
        assert widget is not None, name
        assert widget.accessibleName(), name


def test_ask_first_run_only_when_needed(
    qtbot: QtBot, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QDialog

    from viewer.ui import qt_settings

    shown: list[QtSettingsDialog] = []

    def fake_exec(dialog: QtSettingsDialog) -> int:  # the clinician types a name and saves
        shown.append(dialog)
        dialog.findChild(QLineEdit, "clinicianName").setText("Dr. G")
        dialog.findChild(QPushButton, "saveSettingsButton").click()
        return int(dialog.result())

    monkeypatch.setattr(QtSettingsDialog, "exec", fake_exec)
    new = qt_settings.ask_first_run(settings)
    assert len(shown) == 1 and shown[0].windowTitle() == "Welcome to Bedside"
    assert shown[0].result() == QDialog.DialogCode.Accepted
    assert new.values.user.name == "Dr. G"
    assert qt_settings.ask_first_run(new) is new  # named now: no dialog
    assert len(shown) == 1
