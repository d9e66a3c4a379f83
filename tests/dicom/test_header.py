"""The index's fast header reader agrees with the pydicom path on every shipped file; the one
File Meta (group 0002) parser it shares with the safe reader.

``viewer.dicom.header`` decodes the ~35 metadata tags from raw bytes for speed and hands
anything unusual back to pydicom; this parity test is what makes that safe: for each of
pydicom's test and character-set files, wherever the fast path answers, its ImageMetadata
equals the one built from pydicom's parse.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pydicom.data
import pytest
from pydicom.uid import ExplicitVRLittleEndian

from tests.dicom.helpers import CR_SOP, make_ds
from viewer.dicom.header import file_meta, scan_header
from viewer.dicom.metadata import fast_metadata, metadata_from_dataset, read_metadata
from viewer.dicom.safe_read import DEFAULT_LIMITS, quiet, read_dataset
from viewer.errors import DicomError

DATA = Path(pydicom.data.__file__).parent
FILES = sorted(
    [p for p in (DATA / "test_files").rglob("*") if p.is_file()]
    + [Path(p) for p in pydicom.data.get_charset_files()]
)


def _slow(path: Path):  # type: ignore[no-untyped-def]
    notes: list[str] = []
    with quiet(notes):
        return metadata_from_dataset(read_dataset(path, header_only=True), path)


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(DATA)) for p in FILES])
def test_fast_header_matches_pydicom(path: Path) -> None:
    try:
        fast = fast_metadata(path, DEFAULT_LIMITS)
    except DicomError as exc:
        # Refused before parsing (not DICOM, too large): the pydicom path refuses too.
        with pytest.raises(DicomError):
            _slow(path)
        assert exc.message
        return
    if fast is None:
        return  # handed to pydicom: nothing to compare
    assert fast == _slow(path)


def test_fast_path_is_the_common_path() -> None:
    used = 0
    for path in FILES:
        with contextlib.suppress(DicomError):
            used += fast_metadata(path, DEFAULT_LIMITS) is not None
    assert used >= 150  # of ~190: everything but no-preamble, big-endian, deflated, broken


@pytest.mark.parametrize(
    ("name", "expected", "fast_path"),
    [
        ("chrH31.dcm", "Yamada^Tarou=山田^太郎=やまだ^たろう", False),  # ISO 2022 IR 87
        ("chrI2.dcm", "Hong^Gildong=洪^吉洞=홍^길동", False),  # ISO 2022 IR 149
        ("chrGerm.dcm", "Äneas^Rüdiger", True),  # ISO_IR 100
        ("chrRuss.dcm", "Люкceмбypг", False),  # ISO_IR 144
        ("chrH32.dcm", "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう", False),  # ISO 2022 IR 13, 87
        ("chrFrenMulti.dcm", "Buc^Jérôme", True),  # ISO_IR 100
        ("chrX1.dcm", "Wang^XiaoDong=王^小東", True),  # ISO_IR 192 (UTF-8)
    ],
)
def test_character_sets(name: str, expected: str, fast_path: bool) -> None:
    """The fast path decodes the default repertoire, Latin-1 and UTF-8 itself (no pydicom
    import) and hands every other character set to pydicom: both give pydicom's text."""
    path = DATA / "charset_files" / name
    fast = fast_metadata(path, DEFAULT_LIMITS)
    assert (fast is not None) == fast_path
    assert read_metadata(path).patient_name == expected
    if fast is not None:
        assert fast.patient_name == expected


# --- The one File Meta parser (group 0002, PS3.10 7.1) -----------------------------------------


def _file_bytes() -> bytes:
    ds = make_ds(np.zeros((2, 2), dtype=np.uint16))
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def test_file_meta_finds_the_syntax_its_place_and_the_data_set() -> None:
    data = _file_bytes()
    meta = file_meta(data)
    assert not meta.overrun
    assert meta.transfer_syntax == ExplicitVRLittleEndian
    assert meta.sop_class == CR_SOP
    value = data[meta.syntax_at : meta.syntax_at + meta.syntax_len]
    assert value.rstrip(b"\x00 ") == ExplicitVRLittleEndian.encode()
    assert data[meta.end : meta.end + 2] == b"\x08\x00"  # the data set starts with group 0008


def test_file_meta_cut_short_is_an_overrun_the_fast_scan_hands_to_pydicom() -> None:
    data = _file_bytes()
    end = file_meta(data).end
    overruns = 0
    for cut in range(141, end - 1):
        head = data[:cut]
        meta = file_meta(head)
        if meta.overrun:  # a value or element header runs past the data
            overruns += 1
            assert scan_header(head, complete=False, max_depth=8) is None
        else:
            assert meta.end <= cut
    assert overruns > 0
