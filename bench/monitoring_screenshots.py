"""Screenshots of the Monitoring window and the first page of its PDF for docs/screenshots.

    Xvfb :77 -screen 0 1920x1080x24 &
    DISPLAY=:77 QT_QPA_PLATFORM=xcb .venv/bin/python bench/monitoring_screenshots.py \\
        --out docs/screenshots/monitoring-window.png --pdf docs/screenshots/monitor-report-page1.png
    DISPLAY=:77 QT_QPA_PLATFORM=xcb .venv/bin/python bench/monitoring_screenshots.py \\
        --lang ja --out docs/screenshots/monitoring-window-ja.png

A simulated site (tests/monitoring: 1,200 cases over 90 days, then 600 cases in the last 30 days
whose Effusion scores are 0.1 higher and 30 % of which come from a new manufacturer) is written
into a fresh audit log; the window reads it through the same MonitoringSource as the command,
with the simulated reference profile standing in for a bundle's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--lang", default="en")
    ap.add_argument("--pdf", help="also write the report's first page as this PNG (pdftoppm)")
    args = ap.parse_args()
    os.environ.setdefault("BEDSIDE_DATA_DIR", tempfile.mkdtemp(prefix="bedside-monitor-shot-"))
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    sys.path.insert(0, str(ROOT))

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from tests.monitoring.audit_rows import write_log
    from tests.monitoring.simulate import Drift, make_profile, simulate
    from viewer.config import load_settings, save_user_settings
    from viewer.session.monitoring_view import MonitoringSource, write_report
    from viewer.ui.i18n import install_translator
    from viewer.ui.qt_monitoring import QtMonitoringWindow

    settings = save_user_settings(load_settings(), {"ui.language": args.lang})
    profile = make_profile()
    drift = Drift(score_shift={"effusion": 0.1}, new_manufacturer=0.3)
    write_log(settings, simulate(profile, seed=5, baseline=1200, window=600, drift=drift))
    app = QApplication(sys.argv[:1])
    install_translator(app, args.lang)
    source = MonitoringSource(settings, references={("sim-cxr", "1.0.0"): profile})
    window = QtMonitoringWindow(source)
    window.setGeometry(0, 0, 1600, 1040)
    window.show()

    def capture() -> None:
        if window.is_busy() or window.view() is None:
            QTimer.singleShot(200, capture)
            return
        app.processEvents()
        window.grab().save(args.out)
        print("wrote", args.out)
        view = window.view()
        if args.pdf and view is not None:
            with tempfile.TemporaryDirectory() as tmp:
                pdf = write_report(
                    view.report, "pdf", Path(tmp) / "m.pdf", settings=settings, overwrite=True
                )
                tool = shutil.which("pdftoppm") or "pdftoppm"
                stem = Path(tmp) / "page"
                cmd = [tool, "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile"]
                subprocess.run([*cmd, str(pdf), str(stem)], check=True)
                shutil.copyfile(f"{stem}.png", args.pdf)
            print("wrote", args.pdf)
        window.close()
        app.quit()

    QTimer.singleShot(500, capture)
    app.exec()
    window.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
