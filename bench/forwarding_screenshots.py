"""Screenshot of the audit forwarding status in the main window's status bar (issue 18), for
docs/screenshots (run under Xvfb).

    DISPLAY=:77 QT_QPA_PLATFORM=xcb .venv/bin/python bench/forwarding_screenshots.py --lang en
    DISPLAY=:77 QT_QPA_PLATFORM=xcb .venv/bin/python bench/forwarding_screenshots.py --lang ja

The site turns on the department audit store and the ATNA repository, both on loopback ports
nobody listens on (a store and a repository that are down: the real forwarders fail to connect,
for real). The real chest X-ray (``../shared/samples/nih-cxr14-dx-pa.dcm``) is opened in a real
main window at 1440 x 810; once both lines say the rows wait, the central line's tooltip is shown
and the window is saved as ``audit-forwarding-status[-ja].png``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "samples" / "nih-cxr14-dx-pa.dcm"
OUT = ROOT / "docs" / "screenshots"
SIZE = (1440, 810)


def _site(work: Path) -> Path:
    """Both destinations on, both down; the repository's CA is a real one made here."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.servers import certificate, free_port

    key = ec.generate_private_key(ec.SECP256R1())
    ca = work / "atna-ca.pem"
    ca.write_bytes(
        certificate("Hospital audit CA", key, None, ca=True).public_bytes(
            serialization.Encoding.PEM
        )
    )
    site = work / "site.toml"
    site.write_text(
        '[audit_central]\nenabled = true\nhost = "127.0.0.1"\n'
        f'port = {free_port()}\nsslmode = "disable"\nconnect_timeout_s = 2\n'
        f'workstation = "ward-3"\n'
        '[atna]\nenabled = true\nhost = "127.0.0.1"\n'
        f'port = {free_port()}\nca_file = "{ca}"\nconnect_timeout_s = 2\n',
        encoding="utf-8",
    )
    return site


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from bench.shots import sample_args

    args = sample_args(SAMPLE, OUT)
    work = Path(tempfile.mkdtemp(prefix="bedside-forwarding-shot-"))
    os.environ["BEDSIDE_SITE_CONFIG"] = str(_site(work))
    from bench.shots import start_app, wait_until

    app, settings, _data = start_app(args.lang, demo=False)
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QLabel, QToolTip

    from viewer.ui.qt_main_window import QtMainWindow

    def wait(done: Callable[[], bool], timeout_s: float = 120.0) -> None:
        wait_until(app, done, timeout_s)

    window = QtMainWindow(settings)
    window.setGeometry(0, 0, *SIZE)
    window.show()
    window.start([args.sample])
    wait(lambda: window.view.image is not None)
    labels = [
        window.findChild(QLabel, name)
        for name in ("forwardingStatusCentral", "forwardingStatusAtna")
    ]

    def failing() -> bool:
        window.forwarding.refresh()
        for _ in range(10):
            app.processEvents()
            time.sleep(0.05)
        return (
            all(
                label is not None and label.isVisible() and s.kind == "failing"
                for label, s in zip(labels, window.forwarding.states, strict=False)
            )
            and len(window.forwarding.states) == 2
        )

    wait(failing, 90)
    wait(lambda: window.ai_panel.state() in ("refused", "result", "no_model", "error"), 60)
    central = labels[0]
    assert central is not None
    # the central line's tooltip, lifted above the status bar (Qt puts it below the cursor,
    # which at the bottom of the window is outside the picture)
    QToolTip.showText(central.mapToGlobal(QPoint(24, 4)), central.toolTip(), central)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    tips = [w for w in app.topLevelWidgets() if w.inherits("QTipLabel") and w.isVisible()]
    if not tips:
        raise SystemExit("the tooltip did not show")
    top = central.mapToGlobal(QPoint(0, 0))
    tips[0].move(top.x() + 8, top.y() - tips[0].height() - 6)
    for _ in range(30):
        app.processEvents()
        time.sleep(0.02)
    suffix = "" if args.lang == "en" else f"-{args.lang}"
    path = args.out / f"audit-forwarding-status{suffix}.png"
    app.primaryScreen().grabWindow(0).copy(0, 0, *SIZE).save(str(path))
    print("wrote", path)
    window.close()
    window.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
