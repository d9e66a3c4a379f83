"""Study index: folders, DICOMDIRs, progress and cancel, sorting, non-images, errors."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pydicom.data
import pytest

from tests.dicom.helpers import make_ds, save
from viewer.dicom import build_index, iter_scan, read_metadata, scan

DICOMDIR_TESTS = Path(pydicom.data.__file__).parent / "test_files" / "dicomdirtests"
SR_FILE = Path(pydicom.data.__file__).parent / "test_files" / "test-SR.dcm"


def test_progress_then_index(cxr_dir: Path) -> None:
    steps = list(iter_scan([cxr_dir]))
    files = sorted(p for p in cxr_dir.rglob("*") if p.is_file())
    assert [s.done for s in steps] == list(range(1, len(files) + 1))
    assert all(s.total == len(files) for s in steps)
    assert all(s.index is None for s in steps[:-1])
    index = steps[-1].index
    assert index is not None
    assert len(index.images()) == len(files) and not index.errors


def test_cancel_stops_without_index(cxr_dir: Path) -> None:
    calls = {"n": 0}

    def cancel() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    steps = list(iter_scan([cxr_dir], cancel=cancel))
    assert steps and all(s.index is None for s in steps)
    assert len(steps) < len([p for p in cxr_dir.rglob("*") if p.is_file()])


def test_closing_the_generator_cancels(cxr_dir: Path) -> None:
    gen = iter_scan([cxr_dir])
    first = next(gen)
    assert first.done == 1
    gen.close()
    with pytest.raises(StopIteration):
        next(gen)


def test_dicomdir_tree() -> None:
    index = scan([DICOMDIR_TESTS / "DICOMDIR"])
    assert not index.errors
    assert len(index.images()) == 31
    names = [p.patient_name for p in index.patients]
    assert names == ["Doe^Archibald", "Doe^Peter"]
    archibald = index.patients[0]
    # Newest study first; series by number.
    assert [s.study_date for s in archibald.studies] == ["20010101", "19950903"]
    assert [se.series_number for se in archibald.studies[0].series] == [1, 2, 3]
    ct = archibald.studies[1].series[0]
    numbers = [m.instance_number for m in ct.instances]
    assert numbers == sorted(numbers) and len(numbers) == 4


def test_folder_with_non_dicom_sr_and_broken(tmp_path: Path, ramp16: np.ndarray) -> None:
    tmp_path = tmp_path / "cd"
    tmp_path.mkdir()
    (tmp_path / "README.TXT").write_text("Viewer for Windows: run SETUP.EXE")
    shutil.copy(SR_FILE, tmp_path / "sr.dcm")
    save(make_ds(ramp16, InstanceNumber=2), tmp_path / "b.dcm")
    broken = tmp_path / "broken.dcm"
    broken.write_bytes((tmp_path / "b.dcm").read_bytes()[:300])
    index = scan([tmp_path])
    assert [Path(p).name for p in index.skipped] == ["README.TXT"]
    assert [Path(m.path).name for m in index.non_images] == ["sr.dcm"]
    assert index.non_images[0].modality == "SR"
    assert [Path(e.path).name for e in index.errors] == ["broken.dcm"]
    assert [Path(m.path).name for m in index.images()] == ["b.dcm"]


def test_explicit_non_dicom_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    index = scan([path])
    assert len(index.errors) == 1 and "is not a DICOM file" in index.errors[0].message


def test_instances_sorted_and_deduplicated(tmp_path: Path, ramp16: np.ndarray) -> None:
    base = make_ds(ramp16)
    paths = []
    for number in (3, 1, 2):
        ds = make_ds(
            ramp16,
            InstanceNumber=number,
            StudyInstanceUID=base.StudyInstanceUID,
            SeriesInstanceUID=base.SeriesInstanceUID,
        )
        paths.append(save(ds, tmp_path / f"i{number}.dcm"))
    index = scan([tmp_path, paths[0]])  # the same file reached twice
    assert [m.instance_number for m in index.images()] == [1, 2, 3]


def test_study_order_and_undated_last() -> None:
    def meta(study: str, date: str):  # type: ignore[no-untyped-def]
        return read_metadata_stub(study, date)

    index = build_index([meta("a", "20200101"), meta("b", ""), meta("c", "20240101")])
    assert [s.study_instance_uid for s in index.patients[0].studies] == ["c", "a", "b"]


def read_metadata_stub(study: str, date: str):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    template = read_metadata(SR_FILE)
    return replace(
        template, is_image=True, study_instance_uid=study, study_date=date, sop_instance_uid=study
    )


def _copy_dicomdir_tree(tmp_path: Path) -> Path:
    root = tmp_path / "cd"
    shutil.copytree(DICOMDIR_TESTS, root, ignore=shutil.ignore_patterns("TINY_ALPHA"))
    return root


def test_dicomdir_missing_reference(tmp_path: Path) -> None:
    root = _copy_dicomdir_tree(tmp_path)
    (root / "77654033" / "CR1" / "6154").unlink()
    index = scan([root / "DICOMDIR"])
    assert len(index.images()) == 30
    assert [Path(e.path).name for e in index.errors] == ["6154"]
    assert "missing on the medium" in index.errors[0].message


def test_dicomdir_reference_outside_folder_refused(tmp_path: Path) -> None:
    root = _copy_dicomdir_tree(tmp_path)
    ds = pydicom.dcmread(root / "DICOMDIR")
    for record in ds.DirectoryRecordSequence:
        if "ReferencedFileID" in record:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # '..' is not a valid CS value: the point
                record.ReferencedFileID = ["..", "..", "etc", "passwd"]
            break
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.save_as(root / "DICOMDIR")
    index = scan([root / "DICOMDIR"])
    assert any("outside its folder" in e.message for e in index.errors)
    assert len(index.images()) == 30


def test_dicomdir_lowercase_medium(tmp_path: Path) -> None:
    root = _copy_dicomdir_tree(tmp_path)
    low = tmp_path / "low"
    for src in sorted(root.rglob("*")):
        rel = src.relative_to(root)
        target = low / Path(*[part.lower() for part in rel.parts])
        if src.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, target)
    shutil.copy(root / "DICOMDIR", low / "DICOMDIR")
    index = scan([low / "DICOMDIR"])
    assert len(index.images()) == 31 and not index.errors


def test_to_dict_is_json_ready(cxr_dir: Path) -> None:
    import json

    data = json.loads(json.dumps(scan([cxr_dir]).to_dict()))
    assert data["patients"][0]["studies"][0]["series"][0]["instances"][0]["is_image"] is True


# ------------------------------------------------------------------ hostile-input findings


def _pair_same_uid(tmp_path: Path, ramp16: np.ndarray, kind: str) -> tuple[Path, Path]:
    """Two files sharing a SOP Instance UID: ``kind`` says how the second differs."""
    first = save(make_ds(ramp16, PatientID="P0"), tmp_path / "a.dcm")
    second = tmp_path / "b.dcm"
    if kind == "identical_copy":
        shutil.copy(first, second)
    else:
        ds = pydicom.dcmread(first)
        if kind == "other_patient":
            ds.PatientID, ds.PatientName = "P5", "Other^Patient"
        else:  # other pixels, same patient
            ds.PixelData = (ramp16[::-1]).tobytes()
        ds.save_as(second, enforce_file_format=True)
    return first, second


@pytest.mark.parametrize("as_folder", [False, True], ids=["named_files", "folder"])
@pytest.mark.parametrize("kind", ["other_patient", "other_pixels"])
def test_same_sop_uid_different_content_kept_and_flagged(
    tmp_path: Path, ramp16: np.ndarray, kind: str, as_folder: bool
) -> None:
    first, second = _pair_same_uid(tmp_path, ramp16, kind)
    last = list(iter_scan([tmp_path] if as_folder else [first, second]))[-1]
    assert last.index is not None and last.errors == last.index.errors
    index = last.index
    assert sorted(Path(m.path).name for m in index.images()) == ["a.dcm", "b.dcm"]
    # both readable: a UID clash is a conflict to check, not a file that "could not be read"
    assert not index.errors and not last.errors
    assert [Path(e.path).name for e in index.conflicts] == ["b.dcm"]
    assert f"same SOP Instance UID (0008,0018) as {first}" in index.conflicts[0].message
    assert not index.duplicates


@pytest.mark.parametrize(
    "how", ["byte_identical_copy", "symlink", "same_path_twice"], ids=lambda x: x
)
def test_same_file_listed_once_and_reported(tmp_path: Path, ramp16: np.ndarray, how: str) -> None:
    first = save(make_ds(ramp16), tmp_path / "a.dcm")
    if how == "byte_identical_copy":
        other = tmp_path / "b.dcm"
        shutil.copy(first, other)
    elif how == "symlink":
        other = tmp_path / "b.dcm"
        other.symlink_to(first)
    else:
        other = first
    index = scan([first, other])
    assert [Path(m.path).name for m in index.images()] == ["a.dcm"]
    assert not index.errors
    assert [e.path for e in index.duplicates] == [str(other)]
    assert f"same file as {first}" in index.duplicates[0].message


def test_unreadable_subfolder_is_an_error(
    tmp_path: Path, ramp16: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    save(make_ds(ramp16), tmp_path / "a.dcm")
    locked = tmp_path / "sub"
    locked.mkdir()
    save(make_ds(ramp16), locked / "b.dcm")
    real_scandir = os.scandir

    def scandir(path: str | Path = ".") -> os.ScandirIterator[str]:  # root ignores chmod 000
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    index = scan([tmp_path])
    assert [Path(m.path).name for m in index.images()] == ["a.dcm"]
    assert [e.path for e in index.errors] == [str(locked)]
    assert "folder cannot be read" in index.errors[0].message


def _dicomdir_with_refs(root: Path, refs: list[list[str]]) -> Path:
    src = pydicom.dcmread(DICOMDIR_TESTS / "DICOMDIR")
    records = [r for r in src.DirectoryRecordSequence if "ReferencedFileID" in r][: len(refs)]
    for record, ref in zip(records, refs, strict=True):
        record.ReferencedFileID = ref
    src.DirectoryRecordSequence = records
    root.mkdir(exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        src.save_as(root / "DICOMDIR")
    return root / "DICOMDIR"


@pytest.mark.parametrize(
    ("refs", "message"),
    [
        ([["DICOMDIR"], ["DICOMDIR"]], "references the DICOMDIR itself"),
        ([], "references no image files"),
    ],
    ids=["self_reference", "no_records"],
)
def test_dicomdir_without_usable_references_is_an_error(
    tmp_path: Path, refs: list[list[str]], message: str
) -> None:
    dicomdir = _dicomdir_with_refs(tmp_path / "cd", refs)
    index = scan([dicomdir])
    assert not index.images()
    assert index.errors and any(message in e.message for e in index.errors)
    assert all(e.path == str(dicomdir) for e in index.errors)


@pytest.mark.parametrize(
    "content",
    [b"", b"\x89PNG\r\n\x1a\n" + bytes(64), b"DICM"],
    ids=["empty", "png", "marker_only"],
)
def test_named_non_dicom_dcm_is_an_error(tmp_path: Path, content: bytes) -> None:
    folder = tmp_path / "cd"
    folder.mkdir()
    path = folder / "IM0001.dcm"
    path.write_bytes(content)
    named = scan([path])
    assert [e.path for e in named.errors] == [str(path)]
    assert "not a DICOM file" in named.errors[0].message
    walked = scan([folder])  # a file named .dcm is an error in a folder scan too
    assert [e.path for e in walked.errors] == [str(path)] and not walked.skipped
    assert "named as a DICOM file" in walked.errors[0].message


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("IM0001", b"", "the file is empty"),
        ("IMG.DCM", b"\x89PNG\r\n\x1a\n" + bytes(64), "named as a DICOM file"),
        ("README.TXT", b"viewer", None),
        ("AUTORUN.INF", b"[autorun]", None),
        (".keep", b"", None),
    ],
    ids=["empty_no_suffix", "png_named_dcm", "readme", "autorun", "hidden_empty"],
)
def test_folder_scan_non_dicom_files(
    tmp_path: Path, name: str, content: bytes, error: str | None
) -> None:
    """On a CD, a 0-byte IM0001 (a failed burn) or a non-DICOM file named .dcm may be a lost
    image: an error. Viewer programs and autorun files are merely skipped (and counted)."""
    folder = tmp_path / "cd"
    folder.mkdir()
    (folder / name).write_bytes(content)
    index = scan([folder])
    if error is None:
        assert index.skipped == [str(folder / name)] and not index.errors
    else:
        assert [e.path for e in index.errors] == [str(folder / name)] and not index.skipped
        assert error in index.errors[0].message


@pytest.mark.parametrize("compare", ["in_memory", "block_by_block"])
def test_copies_and_near_copies_of_one_uid(
    tmp_path: Path, ramp16: np.ndarray, compare: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several copies of one image (same UID): each exact copy is a duplicate of the first; a
    copy with its last byte changed, or one byte longer, is a conflict (kept, listed), whether
    the files are compared from memory or, when large, block by block."""
    from viewer.dicom import index as index_module

    if compare == "block_by_block":
        monkeypatch.setattr(index_module, "_IN_MEMORY", 16)
        monkeypatch.setattr(index_module, "_BLOCK", 1000)  # several blocks, a short last one
    first = save(make_ds(ramp16), tmp_path / "a.dcm")
    data = first.read_bytes()
    for name in ("b.dcm", "c.dcm", "e.dcm"):
        (tmp_path / name).write_bytes(data)
    (tmp_path / "d.dcm").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # the last pixel byte
    (tmp_path / "f.dcm").write_bytes(data + b"\0")  # trailing padding: a different file
    index = scan([tmp_path])
    assert sorted(Path(e.path).name for e in index.duplicates) == ["b.dcm", "c.dcm", "e.dcm"]
    assert sorted(Path(e.path).name for e in index.conflicts) == ["d.dcm", "f.dcm"]
    assert sorted(Path(m.path).name for m in index.images()) == ["a.dcm", "d.dcm", "f.dcm"]
