"""The core works on a machine without Qt: import every non-UI module and run the CLI with
PySide6 and shiboken6 made unimportable (DESIGN.md: a headless run that works without Qt)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import viewer

BLOCKER = """
import importlib.abc, sys
class _NoQt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6'):
            raise ImportError('Qt is not installed on this machine (test blocker)')
        return None
sys.meta_path.insert(0, _NoQt())
"""


def _core_modules() -> list[str]:
    root = Path(viewer.__file__).parent
    names = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[:2] == ["viewer", "ui"] or parts[-1] == "__main__":
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def test_core_imports_and_cli_run_without_qt(tmp_path: Path) -> None:
    script = (
        BLOCKER
        + f"""
import importlib
for name in {_core_modules()!r}:
    importlib.import_module(name)
assert not any(m.split('.')[0] in ('PySide6', 'shiboken6') for m in sys.modules)
from viewer.cli.main import main
code = main(['demo-data', {str(tmp_path / "out")!r}, '--count', '1', '--size', '64'])
assert code == 0, code
code = main(['dicom', 'info', {str(tmp_path / "out" / "SYN0000.dcm")!r}])
assert code == 0, code
print('HEADLESS-OK')
"""
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "HEADLESS-OK" in result.stdout
