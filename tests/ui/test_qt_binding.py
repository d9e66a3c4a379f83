"""The pinned Qt binding must not leak references to None.

PySide6-Essentials 6.12.0 on CPython 3.11 gives Python an unowned ``None`` from every ``void``
Qt call; after a few thousand calls the interpreter aborts ("none_dealloc"). pyproject pins a
release without the bug; this test runs plain PySide6 (no viewer.ui guard) in a subprocess so an
upgrade that brings the bug back fails here instead of on a reading workstation.
"""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label, timer = QLabel(), QTimer()
before = sys.getrefcount(None)
for _ in range(5000):
    label.setText("x")
    label.parent()
    timer.start(10)
    timer.stop()
print(sys.getrefcount(None) - before)
"""


def test_void_qt_calls_keep_none_refcount() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # A few references may come and go with the objects above; a leak shows as thousands.
    assert abs(int(result.stdout.strip().splitlines()[-1])) < 50
