"""Screenshot of the annotation tools, issue 14 item 2 (run under Xvfb)::

    DISPLAY=:77 QT_QPA_PLATFORM=xcb .venv/bin/python bench/annotation_screenshots.py \\
        --out docs/screenshots/annotations.png [--lang ja]

Opens a generated 1024 x 1024 chest image (viewer.dicom.synthetic, 0.2 mm Pixel Spacing) with the
demo model, waits for the AI result, then draws a distance, an angle, an ellipse ROI and a
cardiothoracic ratio with the real mouse path (QTest events on the image view, the tools chosen
from their actions) and captures the window.
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

    from PySide6.QtCore import QPoint, Qt, QTimer
    from PySide6.QtTest import QTest

    from viewer.dicom.synthetic import make_cxr
    from viewer.ui.qt_main_window import QtMainWindow

    path = data / "chest.dcm"
    make_cxr(3, opacity=True, size=(1024, 1024)).save_as(path, enforce_file_format=True)
    window = QtMainWindow(settings)
    window.setGeometry(0, 0, 1600, 1000)
    window.show()
    out = Path(args.out)
    view = window.view
    left = Qt.MouseButton.LeftButton
    none = Qt.KeyboardModifier.NoModifier

    def at(x: float, y: float) -> QPoint:
        return view.to_widget(x, y).toPoint()

    def drag(a: tuple[float, float], b: tuple[float, float]) -> None:
        shots.drag(view, a, b)

    def draw() -> None:
        tools = window.annotation_tools
        tools["distance"].trigger()
        drag((150, 260), (420, 260))
        tools["angle"].trigger()
        drag((120, 560), (160, 760))
        QTest.mouseClick(view, left, none, at(330, 700))
        tools["ellipse"].trigger()
        drag((640, 300), (800, 480))
        tools["ctr"].trigger()
        drag((380, 640), (690, 640))
        drag((95, 760), (935, 760))
        window.act_pan.trigger()
        view.annotations.selected = None
        view.update()

    def on_result(_pred: object) -> None:
        draw()

        def grab() -> None:
            app.processEvents()
            window.grab().save(str(out))
            print("wrote", out)
            window.close()
            app.quit()

        QTimer.singleShot(1200, grab)

    window.prediction_shown.connect(on_result)
    QTimer.singleShot(0, lambda: window.start([path]))
    app.exec()
    window.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
