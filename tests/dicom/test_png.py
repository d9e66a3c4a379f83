"""``viewer.dicom.png``: the stdlib PNG writer decodes in Pillow to the very same pixels."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from viewer.dicom.png import SIGNATURE, grey_png


def _buffers() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(19)
    ramp = np.tile(np.arange(256, dtype=np.uint8), (7, 1))
    return {
        "1x1": np.array([[200]], dtype=np.uint8),
        "3x5": np.arange(15, dtype=np.uint8).reshape(3, 5) * 17,
        "ramp": ramp,
        "wrap": np.array([[255, 0, 255, 1, 254]], dtype=np.uint8),  # Sub filter wraps mod 256
        "noise": rng.integers(0, 256, size=(301, 257), dtype=np.uint8),
        "view": rng.integers(0, 256, size=(64, 80), dtype=np.uint8)[::2, 1::3],
    }


@pytest.mark.parametrize("level", [0, 1, 6, 9])
@pytest.mark.parametrize("name", list(_buffers()))
def test_pillow_decodes_the_same_array(name: str, level: int) -> None:
    buffer = _buffers()[name]
    data = grey_png(buffer, level=level)
    assert data.startswith(SIGNATURE)
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        assert im.mode == "L" and im.format == "PNG"
        assert np.array_equal(np.asarray(im), buffer)


def test_chunks_and_crcs_are_as_the_spec_says() -> None:
    data = grey_png(np.full((2, 3), 9, dtype=np.uint8), level=9)
    pos, kinds = len(SIGNATURE), []
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack_from(">I", data, pos + 8 + length)
        assert crc == zlib.crc32(kind + body), kind
        kinds.append(kind)
        pos += 12 + length
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]
    assert data[16:29] == struct.pack(">II", 3, 2) + bytes((8, 0, 0, 0, 0))


@pytest.mark.parametrize(
    "buffer",
    [np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2), np.uint16), np.zeros((0, 4), np.uint8)],
    ids=["rgb", "uint16", "empty"],
)
def test_refuses_what_is_not_an_8_bit_grey_image(buffer: np.ndarray) -> None:
    with pytest.raises(ValueError):
        grey_png(buffer, level=1)


def test_refuses_a_level_outside_zlib() -> None:
    with pytest.raises(ValueError, match="zlib level"):
        grey_png(np.zeros((1, 1), np.uint8), level=10)
