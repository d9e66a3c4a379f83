"""``bedside monitor report`` with hostile arguments and output paths: one clear line, exit 1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli.test_monitor import DEMO, fill
from viewer.cli.main import main
from viewer.config import Settings


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ("0d", "is not a window"),
        ("-5", "is not a window"),
        ("-5d", "is not a window"),
        ("abc", "is not a window"),
        ("nand", "is not a window"),
        ("infd", "longer window than"),
        ("1e9d", "longer window than 36,525 days"),
        ("1e6d", "longer window than 36,525 days"),
        ("1e9", "is not a window"),
        ("", "is not a window"),
    ],
    ids=["zero-days", "negative-cases", "negative-days", "word", "nan-days", "inf-days",
         "1e9-days", "1e6-days", "float-cases", "empty"],
)  # fmt: skip
def test_odd_windows_are_one_clear_line(
    demo_settings: Settings, capsys: pytest.CaptureFixture[str], window: str, message: str
) -> None:
    fill(demo_settings, DEMO, 3, shifted=0)
    status = main(["--demo", "monitor", "report", f"--window={window}", "--no-record"])
    err = capsys.readouterr().err
    assert status == 1, err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("cases", ["0", "-1"], ids=["zero", "negative"])
def test_odd_case_counts_are_one_clear_line(
    demo_settings: Settings, capsys: pytest.CaptureFixture[str], cases: str
) -> None:
    fill(demo_settings, DEMO, 3, shifted=0)
    status = main(["--demo", "monitor", "report", f"--cases={cases}", "--no-record"])
    err = capsys.readouterr().err
    assert status == 1, err
    assert err.startswith("bedside: error:") and err.count("\n") == 1


@pytest.mark.parametrize(
    "option",
    ["--window=99999999999999999999999", "--cases=99999999999999999999999"],
    ids=["window", "cases"],
)
def test_a_huge_case_count_is_the_whole_log(
    demo_settings: Settings, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    fill(demo_settings, DEMO, 3, shifted=0)
    status = main(["--demo", "monitor", "report", option, "--no-record"])
    assert status == 0 and "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "end", ["abc", "0001-01-01", "9999-12-31T23:59:59Z", "2026-13-45"],
    ids=["word", "year-one", "year-9999", "bad-month"],
)  # fmt: skip
def test_odd_window_ends(
    demo_settings: Settings, capsys: pytest.CaptureFixture[str], end: str
) -> None:
    fill(demo_settings, DEMO, 3, shifted=0)
    status = main(["--demo", "monitor", "report", "--end", end, "--no-record"])
    err = capsys.readouterr().err
    assert status in (0, 1), err
    assert "Traceback" not in err and err.count("\n") <= 1


def test_output_that_is_a_directory_or_unwritable(
    demo_settings: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fill(demo_settings, DEMO, 3, shifted=0)
    folder = tmp_path / "out"
    folder.mkdir()
    for fmt in ("pdf", "json"):
        status = main(["--demo", "monitor", "report", "--no-record", "--format", fmt,
                       "-o", str(folder)])  # fmt: skip
        err = capsys.readouterr().err
        assert status == 1 and err.startswith("bedside: error:") and err.count("\n") == 1
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        status = main(["--demo", "monitor", "report", "--no-record", "--format", "pdf",
                       "-o", str(locked / "r.pdf")])  # fmt: skip
        err = capsys.readouterr().err
        assert status == 1 and err.startswith("bedside: error:") and err.count("\n") == 1
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize(
    "extra",
    [["--bundle", "/dev/zero"], ["--bundle", "FOLDER"], ["--bundle", "FIFO"],
     ["--bundle", "MISSING"], ["--bundle", "NOT_A_BUNDLE"], ["--alpha", "nan"],
     ["--alpha", "inf"], ["--alpha", "1e-300"], ["--model", "\x1b[2J@\u202e"],
     ["--model", "a b c d"], ["--model", "@"]],
    ids=["dev-zero", "folder", "fifo", "missing", "not-a-bundle", "nan-alpha", "inf-alpha",
         "tiny-alpha", "escape-model", "many-words", "bare-at"],
)  # fmt: skip
def test_odd_bundles_and_options(
    demo_settings: Settings,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    extra: list[str],
) -> None:
    import subprocess
    import sys

    fill(demo_settings, DEMO, 3, shifted=0)
    names = {
        "FOLDER": tmp_path / "folder",
        "FIFO": tmp_path / "fifo",
        "MISSING": tmp_path / "missing.bundle",
        "NOT_A_BUNDLE": tmp_path / "x.bundle",
    }
    names["FOLDER"].mkdir()
    os.mkfifo(names["FIFO"])
    names["NOT_A_BUNDLE"].write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    argv = [str(names.get(a, a)) for a in extra]
    # in a child process: a read that waits for a FIFO's writer must not hang the test run
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from viewer.cli.main import main; sys.exit(main())",
         "--demo", "monitor", "report", "--no-record", *argv],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode in (0, 1, 3), proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") <= 1
    assert "\x1b" not in proc.stderr + proc.stdout and "\u202e" not in proc.stderr + proc.stdout
