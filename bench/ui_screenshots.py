"""Screenshots of the reading window for docs/screenshots (run under Xvfb, see below).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python bench/ui_screenshots.py \\
        --out docs/screenshots/main-cr.png --heatmap ../shared/samples/wg04-rg1-cr-mono1-j2k.dcm

Opens the files in a real main window in demo mode, waits for the AI result (and the heatmap with
``--heatmap``), then captures the X screen with ImageMagick's ``import -window root``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--out", required=True)
    ap.add_argument("--heatmap", action="store_true")
    ap.add_argument("--lang", default="en")
    ap.add_argument("--demo-study", action="store_true")
    ap.add_argument("--read-first", action="store_true")
    ap.add_argument(
        "--refused", action="store_true", help="the image is refused: capture once it is shown"
    )
    ap.add_argument("--override", default="", help="override with this reason, then capture")
    ap.add_argument("--window-menu", action="store_true", help="open the Window: menu first")
    ap.add_argument("--name", default="Dr Demo Reader")
    ap.add_argument("--role", default="Radiologist")
    args = ap.parse_args()
    os.environ.setdefault("BEDSIDE_DATA_DIR", tempfile.mkdtemp(prefix="bedside-shot-"))
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from viewer.config import load_settings, save_user_settings
    from viewer.ui.i18n import install_translator
    from viewer.ui.qt_main_window import QtMainWindow

    settings = load_settings(demo=True)
    updates = {"user.name": args.name, "user.role": args.role, "ui.language": args.lang}
    if args.read_first:
        updates["reading.order"] = "read_first"
    settings = save_user_settings(settings, updates)
    app = QApplication(sys.argv[:1])
    install_translator(app, args.lang)
    window = QtMainWindow(settings)
    window.setGeometry(0, 0, 1600, 1000)
    window.show()

    def capture() -> None:
        if args.window_menu and not window.presets.view().isVisible():
            window.presets.showPopup()
            QTimer.singleShot(600, capture)
            return
        app.processEvents()
        tool = shutil.which("import")
        if tool:
            subprocess.run([tool, "-window", "root", args.out], check=True)
        else:
            window.grab().save(args.out)
        print("wrote", args.out)
        window.close()

    def on_result(_pred: object) -> None:
        if args.override:
            window.decision.reason.setEditText(args.override)
            window.decision.override.click()
        if args.heatmap:
            window.ai_panel.heatmap_toggle.setChecked(True)
            window.ai_panel.heatmap_opacity.setValue(45)
            poll.timeout.connect(
                lambda: (
                    (poll.stop(), QTimer.singleShot(800, capture))
                    if window.view.has_heatmap() and window.view.render_idle()
                    else None
                )
            )
            poll.start(100)
        else:
            QTimer.singleShot(1500, capture)

    poll = QTimer()

    window.prediction_shown.connect(on_result)
    if args.read_first or args.refused:
        window.image_shown.connect(lambda _p: QTimer.singleShot(4000, capture))
    window.model_ready.connect(lambda m: QTimer.singleShot(3000, capture) if m is None else None)
    QTimer.singleShot(
        0,
        lambda: window.start([Path(p) for p in args.paths], demo_study=args.demo_study),
    )
    app.exec()
    window.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
