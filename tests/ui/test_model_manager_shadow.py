"""Model manager: "Install as shadow…" and "Stop shadow" (confirmed, audited, by object name)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPushButton, QTableWidget
from pytestqt.qtbot import QtBot

from tests.ui.test_model_manager import (
    Bundles,
    _events,
    _install,
    _table,
    _wait,
    answers,
    bundles,
    it_settings,
    manager,
)
from viewer.config import Settings
from viewer.ui.qt_model_manager import QtModelManager

__all__ = ["answers", "bundles", "it_settings", "manager"]  # fixtures imported for pytest


def test_install_as_shadow_then_stop(
    qtbot: QtBot,
    manager: QtModelManager,
    bundles: Bundles,
    it_settings: Settings,
    answers: list[str],
) -> None:
    _install(qtbot, manager, bundles.v100)
    changed: list[bool] = []
    manager.store_changed.connect(lambda: changed.append(True))
    manager.install(bundles.v110, shadow=True)
    _wait(qtbot, manager)
    assert "shadow candidate" in answers[-1] and "never shown" in answers[-1]
    assert _table(manager) == [
        ("1.0.0", "Passed at install", "Active"),
        ("1.1.0", "Passed at install", "Shadow"),
    ]
    status = manager.findChild(QLabel, "modelStatus").text()
    assert "shadow candidate" in status and "never shown" in status
    assert changed  # the window reloads its model and with it the candidate
    table = manager.findChild(QTableWidget, "modelTable")
    assert "never shown" in table.item(1, 5).toolTip()
    stop = manager.findChild(QPushButton, "stopShadowButton")
    assert manager.select("test-cxr", "1.0.0") and not stop.isEnabled()
    assert manager.select("test-cxr", "1.1.0") and stop.isEnabled()
    stop.click()
    _wait(qtbot, manager)
    assert _table(manager) == [
        ("1.0.0", "Passed at install", "Active"),
        ("1.1.0", "Passed at install", ""),
    ]
    assert "Shadow scoring of test-cxr 1.1.0 stopped." in (
        manager.findChild(QLabel, "modelStatus").text()
    )
    events = _events(it_settings)
    assert ("shadow_started", "success", "1.1.0") in events
    assert ("shadow_stopped", "success", "1.1.0") in events


def test_install_as_shadow_needs_an_active_version(
    qtbot: QtBot, manager: QtModelManager, bundles: Bundles, answers: list[str]
) -> None:
    button = manager.findChild(QPushButton, "installShadowButton")
    assert button.isEnabled() and button.accessibleName()
    manager.install(bundles.v100, shadow=True)
    _wait(qtbot, manager)
    assert "no active version" in manager.findChild(QLabel, "modelStatus").text()
    assert _table(manager) == []
