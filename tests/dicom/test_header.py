"""The index's fast header reader agrees with the pydicom path on every shipped file.

``viewer.dicom.header`` decodes the ~35 metadata tags from raw bytes for speed and hands
anything unusual back to pydicom; this parity test is what makes that safe: for each of
pydicom's test and character-set files, wherever the fast path answers, its ImageMetadata
equals the one built from pydicom's parse.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pydicom.data
import pytest

from viewer.dicom.reader import (
    DEFAULT_LIMITS,
    _fast_metadata,
    _quiet,
    metadata_from_dataset,
    read_dataset,
)
from viewer.errors import DicomError

DATA = Path(pydicom.data.__file__).parent
FILES = sorted(
    [p for p in (DATA / "test_files").rglob("*") if p.is_file()]
    + [Path(p) for p in pydicom.data.get_charset_files()]
)


def _slow(path: Path):  # type: ignore[no-untyped-def]
    notes: list[str] = []
    with _quiet(notes):
        return metadata_from_dataset(read_dataset(path, header_only=True), path)


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(DATA)) for p in FILES])
def test_fast_header_matches_pydicom(path: Path) -> None:
    try:
        fast = _fast_metadata(path, DEFAULT_LIMITS)
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
            used += _fast_metadata(path, DEFAULT_LIMITS) is not None
    assert used >= 150  # of ~190: everything but no-preamble, big-endian, deflated, broken


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("chrH31.dcm", "Yamada^Tarou=山田^太郎=やまだ^たろう"),
        ("chrI2.dcm", "Hong^Gildong=洪^吉洞=홍^길동"),
        ("chrGerm.dcm", "Äneas^Rüdiger"),
        ("chrRuss.dcm", "Люкceмбypг"),
    ],
)
def test_character_sets(name: str, expected: str) -> None:
    path = DATA / "charset_files" / name
    fast = _fast_metadata(path, DEFAULT_LIMITS)
    assert fast is not None and fast.patient_name == expected
