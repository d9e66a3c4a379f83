"""Screenshots for issue 14 items 3 and 6 (run under Xvfb)::

    DISPLAY=:77 QT_QPA_PLATFORM=xcb .venv/bin/python bench/conventions_screenshots.py sheet \\
        --out docs/screenshots/shortcuts-sheet.png [--lang ja]
    DISPLAY=:77 QT_QPA_PLATFORM=xcb .venv/bin/python bench/conventions_screenshots.py small \\
        --out docs/screenshots/main-1280x720.png

``sheet`` captures Help > Keyboard shortcuts, ``settings`` the Settings dialog. ``small`` opens,
in a 1280 x 720 window with the demo model, a generated chest image whose header lacks View
Position, Body Part Examined and pixel spacing (so the AI panel carries several long input
warnings), waits for the result and captures the window as it is, then with the right column
scrolled to its end.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shots import start_app


def _blank_header_image(folder: Path) -> Path:
    from viewer.dicom.synthetic import make_cxr

    ds = make_cxr(5, opacity=True, size=(1024, 1024))
    ds.ViewPosition = ""
    ds.BodyPartExamined = ""
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        if keyword in ds:
            delattr(ds, keyword)
    path = folder / "no-view-no-body-part.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("sheet", "small", "settings"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--lang", default="en")
    args = ap.parse_args()
    app, settings, data = start_app(args.lang)

    from PySide6.QtCore import QTimer

    from viewer.ui.qt_main_window import QtMainWindow

    window = QtMainWindow(settings)
    out = Path(args.out)

    def done() -> None:
        window.close()
        app.quit()

    if args.what == "settings":
        from viewer.ui.qt_settings import QtSettingsDialog

        dialog = QtSettingsDialog(settings)
        dialog.show()

        def grab_settings() -> None:
            app.processEvents()
            dialog.grab().save(str(out))
            print("wrote", out)
            dialog.close()
            done()

        QTimer.singleShot(600, grab_settings)
    elif args.what == "sheet":
        window.setGeometry(0, 0, 1280, 720)
        window.show()

        def sheet() -> None:
            page = window.show_shortcuts()
            page.move(0, 0)

            def grab() -> None:
                app.processEvents()
                page.grab().save(str(out))
                print("wrote", out)
                done()

            QTimer.singleShot(600, grab)

        QTimer.singleShot(300, sheet)
    else:
        window.setGeometry(0, 0, 1280, 720)
        window.show()
        path = _blank_header_image(data)

        def on_result(_pred: object) -> None:
            def grab() -> None:
                app.processEvents()
                window.grab().save(str(out))
                print("wrote", out)
                bar = window.right_scroll.verticalScrollBar()
                bar.setValue(bar.maximum())
                app.processEvents()
                end = out.with_name(out.stem + "-scrolled" + out.suffix)
                window.grab().save(str(end))
                print("wrote", end)
                done()

            QTimer.singleShot(1500, grab)

        window.prediction_shown.connect(on_result)

        def no_result() -> None:
            print("no AI result:", window.ai_panel.state(), window.ai_panel.state_label.text())
            on_result(None)

        window.image_shown.connect(lambda _p: QTimer.singleShot(30000, no_result))
        QTimer.singleShot(0, lambda: window.start([path]))
    app.exec()
    window.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
