"""Hostile header values and Pixel Data lengths on the pydicom-free render (viewer.dicom.direct).

Each crafted file is either read by the direct path with read_image's pixels and windows for
every preset, or left to read_image (None), or refused by both with the same sentence; a Rescale
value that is not one number, and an empty Number of Frames, are sentences naming the element,
never numpy's or int()'s words."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset

from tests.dicom.helpers import make_ds, save
from tests.dicom.test_direct import _outcome, _same
from viewer.dicom.direct import read_display
from viewer.errors import DicomError

_PIXELS = np.random.default_rng(0).integers(0, 4096, (16, 12)).astype(np.uint16)
_EXPECTED = _PIXELS.size * 2


def _ds(**values: object) -> Dataset:
    ds = make_ds(_PIXELS, bits_stored=12)
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


def _ds_text(keyword: str, vr: str, text: str, **values: object) -> Dataset:
    """``keyword`` holding ``text`` as written (no conversion: "nan", "  ", "1e999")."""
    ds = _ds(**values)
    tag = {
        "RescaleSlope": 0x00281053,
        "WindowCenter": 0x00281050,
        "WindowWidth": 0x00281051,
        "NumberOfFrames": 0x00280008,
    }
    ds.add_new(tag[keyword], vr, "0")
    ds[tag[keyword]]._value = text
    return ds


def _pixel_length(length: int, tail: bytes = b"") -> Callable[[bytes], bytes]:
    def patch(data: bytes) -> bytes:
        at = data.rfind(b"\xe0\x7f\x10\x00")
        return data[: at + 8] + length.to_bytes(4, "little") + data[at + 12 :] + tail

    return patch


_RESCALE = {"RescaleIntercept": "0"}
DATASETS: dict[str, Callable[[], Dataset]] = {
    "rescale-nan": lambda: _ds_text("RescaleSlope", "DS", "nan", **_RESCALE),
    "rescale-inf": lambda: _ds_text("RescaleSlope", "DS", "1e999", **_RESCALE),
    "rescale-minus-zero": lambda: _ds_text("RescaleSlope", "DS", "-0", **_RESCALE),
    "rescale-huge": lambda: _ds_text("RescaleSlope", "DS", "1e300", **_RESCALE),
    "window-nan": lambda: _ds_text("WindowCenter", "DS", "nan", WindowWidth="100"),
    "window-inf": lambda: _ds_text("WindowCenter", "DS", "1e999", WindowWidth="100"),
    "window-blank": lambda: _ds_text("WindowWidth", "DS", "  ", WindowCenter="100"),
    "width-negative": lambda: _ds(WindowCenter="100", WindowWidth="-5"),
    "width-minus-zero": lambda: _ds(WindowCenter="-0", WindowWidth="-0"),
    "window-multi": lambda: _ds(WindowCenter="100\\200", WindowWidth="50"),
    "bits-stored-17": lambda: _ds(BitsStored=17),
    "bits-stored-0": lambda: _ds(BitsStored=0),
    "high-bit-wrong": lambda: _ds(HighBit=20),
    "pixel-representation-2": lambda: _ds(PixelRepresentation=2),
    "bits-allocated-12": lambda: _ds(BitsAllocated=12),
    "frames-0": lambda: _ds(NumberOfFrames="0"),
    "frames-negative": lambda: _ds(NumberOfFrames="-1"),
    "frames-huge": lambda: _ds(NumberOfFrames="99999999"),
    "frames-blank": lambda: _ds_text("NumberOfFrames", "IS", " "),
    "samples-3-monochrome": lambda: _ds(SamplesPerPixel=3),
    "rows-huge": lambda: _ds(Rows=65535, Columns=65535),
}
PATCHES: dict[str, Callable[[bytes], bytes]] = {
    "pixel-short": lambda data: data[:-10],
    "pixel-long": lambda data: data + b"\0\0",
    "length-short": _pixel_length(_EXPECTED - 2),
    "length-odd": _pixel_length(_EXPECTED + 1, b"\0"),
    "length-undefined": _pixel_length(0xFFFFFFFF),
    "length-past-end": _pixel_length(0xFFFFFFF0),
}


def _file(name: str, tmp_path: Path) -> Path:
    path = tmp_path / f"{name}.dcm"
    if name in DATASETS:
        return save(DATASETS[name](), path)
    save(_ds(), path)
    path.write_bytes(PATCHES[name](path.read_bytes()))
    return path


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom's invalid-value warnings
@pytest.mark.parametrize("name", [*DATASETS, *PATCHES])
def test_hostile_file_direct_equals_read_image_or_falls_back(name: str, tmp_path: Path) -> None:
    path = _file(name, tmp_path)
    direct, full, message = _outcome(path)  # a header refusal: the same words (checked there)
    if direct is None:
        if full is None:
            with pytest.raises(DicomError) as raised:
                read_display(path)
            assert str(raised.value) == message
        return
    assert full is not None, message
    _same(direct, full)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    ("keyword", "text"),
    [("RescaleSlope", "  "), ("RescaleSlope", "1\\2")],
    ids=["blank-slope", "two-slopes"],
)
def test_rescale_that_is_not_one_number_is_a_sentence(
    keyword: str, text: str, tmp_path: Path
) -> None:
    path = save(_ds_text(keyword, "DS", text, **_RESCALE), tmp_path / "r.dcm")
    with pytest.raises(DicomError) as raised:
        read_display(path)
    assert f"has an invalid {keyword} (0028,1053) value" in str(raised.value)
    assert "(not a number)" in str(raised.value)
    assert "ufunc" not in str(raised.value) and "dtype" not in str(raised.value)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_an_empty_number_of_frames_is_a_sentence(tmp_path: Path) -> None:
    """pydicom's decode said "invalid literal for int() with base 10: ''"."""
    path = save(_ds_text("NumberOfFrames", "IS", " "), tmp_path / "f.dcm")
    with pytest.raises(DicomError) as raised:
        read_display(path)
    assert str(raised.value) == (
        f"{path}: has an empty NumberOfFrames (0028,0008) value (a whole number of frames is "
        "needed)"
    )
