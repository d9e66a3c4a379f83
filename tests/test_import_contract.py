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


def _layers_contract() -> dict[str, object]:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")


# (module that gets a bad import, what it imports): each is a lower layer reaching up, or one
# face reaching into the other; a function-local import counts as much as a top-level one.
UPWARD = [
    ("dicom/sneaky.py", "from viewer.session import reading\n"),
    ("inference/sneaky.py", "def f():\n    from viewer.bundle import loader\n"),
    ("audit/sneaky.py", "import viewer.bundle.store\n"),
    ("bundle/sneaky.py", "from viewer.session.models import open_model\n"),
    ("config.py", "\n\ndef _sneaky() -> None:\n    from viewer.dicom import reader  # noqa\n"),
    ("errors.py", "\nimport viewer.keyprint  # noqa\n"),
    ("session/sneaky.py", "from viewer.cli import infer\n"),
    ("ui/sneaky.py", "from viewer.cli import main\n"),
]


@pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed in this environment")
def test_layers_contract_fails_when_a_lower_layer_imports_a_higher_one(
    scratch_tree: Path,
) -> None:
    assert _lint(scratch_tree).returncode == 0
    for where, code in UPWARD:
        path = scratch_tree / "viewer" / where
        before = path.read_text() if path.exists() else None
        path.write_text((before or "") + code)  # a new module, or an import added to one
        result = _lint(scratch_tree)
        if before is None:
            path.unlink()
        else:
            path.write_text(before)
        module = "viewer." + where.removesuffix(".py").replace("/", ".")
        assert result.returncode != 0, where
        assert "BROKEN" in result.stdout and module in result.stdout, where


def test_layers_contract_names_every_package() -> None:
    contract = _layers_contract()
    named = {
        name.strip()
        for layer in contract["layers"]
        for name in str(layer).split("|")  # type: ignore[attr-defined]
    }
    top = {
        p.stem if p.is_file() else p.name
        for p in (ROOT / "viewer").iterdir()
        if (p.suffix == ".py" and p.stem not in {"__init__", "__main__"})
        or (p.is_dir() and (p / "__init__.py").exists())
    }
    assert top <= named, f"not placed in a layer: {top - named}"


def test_no_import_hidden_from_the_contract() -> None:
    """The linter sees imports only: no module may be loaded by name to step around it."""
    hidden = []
    for path in (ROOT / "viewer").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for needle in ("import_module(", "__import__(", "importlib.reload("):
            if needle in text:
                hidden.append(f"{path.relative_to(ROOT)}: {needle}")
    assert hidden == []


def test_no_import_circles() -> None:
    """No two modules of viewer import each other, directly or around a ring (function-local and
    TYPE_CHECKING imports count): grimp's graph, strongly connected components of size > 1."""
    import grimp

    graph = grimp.build_graph("viewer")
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    rings: list[list[str]] = []

    def visit(start: str) -> None:  # iterative Tarjan (no recursion limit)
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.find_modules_directly_imported_by(nxt)))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    ring = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        ring.append(member)
                        if member == node:
                            break
                    if len(ring) > 1:
                        rings.append(sorted(ring))

    for module in sorted(graph.modules):
        if module.startswith("viewer") and module not in index:
            visit(module)
    assert rings == []
