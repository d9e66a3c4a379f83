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
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import shots
from shots import start_app


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--lang", default="en")
    args = ap.parse_args()
    app, settings, data = start_app(args.lang)

    from PySide6.QtCore import QTimer

    from viewer.dicom.synthetic import make_cxr
    from viewer.ui.qt_main_window import QtMainWindow

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
    window = QtMainWindow(settings)
    window.setGeometry(0, 0, 1800, 1000)
    window.show()
    out = Path(args.out)
    view = window.view

    def drag(a: tuple[float, float], b: tuple[float, float]) -> None:
        shots.drag(view, a, b)

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
