"""What the screenshot scripts share (run under Xvfb, ``QT_QPA_PLATFORM=xcb``).

:func:`start_app` makes a throwaway data folder, settings naming the demo reader in the chosen
language, and the QApplication with its translator; :func:`drag` moves the real mouse path
(press, half way, end, release) over an image view in image coordinates; :func:`sample_args`
and :func:`wait_until` are the options and the wait of the scripts that open the real sample.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

READER = {"user.name": "Dr Demo Reader", "user.role": "Radiologist"}


def start_app(lang: str, *, demo: bool = True) -> tuple[Any, Any, Path]:
    """``(app, settings, data folder)``; the environment is set before Qt is imported."""
    data = Path(tempfile.mkdtemp(prefix="bedside-shot-"))
    os.environ.setdefault("BEDSIDE_DATA_DIR", str(data))
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    from PySide6.QtWidgets import QApplication

    from viewer.config import load_settings, save_user_settings
    from viewer.ui.i18n import install_translator

    settings = save_user_settings(load_settings(demo=demo), {**READER, "ui.language": lang})
    app = QApplication(sys.argv[:1])
    install_translator(app, lang)
    return app, settings, data


def drag(view: Any, a: tuple[float, float], b: tuple[float, float]) -> None:
    """A left-button drag from ``a`` to ``b`` (image pixels) on ``view``."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier

    def at(x: float, y: float) -> Any:
        return view.to_widget(x, y).toPoint()

    QTest.mousePress(view, left, none, at(*a))
    QTest.mouseMove(view, at((a[0] + b[0]) / 2, (a[1] + b[1]) / 2))
    QTest.mouseMove(view, at(*b))
    QTest.mouseRelease(view, left, none, at(*b))


def sample_args(sample: Path, out: Path) -> argparse.Namespace:
    """``--lang`` (en), ``--sample`` (the real X-ray) and ``--out`` (docs/screenshots)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--lang", default="en")
    ap.add_argument("--sample", type=Path, default=sample)
    ap.add_argument("--out", type=Path, default=out)
    return ap.parse_args()


def wait_until(app: Any, done: Callable[[], bool], timeout_s: float = 120.0) -> None:
    """Run ``app``'s events until ``done()``; a window that never gets there ends the script."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the window")
        app.processEvents()
        time.sleep(0.02)
