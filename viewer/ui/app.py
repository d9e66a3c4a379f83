"""Start the GUI: ``bedside gui|open|demo`` call :func:`run_gui`.

Why the order matters: ``import torch`` takes 1.3-3 s on the reference machine, so nothing slow
runs on the GUI thread: the window is shown first and the model bundle, the demo study and
decoding start from the event loop in workers (DESIGN.md "Facts measured"). torch itself is
already importing by then, in the prewarm thread the command started before Qt
(``viewer.session.prewarm``, issue 19); the first model job waits for it. Nothing torch-related
is imported here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from viewer.config import Settings
from viewer.errors import BedsideError
from viewer.ui.workers import launch_mark, tune_interpreter

if TYPE_CHECKING:
    from PySide6.QtCore import QCoreApplication

    from viewer.session.prewarm import Prewarm
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


# GUI smoke test of an installed package (packaging/deb_check.sh, docs/it-guide.md): with
# BEDSIDE_UI_SMOKE=confirm the window clicks Confirm on the first AI result it shows and quits with
# status 0 once the decision is committed (3: the model was refused, 4: no saved decision within
# SMOKE_LIMIT_MS, 5: the image is not a synthetic one). It confirms only an image Bedside itself
# generated (`bedside demo-data`, a synthetic UID root): never a patient's reading.
SMOKE_ENV = "BEDSIDE_UI_SMOKE"
SMOKE_LIMIT_MS = 120_000


def _smoke(app: QCoreApplication, window: QtMainWindowType) -> None:
    from PySide6.QtCore import QTimer

    from viewer.dicom.synthetic import is_synthetic_uid

    def fail(code: int, why: str) -> None:
        print(f"bedside: GUI smoke test failed: {why}", file=sys.stderr)
        app.exit(code)

    def confirm() -> None:
        session = window.current
        meta = session.meta if session is not None else None
        if meta is None or not is_synthetic_uid(meta.sop_instance_uid):
            fail(5, "the image shown is not one `bedside demo-data` wrote; nothing was decided")
            return
        window.decision.confirm.click()

    window.prediction_shown.connect(lambda _p: QTimer.singleShot(0, confirm))
    window.decision_saved.connect(lambda _r: QTimer.singleShot(0, lambda: app.exit(0)))
    window.model_ready.connect(
        lambda loaded: fail(3, "the model was refused") if loaded is None else None
    )
    QTimer.singleShot(SMOKE_LIMIT_MS, lambda: fail(4, "no decision was saved in time"))


def _launch_stall_probe(window: QtMainWindowType) -> None:
    """``BEDSIDE_UI_TIMING``: the longest gap between ticks of a 5 ms timer on the GUI thread
    from the window shown to the first AI result, on stderr (``BEDSIDE_STALL``). Why: torch's
    import runs in another thread meanwhile and holds the GIL in bursts (a C extension's
    initialisation is one call); bench/bench_frozen_launch.py reports what the reader feels."""
    import time
    from itertools import pairwise

    from PySide6.QtCore import Qt, QTimer

    timer = QTimer(window)
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(5)
    ticks: list[float] = []
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))

    def report(_pred: object) -> None:
        if not timer.isActive():
            return
        timer.stop()
        gaps = sorted(b - a for a, b in pairwise(ticks)) or [0.0]
        print(f"BEDSIDE_STALL {gaps[-1] * 1000:.1f} {len(gaps)}", file=sys.stderr, flush=True)

    window.prediction_shown.connect(report)
    QTimer.singleShot(0, timer.start)


def run_gui(
    settings: Settings, *, paths: list[Path], demo_study: bool, prewarm: Prewarm | None = None
) -> int:
    """Show the main window, then load the model and open ``paths`` (or the demo study).

    ``prewarm``: torch and the model modules, importing since the process started
    (:func:`viewer.session.prewarm.start_prewarm`); the first model job waits for it."""
    smoke = os.environ.get(SMOKE_ENV, "")
    if smoke and smoke != "confirm":
        raise BedsideError(
            f"{SMOKE_ENV} is for the GUI smoke test only; its one value is 'confirm' (it "
            "confirms the first AI result on a `bedside demo-data` image by itself)."
        )
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from viewer.ui.qt_main_window import QtMainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Bedside")
    app.setOrganizationName("Bedside")
    _install_translator(app, settings.values.ui.language)
    window = QtMainWindow(settings, prewarm=prewarm)
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
        if not (settings.demo or smoke or os.environ.get("BEDSIDE_UI_EXIT_AFTER_RESULT")):
            QTimer.singleShot(0, lambda: _first_run(window))

    QTimer.singleShot(0, started)
    if os.environ.get("BEDSIDE_UI_TIMING"):
        _launch_stall_probe(window)
    if os.environ.get("BEDSIDE_UI_EXIT_AFTER_RESULT"):
        # Benchmarks: quit once the first AI result is on screen (or the model was refused).
        window.prediction_shown.connect(lambda _p: QTimer.singleShot(0, window.close))
        window.model_ready.connect(
            lambda loaded: QTimer.singleShot(0, window.close) if loaded is None else None
        )
    if smoke:
        _smoke(app, window)
    code = app.exec()
    window.shutdown()
    return int(code)
