"""Paths that are not regular files (a FIFO, a device) and a ``bedside`` child process to give
them to: a read that waits for a FIFO's writer or reads /dev/zero to its end must never hang or
exhaust the test run, so those reads happen in a child with a timeout and a bounded address
space."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path


def fifo(tmp_path: Path, name: str = "fifo") -> Path:
    path = tmp_path / name
    os.mkfifo(path)
    return path


# id -> a FIFO in the test's folder, or the endless device
SPECIAL: dict[str, Callable[[Path], Path]] = {
    "fifo": fifo,
    "dev-zero": lambda _tmp: Path("/dev/zero"),
}


def _bounded() -> None:  # a read of /dev/zero stops at 2 GiB in the child, not in the machine
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def run_child(argv: Sequence[str], *, code: str | None = None) -> subprocess.CompletedProcess[str]:
    """``bedside ARGV`` (or ``python -c CODE ARGV``) in a child: 120 s at most, 2 GiB."""
    main = "import sys; from viewer.cli.main import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code or main, *argv],
        capture_output=True, text=True, timeout=120, check=False, preexec_fn=_bounded,
    )  # fmt: skip
