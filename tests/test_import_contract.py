"""The import-linter contract really guards the layers: it passes on the tree as it is and fails
when a core module imports Qt (shown on a scratch copy of the package)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT), str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.fixture
def scratch_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "viewer", tree / "viewer", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


@pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed in this environment")
def test_contract_fails_when_core_imports_qt(scratch_tree: Path) -> None:
    assert _lint(scratch_tree).returncode == 0
    bad = scratch_tree / "viewer" / "dicom" / "sneaky.py"
    bad.write_text("from PySide6 import QtCore  # a core module must never do this\n")
    result = _lint(scratch_tree)
    assert result.returncode != 0
    assert "viewer.dicom.sneaky" in result.stdout
    assert "BROKEN" in result.stdout


def test_contract_covers_every_core_module() -> None:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contract = next(
        c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "forbidden"
    )
    listed = set(contract["source_modules"])
    top = {
        f"viewer.{p.stem}" if p.is_file() else f"viewer.{p.name}"
        for p in (ROOT / "viewer").iterdir()
        if (p.suffix == ".py" and p.stem not in {"__init__", "__main__"})
        or (p.is_dir() and (p / "__init__.py").exists())
    }
    assert top - {"viewer.ui"} <= listed, f"not covered by the contract: {top - listed}"
    assert {"PySide6", "shiboken6"} <= set(contract["forbidden_modules"])
