"""Screenshots of PACS in the reading window for docs/screenshots (run under Xvfb).

    DISPLAY=:77 QT_QPA_PLATFORM=xcb .venv/bin/python bench/pacs_screenshots.py --lang en
    DISPLAY=:77 QT_QPA_PLATFORM=xcb .venv/bin/python bench/pacs_screenshots.py --lang ja

Starts a real Orthanc (tests/pacs/orthanc.py) in a throwaway folder, uploads the real chest X-ray
(``../shared/samples/nih-cxr14-dx-pa.dcm``) to it, and drives a real main window at 1280 x 720:

1. a decision on a demo image sent to Orthanc: ``pacs-sent[-ja].png`` (the demo model refuses
   real X-rays, so the decision is on its own synthetic image);
2. Orthanc stopped, the next decision waits: ``pacs-waiting[-ja].png``;
3. Orthanc back, File > Search PACS… finds the real X-ray: ``pacs-search[-ja].png``;
4. Retrieve opens it in the study browser: ``pacs-retrieved[-ja].png``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "samples" / "nih-cxr14-dx-pa.dcm"
OUT = ROOT / "docs" / "screenshots"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from bench.shots import sample_args

    args = sample_args(SAMPLE, OUT)
    from tests.pacs.helpers import pacs_site
    from tests.pacs.orthanc import OrthancServer

    work = Path(tempfile.mkdtemp(prefix="bedside-pacs-shot-"))
    server = OrthancServer(work / "orthanc").start()
    try:
        server.upload(args.sample.read_bytes())
        site = work / "site.toml"
        site.write_text(pacs_site(server, transport="dicomweb"), encoding="utf-8")
        os.environ["BEDSIDE_SITE_CONFIG"] = str(site)
        return _shoot(args.lang, server, work, args.sample, args.out)
    finally:
        server.remove()


def _shoot(lang: str, server: Any, work: Path, sample: Path, out: Path) -> int:
    from bench.shots import start_app, wait_until

    app, settings, _data = start_app(lang)
    from PySide6.QtWidgets import QLabel

    from viewer.dicom.synthetic import write_demo_set
    from viewer.ui.qt_main_window import QtMainWindow

    suffix = "" if lang == "en" else f"-{lang}"
    study = work / "demo"
    write_demo_set(study, n=2, seed=5, size=(512, 512))

    def wait(done: Callable[[], bool], timeout_s: float = 120.0) -> None:
        wait_until(app, done, timeout_s)

    def shot(name: str) -> None:
        for _ in range(20):
            app.processEvents()
            time.sleep(0.02)
        path = out / f"{name}{suffix}.png"
        app.primaryScreen().grabWindow(0).copy(0, 0, 1280, 720).save(str(path))
        print("wrote", path)

    window = QtMainWindow(settings)
    window.setGeometry(0, 0, 1280, 720)
    window.show()
    window.pacs.timer.setInterval(500)
    window.start([study])
    status = window.findChild(QLabel, "pacsStatus")
    assert isinstance(status, QLabel)

    def decide_and_wait(kind: str) -> None:
        wait(lambda: window.current is not None and window.current.can_decide)
        window.decision.confirm.click()
        wait(lambda: status.isVisible() and window.pacs.status.state.kind == kind, 60)
        window.right_scroll.ensureWidgetVisible(status)

    decide_and_wait("sent")
    shot("pacs-sent")

    server.stop()
    window.step_image(1)
    decide_and_wait("waiting")
    shot("pacs-waiting")

    server.start()
    from pydicom import dcmread

    patient = str(dcmread(sample, stop_before_pixels=True).PatientID)
    from viewer.ui.qt_pacs_search import QtPacsSearch

    dialog = window.show_pacs_search()
    assert isinstance(dialog, QtPacsSearch)
    dialog.move(160, 80)
    dialog.patient_id.setText(patient)
    dialog.search()
    wait(lambda: dialog.table.rowCount() > 0, 60)
    shot("pacs-search")
    dialog.retrieve()
    cache = settings.data_dir / "pacs-cache"

    def retrieved() -> bool:
        image = window.view.image
        return image is not None and Path(image.meta.path).is_relative_to(cache)

    wait(retrieved, 60)
    dialog.close()
    wait(lambda: window.ai_panel.state() in ("refused", "result"), 60)
    shot("pacs-retrieved")
    window.close()
    window.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
