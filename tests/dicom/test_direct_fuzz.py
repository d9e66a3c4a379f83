"""Mutated files through both readers: the direct render never differs from read_image.

For every mutation (byte flips, truncation and insertion, also of a file with Modality and VOI
LUT Sequences, which stay read_image's; changed values of the pixel module and of the
grey-scale elements; implicit VR) ``read_direct`` either answers None (read_image decides), or
refuses with read_image's very words, or gives the image read_image gives, pixel for pixel
under every preset. Derandomized
and without an example database, as tests/dicom/test_fuzz.py; 900 cases (9,000 once, clean).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom import uid

from tests.dicom.helpers import make_ds
from tests.dicom.test_direct import _lut_variants, _same
from tests.dicom.test_fuzz import FAST, LIMITS, cut_and_inserted, flipped
from viewer.dicom import DicomImage, read_image
from viewer.dicom.direct import DirectImage, read_direct
from viewer.errors import DicomError

CASES = settings(FAST, max_examples=300)


def _ds(**attrs: object) -> bytes:
    rng = np.random.default_rng(5)
    arr = rng.integers(0, 4096, size=(24, 20)).astype(np.uint16)
    base: dict[str, object] = {
        "WindowCenter": [2048, 1000],
        "WindowWidth": [4096, 500],
        "RescaleSlope": 1,
        "RescaleIntercept": 0,
        "PixelPaddingValue": 0,
    }
    ds = make_ds(arr, bits_stored=12, **{**base, **attrs})
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


BASE = _ds()


def _lut_base() -> bytes:
    ds = _lut_variants()["modality-lut-first-mapped-and-voi"]
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


# a plain file, and one with a Modality LUT and a VOI LUT Sequence (never read directly)
BASES = {"plain": BASE, "luts": _lut_base()}


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("direct-fuzz") / "case.dcm"


def _both(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    full: DicomImage | None = None
    message = ""
    try:
        full = read_image(path, limits=LIMITS)
    except DicomError as exc:
        message = str(exc)
    try:
        direct: DirectImage | None = read_direct(path, limits=LIMITS)
    except DicomError as exc:
        assert str(exc) == message
        return
    if direct is None:
        return
    assert full is not None, f"read_image refused what the direct path read: {message}"
    with contextlib.suppress(FloatingPointError), np.errstate(over="ignore"):
        _same(direct, full)


flips = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8)


@CASES
@given(base=st.sampled_from(sorted(BASES)), changes=flips)
def test_byte_flips(work: Path, base: str, changes: list[tuple[int, int]]) -> None:
    _both(work, flipped(BASES[base], changes))


@CASES
@given(
    base=st.sampled_from(sorted(BASES)),
    cut=st.integers(0, 10**6),
    insert_at=st.integers(0, 10**6),
    blob=st.binary(max_size=16),
)
def test_truncation_and_insertion(
    work: Path, base: str, cut: int, insert_at: int, blob: bytes
) -> None:
    _both(work, cut_and_inserted(BASES[base], cut, insert_at, blob))


_VALUES = st.sampled_from(
    ["", "0", "1", "-1", "2.5", "65535", "1e400", "nan", "1A", " 7 ", "1\\2", "3\\-4", "+4"]
)
_KEYS = st.sampled_from(
    [
        "WindowCenter",
        "WindowWidth",
        "RescaleSlope",
        "RescaleIntercept",
        "RescaleType",
        "VOILUTFunction",
        "WindowCenterWidthExplanation",
        "PresentationLUTShape",
        "NumberOfFrames",
        "Modality",
        "BodyPartExamined",
        "PhotometricInterpretation",
    ]
)


@CASES
@given(
    changes=st.dictionaries(_KEYS, _VALUES, max_size=3),
    ints=st.dictionaries(
        st.sampled_from(["BitsStored", "PixelRepresentation", "PixelPaddingValue", "Rows"]),
        st.integers(0, 70000),
        max_size=2,
    ),
    implicit=st.booleans(),
)
def test_value_changes(
    work: Path, changes: dict[str, str], ints: dict[str, int], implicit: bool
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            data = _ds(**changes, **ints)
        except Exception:  # the writer refuses some values: nothing to read then
            return
    if implicit:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pydicom

            ds = pydicom.dcmread(io.BytesIO(data))
            ds.file_meta.TransferSyntaxUID = uid.ImplicitVRLittleEndian
            buf = io.BytesIO()
            try:
                ds.save_as(buf, enforce_file_format=True)
            except Exception:
                return
            data = buf.getvalue()
    _both(work, data)
