"""Start the GUI: ``bedside gui|open|demo`` call :func:`run_gui`.

Why the order matters: ``import torch`` takes 2-3 s on the reference machine, so the window is
shown first and everything slow (the model bundle with torch, the demo study, decoding) starts from
the event loop in workers (DESIGN.md "Facts measured"). Nothing torch-related is imported here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from viewer.config import Settings
from viewer.ui.workers import launch_mark, tune_interpreter

if TYPE_CHECKING:
    from PySide6.QtCore import QCoreApplication

    from viewer.ui.qt_main_window import QtMainWindow as QtMainWindowType


def _install_translator(app: QCoreApplication, language: str) -> None:
    from viewer.ui.i18n import install_translator  # QtCore only; after the window is cheap

    install_translator(app, language)


def _first_run(window: QtMainWindowType) -> None:
    """No clinician name yet: ask once (the settings dialog's first-run mode), while the model
    loads behind it. Demo mode skips this (its data dir is thrown away)."""
    try:
        from viewer.ui.qt_settings import ask_first_run
    except ImportError:
        return
    new = ask_first_run(window.settings, window)
    if new is not window.settings:
        window.apply_settings(new)


def run_gui(settings: Settings, *, paths: list[Path], demo_study: bool) -> int:
    """Show the main window, then load the model and open ``paths`` (or the demo study)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from viewer.ui.qt_main_window import QtMainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Bedside")
    app.setOrganizationName("Bedside")
    _install_translator(app, settings.values.ui.language)
    window = QtMainWindow(settings)
    screen = QApplication.primaryScreen()
    if screen is not None:  # never larger than the screen (laptops at the bedside)
        avail = screen.availableGeometry()
        window.resize(min(window.width(), avail.width()), min(window.height(), avail.height()))
    tune_interpreter()
    window.prediction_shown.connect(lambda _p: launch_mark("first_result"))
    window.show()

    def started() -> None:
        launch_mark("window_shown")  # first event-loop turn: the window has been shown and painted
        window.start(list(paths), demo_study=demo_study)
        if not settings.demo and not os.environ.get("BEDSIDE_UI_EXIT_AFTER_RESULT"):
            QTimer.singleShot(0, lambda: _first_run(window))

    QTimer.singleShot(0, started)
    if os.environ.get("BEDSIDE_UI_EXIT_AFTER_RESULT"):
        # Benchmarks: quit once the first AI result is on screen (or the model was refused).
        window.prediction_shown.connect(lambda _p: QTimer.singleShot(0, window.close))
        window.model_ready.connect(
            lambda loaded: QTimer.singleShot(0, window.close) if loaded is None else None
        )
    code = app.exec()
    window.shutdown()
    return int(code)
