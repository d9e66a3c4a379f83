"""Hostile files through the one reading path (``read_image``, ``read_metadata``): a file cut
at any offset of its header, pixel-module values the standard does not allow, and compressed
pixel data a decoder cannot read are each one sentence in Bedside's words, never struct's,
numpy's or a decoder plugin's (the testers' round: "unpack requires a buffer of 4 bytes",
"pylibjpeg: Unable to decode as exceptions were raised by all available plugins: pillow: cannot
identify image file <_io.BytesIO object at 0x...>")."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom.uid import RLELossless

from tests.dicom.helpers import make_ds, save
from viewer.dicom import read_image
from viewer.dicom.reader import read_metadata
from viewer.errors import DicomError

# what struct, numpy, pydicom or a decoder plugin would say instead of a sentence
LIBRARY_WORDS = (
    "unpack",
    "buffer",
    "expected total bytes",
    "pydicom",
    "pylibjpeg",
    "pillow",
    "gdcm",
    "plugin",
    "exception",
    "object at 0x",
)


def _words_of(call: Any, path: Path) -> str | None:
    """The sentence ``call(path)`` refuses the file with, or None when it reads it."""
    try:
        call(path)
    except DicomError as exc:
        return exc.message
    return None


def _image() -> Any:
    ds = make_ds(np.zeros((64, 64), np.uint16), bits_stored=12, WindowCenter=2, WindowWidth=4)
    ds.StudyInstanceUID = ds.SeriesInstanceUID = "1.2.3.4"  # a layout that does not vary
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.5"
    return ds


@pytest.mark.parametrize(
    "call",
    [read_image, lambda path: read_metadata(path, check_pixels=True)],
    ids=["read_image", "read_metadata"],
)
def test_a_file_cut_anywhere_in_its_header_is_said_in_our_words(tmp_path: Path, call: Any) -> None:
    data = save(_image(), tmp_path / "whole.dcm").read_bytes()
    header_end = len(data) - 64 * 64 * 2
    said: dict[int, str] = {}
    for offset in range(128, header_end + 16):
        cut = tmp_path / "cut.dcm"
        cut.write_bytes(data[:offset])
        message = _words_of(call, cut)
        if message and any(word in message.lower() for word in LIBRARY_WORDS):
            said[offset] = message
    assert not said, said


@pytest.mark.parametrize(
    ("keyword", "value", "words"),
    [
        ("PixelRepresentation", 2, "Pixel Representation (0028,0103)"),
        ("NumberOfFrames", "-1", "Number of Frames (0028,0008)"),
    ],
    ids=["pixel-representation-2", "frames-negative"],
)
@pytest.mark.parametrize("compressed", [False, True], ids=["native", "rle"])
def test_a_pixel_module_value_the_standard_does_not_allow_is_named(
    tmp_path: Path, keyword: str, value: Any, words: str, compressed: bool
) -> None:
    ds = _image()
    if compressed:
        ds.compress(RLELossless)
    setattr(ds, keyword, value)
    message = _words_of(read_image, save(ds, tmp_path / "img.dcm"))
    assert message is not None and words in message, message
    assert not any(word in message.lower() for word in LIBRARY_WORDS), message


def test_compressed_data_no_decoder_can_read_is_our_sentence(tmp_path: Path) -> None:
    ds = _image()
    ds.compress(RLELossless)
    path = save(ds, tmp_path / "rle.dcm")
    data = bytearray(path.read_bytes())
    # the RLE header (PS3.5 G.3.1): segment count, then offsets; the first offset points
    # past the end of the fragment
    start = data.rindex(struct.pack("<I", 64)) - 4  # first segment's offset is 64
    data[start + 4 : start + 8] = struct.pack("<I", 2**31)
    path.write_bytes(bytes(data))
    message = _words_of(read_image, path)
    assert message is not None and message.startswith("pixel data could not be decoded")
    assert not any(word in message.lower() for word in LIBRARY_WORDS), message
