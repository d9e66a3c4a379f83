"""The command line: version, help for every command, and usage errors without tracebacks."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest

from viewer import __version__
from viewer.cli.main import build_parser, main


def _commands(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found.append((*prefix, name))
                found.extend(_commands(child, (*prefix, name)))
    return found


COMMANDS = _commands(build_parser())


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"bedside {__version__}"


def test_expected_commands_exist() -> None:
    names = {" ".join(c) for c in COMMANDS}
    for required in (
        "demo",
        "open",
        "demo-data",
        "self-check",
        "dicom info",
        "bundle verify",
        "infer",
        "audit verify",
        "keys generate",
    ):
        assert required in names, f"missing command: {required}"


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_every_command_has_help(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: bedside")


@pytest.mark.parametrize(
    "argv",
    [["--no-such-flag"], ["no-such-command"], ["dicom", "render"], ["infer", "--json", "--bundle"]],
    ids=["unknown-flag", "unknown-command", "missing-argument", "missing-option-value"],
)
def test_wrong_argument_gives_usage(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: bedside" in err
    assert "Traceback" not in err


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: bedside" in capsys.readouterr().out


def test_bedside_error_is_one_line_not_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "viewer", "dicom", "info", "/nonexistent/file.dcm"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "/nonexistent/file.dcm" in result.stderr + result.stdout


def test_gui_without_a_screen_is_a_clear_error() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DISPLAY", "WAYLAND_DISPLAY"}}
    env.pop("QT_QPA_PLATFORM", None)
    result = subprocess.run(
        [sys.executable, "-m", "viewer", "demo"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1  # not Qt's abort (134)
    assert "no screen to open the viewer window" in result.stderr


# ------------------------------------------------- issue 12.19: a reader that closes the pipe

BROKEN_PIPE_COMMANDS = [
    ("--help",),
    ("--version",),
    ("audit", "--help"),
    ("audit", "verify"),
    ("audit", "verify", "--json"),
    ("audit", "show"),
    ("audit", "show", "--json"),
]


def _filled_log(rows: int) -> None:
    from tests.audit.helpers import fill
    from viewer.audit import AuditLog
    from viewer.config import load_settings

    with AuditLog.open(load_settings()) as log:
        fill(log, rows)


def _bedside(*args: str, stdout: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "viewer", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )


@pytest.mark.parametrize("args", BROKEN_PIPE_COMMANDS, ids=" ".join)
def test_output_into_a_closed_pipe_ends_quietly(args: tuple[str, ...]) -> None:
    """The reader is gone before the command writes a byte: every write fails with EPIPE."""
    _filled_log(3)
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = _bedside(*args, stdout=write_end)
    finally:
        os.close(write_end)
    _, err = proc.communicate(timeout=60)
    text = err.decode("utf-8", "replace")
    assert "Traceback" not in text and "BrokenPipeError" not in text, text
    # argparse's own --help/--version output drops a write error itself and exits 0
    assert proc.returncode in ((0, 141) if "--help" in args or "--version" in args else (141,))


def test_show_piped_into_head_ends_quietly() -> None:
    """``bedside audit show | head -1``: more output than a pipe holds, a reader that stops."""
    _filled_log(700)  # about 100 KB of rows: more than a 64 KB pipe buffer
    proc = _bedside("audit", "show", stdout=subprocess.PIPE)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    text = err.decode("utf-8", "replace")
    assert first.startswith(b"#1 ")
    assert "Traceback" not in text and "BrokenPipeError" not in text, text
    assert proc.returncode == 141, text


def test_main_maps_a_broken_pipe_to_141(monkeypatch: pytest.MonkeyPatch) -> None:
    def closed(*_args: object, **_kwargs: object) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys.modules["viewer.cli.main"], "load_settings", closed)
    assert main(["audit", "verify"]) == 141
