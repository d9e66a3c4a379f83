"""Mutated valid files: byte flips, truncation, insertions and changed tag values.

Whatever the mutation, the reader either returns an image that renders, or raises DicomError:
no other exception, no hang, no huge allocation. About 3,500 cases in the default run
(derandomized, no example database, so CI runs are repeatable); more under ``-m slow``.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom import uid

from tests.dicom.helpers import make_ds
from viewer.dicom import DisplayRenderer, Limits, Window, read_image, read_metadata
from viewer.errors import DicomError

# Small limits so a mutated size field cannot make a test slow; the logic is the same.
LIMITS = Limits(max_dimension=2048, max_pixel_bytes=8 * 2**20)
FAST = settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _base_bytes(tsyntax: str | None = None, size: tuple[int, int] = (24, 20)) -> bytes:
    rng = np.random.default_rng(3)
    arr = rng.integers(0, 4096, size=size).astype(np.uint16)
    ds = make_ds(
        arr,
        bits_stored=12,
        WindowCenter=[2048, 1000],
        WindowWidth=[4096, 500],
        RescaleSlope=1,
        RescaleIntercept=0,
        PixelPaddingValue=0,
    )
    if tsyntax:
        ds.compress(tsyntax)
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


BASES = {"native": _base_bytes(), "rle": _base_bytes(uid.RLELossless)}


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "case.dcm"


def _exercise(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    with contextlib.suppress(DicomError):
        read_metadata(path, limits=LIMITS)
    try:
        image = read_image(path, limits=LIMITS)
    except DicomError:
        return
    renderer = DisplayRenderer(image)
    out = renderer.render()
    assert out.dtype == np.uint8 and out.shape == image.stored.shape
    renderer.render(Window(100, 50, "SIGMOID"), invert=True)


flips = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=12)


def flipped(base: bytes, changes: list[tuple[int, int]]) -> bytes:
    """``base`` with each (position, byte) change applied, positions wrapped to its length."""
    data = bytearray(base)
    for pos, value in changes:
        data[pos % len(data)] = value
    return bytes(data)


def cut_and_inserted(base: bytes, cut: int, insert_at: int, blob: bytes) -> bytes:
    """``base`` cut short at ``cut``, then ``blob`` inserted at ``insert_at`` (both wrapped)."""
    data = base[: cut % (len(base) + 1)]
    pos = insert_at % (len(data) + 1)
    return data[:pos] + blob + data[pos:]


@FAST
@given(base=st.sampled_from(sorted(BASES)), changes=flips)
def test_byte_flips(work: Path, base: str, changes: list[tuple[int, int]]) -> None:
    _exercise(work, flipped(BASES[base], changes))


@FAST
@given(
    base=st.sampled_from(sorted(BASES)),
    cut=st.integers(0, 10**6),
    insert_at=st.integers(0, 10**6),
    blob=st.binary(max_size=24),
)
def test_truncation_and_insertion(
    work: Path, base: str, cut: int, insert_at: int, blob: bytes
) -> None:
    _exercise(work, cut_and_inserted(BASES[base], cut, insert_at, blob))


_INT_TAGS = [
    "Rows",
    "Columns",
    "BitsAllocated",
    "BitsStored",
    "HighBit",
    "PixelRepresentation",
    "SamplesPerPixel",
    "PixelPaddingValue",
]
_TEXT_TAGS = [
    "NumberOfFrames",
    "PhotometricInterpretation",
    "WindowCenter",
    "WindowWidth",
    "RescaleSlope",
    "RescaleIntercept",
    "VOILUTFunction",
    "PixelSpacing",
    "ImagerPixelSpacing",
    "EstimatedRadiographicMagnificationFactor",
    "SOPClassUID",
    "Modality",
]
_TS = [
    uid.ExplicitVRLittleEndian,
    uid.ImplicitVRLittleEndian,
    uid.ExplicitVRBigEndian,
    uid.JPEGExtended12Bit,
    uid.JPEG2000,
    uid.RLELossless,
    "1.2.3.4",
    "",
]
_text_values = st.sampled_from(
    [
        "",
        "0",
        "1",
        "-1",
        "2",
        "65535",
        "1e400",
        "nan",
        "1A",
        "MONOCHROME1",
        "RGB",
        "SIGMOID",
        "LINEAR_EXACT",
        "BOGUS",
        "1\\2",
        "0\\0",
        "3\\-4",
        "1.2.840.10008.5.1.4.1.1.88.11",
        "SR",
        "CR",
    ]
)


@FAST
@given(
    int_changes=st.dictionaries(st.sampled_from(_INT_TAGS), st.integers(0, 70000), max_size=3),
    text_changes=st.dictionaries(st.sampled_from(_TEXT_TAGS), _text_values, max_size=3),
    tsyntax=st.sampled_from(_TS),
)
def test_tag_value_changes(
    work: Path, int_changes: dict[str, int], text_changes: dict[str, str], tsyntax: str
) -> None:
    rng = np.random.default_rng(3)
    arr = rng.integers(0, 4096, size=(24, 20)).astype(np.uint16)
    ds = make_ds(arr, bits_stored=12, WindowCenter=2048, WindowWidth=4096)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key, value in int_changes.items():
            setattr(ds, key, value)
        for key, value in text_changes.items():
            try:
                setattr(ds, key, value)
            except (ValueError, TypeError, OverflowError):
                continue
        if tsyntax:
            ds.file_meta.TransferSyntaxUID = tsyntax
        else:
            del ds.file_meta.TransferSyntaxUID
        buf = io.BytesIO()
        try:
            ds.save_as(buf, enforce_file_format=False)
        except Exception:  # the writer refuses some values: nothing to read then
            return
    _exercise(work, buf.getvalue())


@pytest.mark.slow
@settings(max_examples=20000, deadline=None, derandomize=True, database=None)
@given(
    base=st.sampled_from(["jls", "j2k", "rle", "native"]),
    changes=flips,
)
def test_byte_flips_compressed_long(work: Path, base: str, changes: list[tuple[int, int]]) -> None:
    bases = _long_bases()
    data = bytearray(bases[base])
    for pos, value in changes:
        data[pos % len(data)] = value
    _exercise(work, bytes(data))


_LONG: dict[str, bytes] = {}


def _long_bases() -> dict[str, bytes]:
    if not _LONG:
        _LONG.update(BASES)
        _LONG["jls"] = _base_bytes(uid.JPEGLSLossless)
        _LONG["j2k"] = _base_bytes(uid.JPEG2000Lossless, size=(64, 64))
    return _LONG
