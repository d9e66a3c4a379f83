"""Command start-up (issue 19): what each command imports before it does anything.

Not timed (bench/bench_startup.py measures the wall time): these check which modules a fresh
process has loaded, which is what the time is made of.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from viewer.cli.main import COMMANDS, build_parser

HEAVY = ("torch", "PySide6", "shiboken6", "pydantic", "reportlab", "numpy", "pydicom")

PROBE = """
import json, sys
from viewer.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _loaded(*argv: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    modules: list[str] = json.loads(result.stderr.strip().splitlines()[-1])
    return {m.split(".")[0] for m in modules} | set(modules)


@pytest.mark.parametrize("argv", [("--version",), ("--help",), ()], ids=["version", "help", "none"])
def test_version_and_help_import_nothing_heavy(argv: tuple[str, ...]) -> None:
    loaded = _loaded(*argv)
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    # no command module either: the root lists them from the table
    assert not {m for m in loaded if m.startswith("viewer.") and m != "viewer.errors"} - {
        "viewer.cli",
        "viewer.cli.main",
    }


def test_dicom_info_imports_no_torch_qt_settings_or_reportlab(cxr_path: Path) -> None:
    loaded = _loaded("dicom", "info", str(cxr_path))
    for name in ("torch", "PySide6", "pydantic", "reportlab", "viewer.config"):
        assert name not in loaded, name


def test_dicom_info_and_scan_import_neither_numpy_nor_pydicom(cxr_path: Path) -> None:
    """Issue 19 item 1: an ordinary file is read by the header fast path (viewer.dicom.header,
    tags from the generated viewer.dicom.dictionary): numpy and pydicom (~0.35 s) stay out."""
    for argv in (("dicom", "info", str(cxr_path)), ("dicom", "scan", str(cxr_path.parent))):
        loaded = _loaded(*argv)
        assert "viewer.dicom.header" in loaded
        assert not {"numpy", "pydicom", "PIL"} & loaded, argv


def test_dicom_render_and_scan_import_no_torch_or_qt(cxr_path: Path, tmp_path: Path) -> None:
    """Issue 19 item 2: the commands a user scripts over many files load neither torch nor Qt
    (nor reportlab); ``scan`` reads no settings (no pydantic) either. Not timed:
    bench/bench_cli_parity.py measures the wall time against dcmtk."""
    out = tmp_path / "o.png"
    render = _loaded("dicom", "render", str(cxr_path), "--out", str(out))
    assert out.exists()
    scan = _loaded("dicom", "scan", str(cxr_path.parent))
    assert "viewer.dicom.index" in scan
    for loaded in (render, scan):
        for name in ("torch", "PySide6", "shiboken6", "reportlab", "viewer.inference"):
            assert name not in loaded, name
    assert not {"pydantic", "viewer.config"} & scan


BLAS_PROBE = """
import os, sys
from viewer.cli.main import main
main(sys.argv[1:])
print(os.environ.get("OPENBLAS_NUM_THREADS"), file=sys.stderr)
"""


@pytest.mark.parametrize(("preset", "seen"), [(None, "1"), ("2", "2")], ids=["unset", "user"])
def test_dicom_commands_start_no_blas_thread_pool(
    cxr_path: Path, preset: str | None, seen: str
) -> None:
    """numpy's OpenBLAS pool is not started for the dicom commands (they never call BLAS);
    a value the user set is kept."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if preset is not None:
        env["OPENBLAS_NUM_THREADS"] = preset
    result = subprocess.run(
        [sys.executable, "-c", BLAS_PROBE, "dicom", "info", str(cxr_path)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=120,
    )
    assert result.stderr.strip().splitlines()[-1] == seen


def test_command_help_imports_only_its_module() -> None:
    loaded = _loaded("audit", "--help")
    assert "viewer.cli.audit" in loaded
    assert not loaded & {"viewer.cli.infer", "viewer.cli.bundle", "viewer.cli.dicom", "torch"}


def _top_level(parser: argparse.ArgumentParser) -> list[tuple[str, str]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return [(a.dest, str(a.help)) for a in action._choices_actions]
    raise AssertionError("no subcommands")


def test_command_table_matches_the_modules() -> None:
    """Every command a module registers is in the table, in order, with the module's help."""
    full = _top_level(build_parser())
    listed = _top_level(build_parser(command=""))
    assert listed == full
    assert [name for name, _, _ in COMMANDS] == [name for name, _ in full][3:]


@pytest.mark.parametrize("name", [entry[0] for entry in COMMANDS])
def test_each_command_parser_is_the_real_one(name: str) -> None:
    """With a command chosen, its parser is the module's own (sub-commands and all), and every
    other command is still listed."""
    parser = build_parser(command=name)
    assert sorted(_top_level(parser)) == sorted(_top_level(build_parser()))
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    chosen = sub.choices[name]
    assert chosen.get_default("func") is not None or any(
        isinstance(a, argparse._SubParsersAction) for a in chosen._actions
    )
