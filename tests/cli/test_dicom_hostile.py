"""Hostile ``bedside dicom render`` targets: the PNG never replaces the DICOM file it is made
from, whatever name reaches it (the same path, a symlink, a hard link), with --force too."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from viewer.cli.main import main


def _same(src: Path, tmp_path: Path) -> Path:
    return src


def _relative(src: Path, tmp_path: Path) -> Path:
    return tmp_path / "sub" / ".." / src.name


def _symlink(src: Path, tmp_path: Path) -> Path:
    link = tmp_path / "link.png"
    link.symlink_to(src)
    return link


def _hardlink(src: Path, tmp_path: Path) -> Path:
    link = tmp_path / "hard.png"
    os.link(src, link)
    return link


@pytest.mark.parametrize(
    "name_of", [_same, _relative, _symlink, _hardlink], ids=["same", "dotdot", "symlink", "hard"]
)
@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_render_never_replaces_its_input(
    cxr_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name_of: Callable[[Path, Path], Path],
    force: bool,
) -> None:
    src = tmp_path / "image.dcm"
    src.write_bytes(cxr_path.read_bytes())
    (tmp_path / "sub").mkdir()
    before = src.read_bytes()
    out = name_of(src, tmp_path)
    argv = ["dicom", "render", str(src), "--out", str(out), *(["--force"] if force else [])]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"{out}: is the file the PNG is made from; refusing to replace it" in err
    assert "Traceback" not in err
    assert src.read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize(
    "options",
    [
        ["--size", "65535", "--count", "1"],
        ["--size", "-5"],
        ["--size", "0"],
        ["--count", "100000000000", "--size", "64"],
        ["--count", "-1"],
    ],
    ids=["size-65535", "size-negative", "size-zero", "count-huge", "count-negative"],
)
def test_demo_data_out_of_range_is_one_sentence_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str]
) -> None:
    """A 16 GiB allocation's MemoryError, numpy's 'Number of samples, -5, must be
    non-negative', 0 x 0 images written, or a run of 10**11 files: each is refused before any
    file is written."""
    out = tmp_path / "demo"
    assert main(["demo-data", *options, str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err and "must be" in err, err
    assert not out.exists()
