"""Screenshots for issue 14 item 7 (run under Xvfb)::

    DISPLAY=:77 QT_QPA_PLATFORM=xcb .venv/bin/python bench/export_screenshots.py \\
        --dialog docs/screenshots/export-dialog.png --example docs/screenshots/export-example.png \\
        [--lang ja]

Opens a generated chest image whose header names a (made-up) patient, draws a measurement,
captures the window with File > Export view as PNG…'s dialog over it (``--dialog``), and writes
the de-identified export with overlays exactly as the menu would (``--example``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shots import start_app


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dialog", required=True)
    ap.add_argument("--example", required=True)
    ap.add_argument("--lang", default="en")
    args = ap.parse_args()
    app, settings, data = start_app(args.lang, demo=False)

    from PySide6.QtCore import QPoint, QTimer
    from PySide6.QtGui import QPainter

    from viewer.dicom.synthetic import make_cxr
    from viewer.session.export import ExportChoice
    from viewer.ui.qt_export import QtExportDialog
    from viewer.ui.qt_main_window import QtMainWindow

    ds = make_cxr(5, opacity=True, size=(1024, 1024))
    ds.PatientName = "DOE^JANE"
    ds.PatientID = "PID-000123"
    path = data / "named.dcm"
    ds.save_as(path, enforce_file_format=True)

    window = QtMainWindow(settings)
    window.setGeometry(0, 0, 1400, 900)
    window.show()

    def shoot() -> None:
        if window.view.image is None or not window.view.render_idle():
            QTimer.singleShot(200, shoot)
            return
        window.view.set_measurement((300.0, 420.0), (720.0, 430.0))
        app.processEvents()
        dialog = QtExportDialog(window, target="png")
        dialog.show()
        app.processEvents()
        shot = window.grab()
        painter = QPainter(shot)
        at = QPoint((shot.width() - dialog.width()) // 2, (shot.height() - dialog.height()) // 3)
        painter.drawPixmap(at, dialog.grab())
        painter.end()
        shot.save(args.dialog)
        print("wrote", args.dialog)
        dialog.close()
        print("wrote", window.export_view(Path(args.example), ExportChoice()))
        window.close()
        app.quit()

    QTimer.singleShot(0, lambda: window.start([path]))
    QTimer.singleShot(500, shoot)
    app.exec()
    window.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
