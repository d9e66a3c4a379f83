"""Comparison window: what ``bedside model compare`` prints, from the same session function,
opened from the model manager, with the statement about the reference standard."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QComboBox, QLabel, QPlainTextEdit, QPushButton
from pytestqt.qtbot import QtBot

from tests.cli.test_shadow import decide_all, shadow_scored, shadowed, two_versions
from tests.inference.conftest import make_bundle, site_key
from tests.waits import WAIT_MS
from viewer.cli.main import main
from viewer.config import Settings
from viewer.ui.qt_comparison import QtComparisonWindow

__all__ = [
    "make_bundle",
    "shadow_scored",
    "shadowed",
    "site_key",
    "two_versions",
]  # fixtures imported for pytest


@pytest.fixture
def compared(
    shadow_scored: list[Any], settings: Settings, capsys: pytest.CaptureFixture[str]
) -> str:
    """A store with a shadow candidate that scored a decided folder; returns the command's
    text output."""
    decide_all(settings, shadow_scored)
    assert main(["model", "compare", "--candidate", "infer-test@1.1.0"]) == 0
    return capsys.readouterr().out


@pytest.fixture
def window(qtbot: QtBot, settings: Settings) -> Iterator[Any]:
    made: list[QtComparisonWindow] = []

    def make() -> QtComparisonWindow:
        win = QtComparisonWindow(settings)
        qtbot.addWidget(win)
        win.show()
        qtbot.waitUntil(lambda: not win.is_busy(), timeout=WAIT_MS)
        made.append(win)
        return win

    yield make
    for win in made:
        win.shutdown()
    assert QThreadPool.globalInstance().waitForDone(WAIT_MS), "a worker outlived its test"


def test_shows_what_the_command_prints(qtbot: QtBot, compared: str, window: Any) -> None:
    win = window()
    qtbot.waitUntil(lambda: win.report is not None and not win.is_busy(), timeout=WAIT_MS)
    candidate = win.findChild(QComboBox, "comparisonCandidate")
    assert candidate.currentData() == "infer-test@1.1.0"  # the shadow candidate first
    assert win.findChild(QComboBox, "comparisonAgainst").currentData() == "infer-test@1.0.0"
    text = win.findChild(QPlainTextEdit, "comparisonReport").toPlainText()
    assert text == compared.rstrip("\n")  # the same report as `bedside model compare`
    caveat = win.findChild(QLabel, "referenceCaveat").text()
    assert "errors of" in caveat and "their own" in caveat
    assert "Compared on 4 paired cases." in win.findChild(QLabel, "comparisonStatus").text()
    for name in ("comparisonCandidate", "comparisonAgainst", "compareButton"):
        widget = win.findChild(QComboBox, name) or win.findChild(QPushButton, name)
        assert widget is not None and widget.accessibleName()


def test_without_a_candidate_it_says_how_to_get_one(window: Any) -> None:
    win = window()
    assert "install one as shadow" in win.findChild(QLabel, "comparisonStatus").text()
    assert not win.findChild(QPushButton, "compareButton").isEnabled()


def test_opened_from_the_model_manager(qtbot: QtBot, settings: Settings) -> None:
    from viewer.ui.qt_model_manager import QtModelManager

    manager = QtModelManager(settings)
    qtbot.addWidget(manager)
    manager.show()
    qtbot.waitUntil(lambda: not manager.is_busy(), timeout=WAIT_MS)
    manager.findChild(QPushButton, "openComparisonButton").click()
    comparison = manager.findChild(QtComparisonWindow, "comparisonWindow")
    assert comparison is not None and comparison.isVisible()
    assert manager.show_comparison() is comparison  # one at a time
    qtbot.waitUntil(lambda: not comparison.is_busy(), timeout=WAIT_MS)
    comparison.close()
    manager.shutdown()
    assert QThreadPool.globalInstance().waitForDone(WAIT_MS), "a worker outlived its test"
