"""The PySide6 6.12 / Python 3.11 None-refcount guard (viewer/ui/_refcount_guard.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import sys
{guard}
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel()
for _ in range(50_000):
    label.setText("x")   # returns void
    label.parent()       # returns a null pointer as None
print("survived", sys.getrefcount(None) > 0)
"""


def _run(guard: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT.format(guard=guard)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        check=False,
    )


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12")
def test_guard_keeps_a_long_session_alive(tmp_path: Path) -> None:
    guarded = _run("from viewer.ui import _refcount_guard; _refcount_guard.apply()", tmp_path)
    assert guarded.returncode == 0, guarded.stderr[-2000:]
    assert "survived True" in guarded.stdout


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12")
def test_importing_the_ui_applies_the_guard() -> None:
    import viewer.ui.workers  # noqa: F401

    assert sys.getrefcount(None) > 1 << 39
