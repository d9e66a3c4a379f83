"""Copies under one SOP Instance UID: listed once only when proved byte-identical.

The proof reads every byte (bench/bench_cli_parity.py: 1,000 real-size copies); these tests
hold it to what it must prove whatever the order of events: a copy with one byte flipped, a
copy cut short, a copy that grows after its header was read, a hard link, each decided the
same way every run (the scan is driven step by step through iter_scan, as the window's worker
drives it, and the file is changed between two steps).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.dicom.helpers import make_ds, save
from viewer.dicom import iter_scan, scan
from viewer.dicom.index import StudyIndex


def _names(items: list[object]) -> list[str]:
    return sorted(Path(getattr(item, "path", "")).name for item in items)


def _folder(tmp_path: Path) -> tuple[Path, bytes]:
    folder = tmp_path / "cd"
    folder.mkdir()
    arr = (np.arange(64 * 48, dtype=np.uint16).reshape(64, 48) % 4096).astype(np.uint16)
    data = save(make_ds(arr), folder / "a.dcm").read_bytes()
    return folder, data


@pytest.fixture(params=["in_memory", "block_by_block"])
def compare(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Files compared from memory, or (as files over 64 MiB are) block by block."""
    from viewer.dicom import index as index_module

    if request.param == "block_by_block":
        monkeypatch.setattr(index_module, "_IN_MEMORY", 16)
        monkeypatch.setattr(index_module, "_BLOCK", 1000)  # several blocks, a short last one
    return str(request.param)


def test_flipped_cut_and_longer_copies(tmp_path: Path, compare: str) -> None:
    folder, data = _folder(tmp_path)
    (folder / "b.dcm").write_bytes(data)
    middle = len(data) // 2
    (folder / "c.dcm").write_bytes(
        data[:middle] + bytes([data[middle] ^ 0x40]) + data[middle + 1 :]
    )
    (folder / "d.dcm").write_bytes(data[:-2])  # cut short: an error, not a conflict
    (folder / "e.dcm").write_bytes(data + b"\0")  # longer (padding): a different file
    index = scan([folder])
    assert _names(index.duplicates) == ["b.dcm"]
    assert _names(index.conflicts) == ["c.dcm", "e.dcm"]
    assert _names(index.errors) == ["d.dcm"]
    assert _names(index.images()) == ["a.dcm", "c.dcm", "e.dcm"]


def _scan_changing(folder: Path, change_after: str, change: object) -> StudyIndex:
    """Scan ``folder``, calling ``change()`` right after the step that read ``change_after``."""
    index = None
    for step in iter_scan([folder]):
        if Path(step.path).name == change_after:
            change()  # type: ignore[operator]
        index = step.index
    assert index is not None
    return index


def test_a_copy_grown_after_its_header_was_read_is_a_conflict(tmp_path: Path, compare: str) -> None:
    """b.dcm is byte-identical when its header is read, then grows (a copy still being
    written): it must not be listed once as the same file, whenever its proof ran."""
    folder, data = _folder(tmp_path)
    (folder / "b.dcm").write_bytes(data)
    (folder / "c.dcm").write_bytes(data)

    def grow() -> None:
        with (folder / "b.dcm").open("ab") as fh:
            fh.write(b"\0\0")

    index = _scan_changing(folder, "b.dcm", grow)
    assert _names(index.conflicts) == ["b.dcm"]
    assert _names(index.duplicates) == ["c.dcm"]


def test_a_copy_changed_in_place_after_its_header_was_read_is_a_conflict(
    tmp_path: Path, compare: str
) -> None:
    """Same size, a pixel byte rewritten after the header pass saw it: a conflict."""
    folder, data = _folder(tmp_path)
    (folder / "b.dcm").write_bytes(data)
    (folder / "c.dcm").write_bytes(data)

    def rewrite() -> None:
        changed = data[:-1] + bytes([data[-1] ^ 1])
        path = folder / "b.dcm"
        path.write_bytes(changed)
        stamp = path.stat().st_mtime_ns + 1_000_000_000  # a new modification time, surely
        os.utime(path, ns=(stamp, stamp))

    index = _scan_changing(folder, "b.dcm", rewrite)
    assert _names(index.conflicts) == ["b.dcm"]
    assert _names(index.duplicates) == ["c.dcm"]


def test_hard_link_is_the_same_file(tmp_path: Path) -> None:
    folder, _ = _folder(tmp_path)
    os.link(folder / "a.dcm", folder / "b.dcm")
    index = scan([folder])
    assert _names(index.duplicates) == ["b.dcm"] and not index.conflicts
