"""A file cut short is an error of the scan, in the words opening it uses.

The index, ``bedside dicom info``, ``bedside dicom render`` and the window (read_display) all
judge a file whose uncompressed Pixel Data (7FE0,0010) is shorter than Rows x Columns x
Samples x Frames x Bits Allocated / 8 (PS3.5 8.1.1), or whose element runs past the end of the
file, or which ends inside its header or inside encapsulated fragments (PS3.5 A.4), with one
sentence (viewer.dicom.metadata.pixel_data_problem). A file one byte longer (trailing padding)
is an image.
"""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import ImplicitVRLittleEndian

from tests.dicom.helpers import make_ds, save
from viewer.cli.main import main
from viewer.dicom import iter_scan, read_image, scan
from viewer.dicom.direct import read_display
from viewer.dicom.metadata import expected_pixel_bytes, raw_header, read_metadata
from viewer.dicom.safe_read import CUT_SHORT, DEFAULT_LIMITS
from viewer.errors import DicomError

_PIXEL_TAG = struct.pack("<HH", 0x7FE0, 0x0010)
_EXPECTED = 96 * 80 * 2  # the generated image's declared Pixel Data bytes


def _whole(folder: Path, *, implicit: bool = False) -> bytes:
    """A 96 x 80 16-bit CR (explicit or implicit VR little endian) as bytes."""
    arr = (np.arange(96 * 80, dtype=np.uint16).reshape(96, 80) * 7 % 4096).astype(np.uint16)
    ds = make_ds(arr, bits_stored=12)
    if implicit:
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    path = save(ds, folder / "whole.tmp")
    data = path.read_bytes()
    path.unlink()
    return data


def _cut(data: bytes, where: str, implicit: bool) -> tuple[bytes, str | None]:
    """The file cut (or grown) at ``where``, and the scan's message (None: an image)."""
    at = data.rindex(_PIXEL_TAG)
    value_at = at + (8 if implicit else 12)
    cases: dict[str, tuple[bytes, str | None]] = {
        "whole": (data, None),
        "one_byte_longer": (data + b"\0", None),  # trailing padding: legal, still an image
        "inside_header": (data[: at - 3], CUT_SHORT),  # inside (0028,0103), before Pixel Data
        "after_pixel_tag": (data[: at + 4], f"has truncated pixel data (0 of {_EXPECTED} bytes)"),
        "inside_pixel_element_header": (
            data[: at + 6],
            f"has truncated pixel data (0 of {_EXPECTED} bytes)",
        ),
        "mid_pixels": (
            data[: value_at + 5000],
            f"has truncated pixel data (5000 of {_EXPECTED} bytes)",
        ),
        "one_byte_short": (
            data[:-1],
            f"has truncated pixel data ({_EXPECTED - 1} of {_EXPECTED} bytes)",
        ),
    }
    return cases[where]


WHERE = [
    "whole",
    "one_byte_longer",
    "inside_header",
    "after_pixel_tag",
    "inside_pixel_element_header",
    "mid_pixels",
    "one_byte_short",
]


@pytest.mark.parametrize("implicit", [False, True], ids=["explicit_vr", "implicit_vr"])
@pytest.mark.parametrize("where", WHERE, ids=WHERE)
def test_scan_info_render_and_window_say_the_same(
    tmp_path: Path, where: str, implicit: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    data, message = _cut(_whole(tmp_path, implicit=implicit), where, implicit)
    (tmp_path / "cd").mkdir()
    path = tmp_path / "cd" / "IM0001"
    path.write_bytes(data)
    index = scan([tmp_path / "cd"])
    if message is None:
        assert [m.path for m in index.images()] == [str(path)] and not index.errors
        assert read_display(path).meta.rows == 96
        assert main(["dicom", "info", str(path)]) == 0
        return
    assert not index.images() and not index.conflicts and not index.duplicates
    assert [(e.path, e.message) for e in index.errors] == [(str(path), message)]
    for opened in (read_image, read_display):  # render and the window
        with pytest.raises(DicomError) as info:
            opened(path)
        assert info.value.message == message
    capsys.readouterr()
    assert main(["dicom", "info", str(path)]) == 1
    assert capsys.readouterr().err.strip() == f"{path}: error: {message}"


def test_a_cut_copy_is_an_error_not_a_same_uid_conflict(tmp_path: Path) -> None:
    """The window's folder scan (iter_scan, as the study browser's worker runs it): a copy cut
    short beside its whole original is an error, and the original stays listed alone."""
    data = _whole(tmp_path)
    folder = tmp_path / "cd"
    folder.mkdir()
    (folder / "a.dcm").write_bytes(data)
    (folder / "b.dcm").write_bytes(data[: len(data) - 3000])
    steps = list(iter_scan([folder]))
    index = steps[-1].index
    assert index is not None and [s.done for s in steps] == [1, 2]
    assert [Path(m.path).name for m in index.images()] == ["a.dcm"]
    assert not index.conflicts and not index.duplicates
    assert [(Path(e.path).name, e.message) for e in steps[-1].errors] == [
        ("b.dcm", f"has truncated pixel data ({_EXPECTED - 3000} of {_EXPECTED} bytes)")
    ]


def test_an_element_longer_than_the_file_is_an_error(tmp_path: Path) -> None:
    """Pixel Data declares more bytes than the file holds, though the image's own bytes are
    all there: the file was cut (PS3.5 7.1.2: a value is exactly its declared length)."""
    data = bytearray(_whole(tmp_path))
    at = bytes(data).rindex(_PIXEL_TAG)
    struct.pack_into("<I", data, at + 8, _EXPECTED + 100)
    path = tmp_path / "long.dcm"
    path.write_bytes(bytes(data))
    message = (
        f"has truncated pixel data ({_EXPECTED} of the {_EXPECTED + 100} bytes its Pixel Data "
        "(7FE0,0010) declares)"
    )
    assert [e.message for e in scan([path]).errors] == [message]
    with pytest.raises(DicomError) as info:
        read_display(path)
    assert info.value.message == message


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        ({"Rows": 3, "Columns": 5, "BitsAllocated": 1}, 2),  # 15 bits packed: ceil(15 / 8)
        ({"Rows": 3, "Columns": 5, "BitsAllocated": 1, "NumberOfFrames": "3"}, 6),
        ({"Rows": 4, "Columns": 4, "BitsAllocated": 8, "SamplesPerPixel": 3}, 48),
        ({"Rows": 4, "Columns": 4, "BitsAllocated": 16, "NumberOfFrames": "2"}, 64),
        ({"Rows": 4, "Columns": 4, "BitsAllocated": 12}, None),  # not a PS3.5 8.1.1 size
    ],
    ids=["one_bit_packed", "one_bit_frames", "rgb", "two_frames", "twelve_bits"],
)
def test_expected_bytes(tmp_path: Path, attrs: dict[str, object], expected: int | None) -> None:
    ds = make_ds(np.zeros((2, 2), np.uint8))
    for key, value in attrs.items():
        setattr(ds, key, value)
    path = save(ds, tmp_path / "x.dcm")
    header = raw_header(path, DEFAULT_LIMITS)
    assert header is not None and expected_pixel_bytes(header) == expected


def test_a_one_bit_image_short_by_a_packed_byte(tmp_path: Path) -> None:
    ds = make_ds(np.zeros((2, 2), np.uint8))
    ds.Rows, ds.Columns, ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 9, 1, 1, 0
    ds.PixelData = bytes(9)  # 72 pixels, one bit each
    path = save(ds, tmp_path / "bits.dcm")
    assert not scan([path]).errors
    data = path.read_bytes()  # 9 bytes padded to an even 10 (PS3.5 8.1.1)
    path.write_bytes(data[:-1])  # the padding byte only: declared longer than the file
    assert [e.message for e in scan([path]).errors] == [
        "has truncated pixel data (9 of the 10 bytes its Pixel Data (7FE0,0010) declares)"
    ]
    path.write_bytes(data[:-2])
    assert [e.message for e in scan([path]).errors] == ["has truncated pixel data (8 of 9 bytes)"]


def test_a_file_cut_inside_compressed_fragments(tmp_path: Path) -> None:
    """Encapsulated Pixel Data: the items' declared lengths are followed (none decoded); a
    file ending inside one is cut short, in the words read_image uses for it."""
    from tests.dicom.test_preview import _j2k

    folder = tmp_path / "cd"
    folder.mkdir()
    whole = folder / "whole.dcm"
    _j2k(whole, (128, 128))
    data = whole.read_bytes()
    (folder / "cut.dcm").write_bytes(data[: data.find(b"\xff\x4f\xff\x51") + 500])
    (folder / "bare.dcm").write_bytes(data[:-8])  # no Sequence Delimitation Item
    index = scan([folder])
    assert [Path(m.path).name for m in index.images()] == ["whole.dcm"]
    assert sorted((Path(e.path).name, e.message) for e in index.errors) == [
        ("bare.dcm", CUT_SHORT),
        ("cut.dcm", CUT_SHORT),
    ]
    with pytest.raises(DicomError, match="is cut short"):
        read_image(folder / "cut.dcm")


def test_whole_process_wording(tmp_path: Path) -> None:
    """``bedside dicom scan`` as a user runs it: one error line in the sentence, exit 1."""
    data = _whole(tmp_path)
    folder = tmp_path / "cd"
    folder.mkdir()
    (folder / "a.dcm").write_bytes(data)
    (folder / "b.dcm").write_bytes(data[:-100])
    done = subprocess.run(
        [sys.executable, "-m", "viewer", "dicom", "scan", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    expected = f"has truncated pixel data ({_EXPECTED - 100} of {_EXPECTED} bytes)"
    assert errors == [f"error: {folder / 'b.dcm'}: {expected}"]
    assert "Traceback" not in done.stderr
    assert done.stdout.splitlines()[-1].startswith("1 image(s), 0 non-image object(s), 1 error(s)")
    assert pydicom.dcmread(folder / "a.dcm").Rows == 96  # the good file untouched


@pytest.mark.parametrize("implicit", [False, True], ids=["explicit-vr", "implicit-vr"])
def test_info_refuses_a_file_cut_at_any_point(
    tmp_path: Path, implicit: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every cut of an image file, from inside its File Meta group (PS3.10 7.1) to the last
    pixel byte, is an error of `bedside dicom info` (exit 1, one sentence): a file cut in its
    File Meta group or in an element before the Image Pixel module was printed as an object of
    no class, or with a cut UID, and exit 0."""
    data = _whole(tmp_path, implicit=implicit)
    pixel_at = data.rindex(_PIXEL_TAG)
    path = tmp_path / "cut.dcm"
    printed_fine = []
    for end in [*range(132, pixel_at + 16), *range(pixel_at + 16, len(data), 997)]:
        path.write_bytes(data[:end])
        if main(["dicom", "info", str(path)]) != 1:
            printed_fine.append(end)
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and ": error: " in err, (end, err)
    assert printed_fine == []
    path.write_bytes(data)
    assert main(["dicom", "info", str(path)]) == 0


def test_only_the_cut_files_of_pydicoms_corpus_are_cut() -> None:
    """Every whole file of pydicom's own test data keeps its pixel size: colour, 1-bit, multi-
    frame and YBR_FULL_422 (two samples a pixel, PS3.3 C.7.6.3.1.2: it was called truncated,
    20000 of 30000 bytes); only the two files pydicom cut on purpose are cut."""
    folder = Path(pydicom.data.get_testdata_file("CT_small.dcm")).parent
    cut = {}
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        try:
            read_metadata(path, check_pixels=True)  # as the index and `dicom info` read it
        except DicomError as exc:
            if "truncated pixel data" in exc.message or exc.message == CUT_SHORT:
                cut[path.name] = exc.message
    assert sorted(cut) == ["MR_truncated.dcm", "rtplan_truncated.dcm"], cut
