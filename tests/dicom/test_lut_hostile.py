"""Hostile LUT Descriptors (0028,3002): a Modality LUT Sequence (PS3.3 C.11.1.1) that cannot be
applied is one sentence naming the attribute, never numpy's or struct's words, and never an image
drawn through a table the standard does not allow; a VOI LUT Sequence item (C.11.2.1.1) with such
a descriptor is no preset (the image still shows with its other windows)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydicom.dataset import Dataset

from tests.dicom.helpers import make_ds
from viewer.dicom import read_image, render
from viewer.errors import DicomError

# (descriptor, LUT Data): each breaks C.11.1.1 / C.11.2.1.1 in one way
HOSTILE = [
    pytest.param([4, 0, 16, 5, 6], [10, 20, 40, 80], id="five-values"),
    pytest.param([4], [10, 20, 40, 80], id="one-value"),
    pytest.param([4, 0, 40], [10, 20, 40, 80], id="40-bits"),
    pytest.param([4, 0, 0], [10, 20, 40, 80], id="0-bits"),
    pytest.param([65535, 0, 16], [10, 20, 40], id="data-shorter-than-declared"),
    pytest.param([4, 0, 16], [], id="no-data"),
]
# what numpy, struct or Python would say instead of the sentence
LIBRARY_WORDS = ("uint", "unpack", "subscriptable", "index", "numpy", "object", "argument")


def _with_lut(keyword: str, descriptor: list[int], data: list[int]) -> Dataset:
    arr = np.array([[0, 1], [2, 3]], dtype=np.uint16)
    item = Dataset()
    item.add_new(0x00283002, "US", descriptor)  # LUT Descriptor
    item.add_new(0x00283006, "US", data)  # LUT Data
    ds = make_ds(arr, bits_stored=12, WindowCenter=2, WindowWidth=4)
    if keyword == "ModalityLUTSequence":
        item.ModalityLUTType = "US"
    setattr(ds, keyword, [item])
    return ds


@pytest.mark.parametrize(("descriptor", "data"), HOSTILE)
def test_a_modality_lut_that_cannot_apply_is_one_sentence(
    write: Any, descriptor: list[int], data: list[int]
) -> None:
    path = write(_with_lut("ModalityLUTSequence", descriptor, data))
    with pytest.raises(DicomError) as info:
        render(read_image(path))
    message = info.value.message
    assert "Modality LUT Sequence (0028,3000)" in message
    assert "LUT Descriptor (0028,3002)" in message or "LUT Data (0028,3006)" in message
    assert not any(word in message.lower() for word in LIBRARY_WORDS), message
    assert info.value.path == str(path)


@pytest.mark.parametrize(("descriptor", "data"), HOSTILE)
def test_a_voi_lut_that_cannot_apply_is_no_preset(
    write: Any, descriptor: list[int], data: list[int]
) -> None:
    img = read_image(write(_with_lut("VOILUTSequence", descriptor, data)))
    assert [w.lut_index for w in img.windows] == [None]  # only the stored window
    assert any("VOI LUT Sequence item 1 ignored" in note for note in img.notes)
    assert render(img).shape == (2, 2)


def test_a_valid_modality_lut_still_applies(write: Any) -> None:
    img = read_image(write(_with_lut("ModalityLUTSequence", [4, 0, 16], [10, 20, 40, 80])))
    assert img.modality.tolist() == [[10, 20], [40, 80]]


@pytest.mark.parametrize(
    ("slope", "intercept"),
    [("1", "1e308"), ("1e300", "0"), ("-1e300", "0")],
    ids=["intercept-1e308", "slope-1e300", "slope-minus-1e300"],
)
def test_a_rescale_beyond_what_can_be_shown_is_refused(
    write: Any, slope: str, intercept: str
) -> None:
    """Finite in float64, infinite in the float32 image the window and the model take: the
    image drew flat ('window C 1e+308 / W 1') instead of being refused (PS3.3 C.11.1.1.2)."""
    arr = np.array([[0, 1], [2, 3]], dtype=np.uint16)
    ds = make_ds(arr, bits_stored=12, RescaleSlope=slope, RescaleIntercept=intercept)
    ds.RescaleType = "US"
    with pytest.raises(DicomError, match=r"Rescale \(0028,1052/1053\) gives values too large"):
        read_image(write(ds))
