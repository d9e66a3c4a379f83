"""Screenshot of a 1x2 comparison, issue 14 item 1 (run under Xvfb)::

    DISPLAY=:77 QT_QPA_PLATFORM=xcb .venv/bin/python bench/comparison_screenshots.py \\
        --out docs/screenshots/comparison-1x2.png [--lang ja]

Writes two generated 1024 x 1024 chest studies of one patient (viewer.dicom.synthetic, the current
dated 2026-03-01 with an opacity, the prior 2025-01-15 without), opens the folder with the demo
model, shows the current image, waits for the AI result, draws a distance and an ellipse ROI on it
with the real mouse path, opens the prior (its action, as Shift+P does) and captures the window.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--lang", default="en")
    args = ap.parse_args()
    data = Path(tempfile.mkdtemp(prefix="bedside-shot-"))
    os.environ.setdefault("BEDSIDE_DATA_DIR", str(data))
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

    from PySide6.QtCore import QPoint, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from viewer.config import load_settings, save_user_settings
    from viewer.dicom.synthetic import make_cxr
    from viewer.ui.i18n import install_translator
    from viewer.ui.qt_main_window import QtMainWindow

    settings = load_settings(demo=True)
    settings = save_user_settings(
        settings,
        {"user.name": "Dr Demo Reader", "user.role": "Radiologist", "ui.language": args.lang},
    )
    folder = data / "cd"
    folder.mkdir()
    current = folder / "current.dcm"
    for seed, opacity, date, path in (
        (3, True, "20260301", current),
        (5, False, "20250115", folder / "prior.dcm"),
    ):
        ds = make_cxr(seed, opacity=opacity, size=(1024, 1024), patient_index=2)
        ds.StudyDate = date
        ds.save_as(path, enforce_file_format=True)
    app = QApplication(sys.argv[:1])
    install_translator(app, args.lang)
    window = QtMainWindow(settings)
    window.setGeometry(0, 0, 1800, 1000)
    window.show()
    out = Path(args.out)
    view = window.view
    left = Qt.MouseButton.LeftButton
    none = Qt.KeyboardModifier.NoModifier

    def at(x: float, y: float) -> QPoint:
        return view.to_widget(x, y).toPoint()

    def drag(a: tuple[float, float], b: tuple[float, float]) -> None:
        QTest.mousePress(view, left, none, at(*a))
        QTest.mouseMove(view, at((a[0] + b[0]) / 2, (a[1] + b[1]) / 2))
        QTest.mouseMove(view, at(*b))
        QTest.mouseRelease(view, left, none, at(*b))

    def draw() -> None:
        tools = window.annotation_tools
        tools["distance"].trigger()
        drag((150, 260), (420, 260))
        tools["ellipse"].trigger()
        drag((640, 300), (800, 480))
        window.act_pan.trigger()
        view.annotations.selected = None
        view.update()

    def grab() -> None:
        app.processEvents()
        window.grab().save(str(out))
        print("wrote", out)
        window.close()
        app.quit()

    def on_result(_pred: object) -> None:
        window.prediction_shown.disconnect(on_result)
        window.act_prior.trigger()  # 1x2 first, so the annotations are drawn at its size
        QTimer.singleShot(800, draw)
        QTimer.singleShot(2500, grab)

    def scanned(_metas: object) -> None:
        window.open_image(str(current))

    window.prediction_shown.connect(on_result)
    window.browser.scan_finished.connect(scanned)
    QTimer.singleShot(0, lambda: window.start([folder]))
    app.exec()
    window.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
