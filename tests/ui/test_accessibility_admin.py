"""Every interactive widget of the model manager, audit window and settings dialog has an object
name (tests and automation find it) and an accessible name (screen readers announce it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from tests.waits import WAIT_MS
from viewer.config import Settings
from viewer.ui.qt_audit_window import QtAuditWindow
from viewer.ui.qt_model_manager import QtModelManager
from viewer.ui.qt_settings import QtSettingsDialog

INTERACTIVE = (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QTextEdit,
)
# Qt's own parts of a compound widget (a combo box's line edit, a view's scroll bars ...).
COMPOUND = (QComboBox, QAbstractSpinBox, QAbstractItemView, QLineEdit, QTextEdit, QPlainTextEdit)


def _unnamed(window: QWidget) -> list[str]:
    out = []
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, INTERACTIVE):
            continue
        parent = widget.parentWidget()
        inner = False
        while parent is not None and parent is not window:
            if isinstance(parent, COMPOUND):
                inner = True
                break
            parent = parent.parentWidget()
        if inner:
            continue
        if not widget.objectName() or not widget.accessibleName():
            text = widget.text() if hasattr(widget, "text") else ""
            out.append(f"{type(widget).__name__} {widget.objectName()!r} {text!r}")
    return out


@pytest.fixture(autouse=True)
def _no_leaks() -> Iterator[None]:
    yield
    assert QThreadPool.globalInstance().waitForDone(WAIT_MS), "a worker outlived its test"


@pytest.mark.parametrize(
    "factory",
    [QtModelManager, QtAuditWindow, QtSettingsDialog],
    ids=["model-manager", "audit-window", "settings"],
)
def test_every_interactive_widget_is_named(
    qtbot: QtBot, settings: Settings, factory: Callable[[Settings], QWidget]
) -> None:
    window = factory(settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not getattr(window, "is_busy", lambda: False)(), timeout=WAIT_MS)
    assert _unnamed(window) == []
    if hasattr(window, "shutdown"):
        window.shutdown()
