"""A broken PyTorch install (a ``torch`` package on PYTHONPATH whose import fails, as a missing
libtorch_cpu.so does): the real window, in a child process, still shows the image, says the AI
engine cannot be loaded in plain words (it said "Unexpected internal error (ImportError ...)"),
shows no score and keeps Confirm disabled. A bundle failing verification after the prewarm is
refused and recorded as before."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.ui.mainwin import (
    WAIT_MS,
    demo_bundle,
    make_window,
    refused_without_score,
    tamper_demo_bundle,
)
from viewer.session.prewarm import Prewarm

__all__ = ["demo_bundle", "make_window"]  # fixtures imported for pytest

ROOT = Path(__file__).resolve().parents[2]

DRIVER = """
import sys, time
from pathlib import Path
from viewer.session.prewarm import start_prewarm
prewarm = start_prewarm()
from PySide6.QtWidgets import QApplication, QLabel, QPushButton
from viewer.config import load_settings
app = QApplication([])
from viewer.ui.qt_main_window import QtMainWindow
window = QtMainWindow(load_settings(demo=True), prewarm=prewarm)
window.show()
ready = []
window.model_ready.connect(ready.append)
window.start([Path(sys.argv[1])])
end = time.monotonic() + 60
while not (ready and window.current is not None and window.current.meta is not None):
    if time.monotonic() > end:
        sys.exit("timed out")
    app.processEvents()
    time.sleep(0.01)
print("READY", ready)
print("PREWARM", type(prewarm.error).__name__)
print("STATE", window.findChild(QLabel, "aiState").text())
print("SCORE", repr(window.findChild(QLabel, "aiProbability").text()))
print("CONFIRM", window.findChild(QPushButton, "confirmButton").isEnabled())
window.close()
window.shutdown()
"""


def test_a_broken_torch_is_a_plain_refusal_and_the_image_is_still_read(
    tmp_path: Path, cxr_path: Path
) -> None:
    fake = tmp_path / "shadow" / "torch"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        'raise ImportError("libtorch_cpu.so: cannot open shared object file")\n', encoding="utf-8"
    )
    (tmp_path / "site.toml").write_text("", encoding="utf-8")
    env = dict(os.environ)
    env.update(
        PYTHONPATH=f"{fake.parent}{os.pathsep}{ROOT}",
        QT_QPA_PLATFORM="offscreen",
        BEDSIDE_DATA_DIR=str(tmp_path / "data"),
        BEDSIDE_SITE_CONFIG=str(tmp_path / "site.toml"),
    )
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(cxr_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert lines["READY"] == "[None]" and lines["PREWARM"] == "ImportError"
    assert lines["STATE"] == (
        "No AI result: The AI engine cannot be loaded: this installation is damaged; IT must "
        "reinstall Bedside. Images can still be read; no AI result is shown. (ImportError: "
        "libtorch_cpu.so: cannot open shared object file)"
    )
    assert "internal error" not in lines["STATE"]
    assert lines["SCORE"] == "''" and lines["CONFIRM"] == "False"


@pytest.mark.parametrize("started", [True, False], ids=["prewarm-ended", "prewarm-running"])
def test_a_bundle_failing_verification_after_the_prewarm_is_refused_without_a_score(
    qtbot: Any,
    make_window: Any,
    demo_settings: Any,
    demo_bundle: Path,
    cxr_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    started: bool,
) -> None:
    """The prewarm changes nothing about verification: a tampered bundle is refused, recorded
    (bundle_refused), and no score is shown, whether torch was imported already or not."""
    tamper_demo_bundle(demo_bundle, tmp_path, monkeypatch)
    prewarm = Prewarm()
    if started:
        prewarm.start()
        assert prewarm.wait(WAIT_MS / 1000)
    window = make_window(demo_settings, start=False, prewarm=prewarm)
    window.start([cxr_path])
    if not started:
        prewarm.start()
    state = refused_without_score(qtbot, window, demo_settings)
    assert state.startswith("No AI result: The file is not a valid bundle archive.")
    assert "the file was altered or truncated" in state
