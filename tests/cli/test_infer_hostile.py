"""``bedside infer --heatmap DIR`` where DIR cannot be a folder: a file, a FIFO, a device, or a
path below a file. It ended in a traceback ("FileExistsError: [Errno 17] File exists") after
every image had been scored and recorded; now it is one sentence before anything is read."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from viewer.cli.main import main


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "taken"
    path.write_text("x", encoding="utf-8")
    return path


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


def _below_a_file(tmp_path: Path) -> Path:
    return _file(tmp_path) / "heatmaps"


TARGETS: dict[str, Callable[[Path], Path]] = {
    "file": _file,
    "fifo": _fifo,
    "device": lambda _tmp: Path("/dev/null"),
    "below-a-file": _below_a_file,
}


@pytest.mark.parametrize("target", list(TARGETS), ids=list(TARGETS))
def test_a_heatmap_folder_that_cannot_be_one_is_refused_first(
    tmp_path: Path, cxr_path: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    where = TARGETS[target](tmp_path)
    assert main(["--demo", "infer", "--heatmap", str(where), str(cxr_path)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err, err
    assert "--heatmap" in err and str(where) in err, err
