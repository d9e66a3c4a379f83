"""The JPEG 2000 reduced-resolution preview (issue 14, "speed the reader feels"): what it shows
is the image at a lower wavelet resolution through the same grey-scale pipeline, and anything it
does not handle gives no preview rather than an error."""

from __future__ import annotations

import copy
from pathlib import Path

import imagecodecs
import numpy as np
import pytest
from pydicom import uid
from pydicom.encaps import encapsulate

from viewer.dicom import read_image
from viewer.dicom.preview import codestream_info, read_preview, reduce_for
from viewer.dicom.synthetic import make_cxr


def _j2k(path: Path, size: tuple[int, int], *, photometric: str = "MONOCHROME1") -> np.ndarray:
    ds = make_cxr(7, opacity=True, modality="CR", photometric=photometric, size=size)
    arr = ds.pixel_array
    code = imagecodecs.jpeg2k_encode(
        arr, level=0, reversible=True, codecformat="J2K", bitspersample=12
    )
    enc = copy.deepcopy(ds)
    enc.file_meta.TransferSyntaxUID = uid.JPEG2000Lossless
    enc.PixelData = encapsulate([code])
    enc["PixelData"].VR = "OB"
    enc.save_as(path, enforce_file_format=True)
    return arr


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("j2k") / "big.dcm"
    _j2k(path, (2400, 2000))
    return path


def test_codestream_header_is_read() -> None:
    code = imagecodecs.jpeg2k_encode(
        np.zeros((300, 200), np.uint16),
        level=0,
        reversible=True,
        codecformat="J2K",
        bitspersample=12,
    )
    info = codestream_info(code)
    assert info is not None
    assert (info.width, info.height, info.components, info.precision, info.signed) == (
        200,
        300,
        1,
        12,
        False,
    )
    assert info.levels >= 1
    assert reduce_for(info, side=100) == min(2, info.levels)
    assert codestream_info(b"\xff\x4f\xff\x51\x00") is None  # truncated SIZ
    assert codestream_info(b"not a codestream") is None


def test_preview_is_the_image_at_quarter_resolution_with_the_same_grey_scale(big: Path) -> None:
    got = read_preview(big, side=1024)
    assert got is not None
    preview, factor = got
    full = read_image(big)
    assert factor == 4
    assert preview.stored.shape == (600, 500)
    # the lowest-resolution band is a smoothed copy: block means of the full image
    blocks = full.stored.reshape(600, 4, 500, 4).mean(axis=(1, 3))
    corr = np.corrcoef(blocks.ravel(), preview.stored.astype(float).ravel())[0, 1]
    assert corr > 0.995
    assert abs(float(preview.stored.mean()) - float(full.stored.mean())) < 0.01 * full.stored.max()
    # same photometric handling and stored-window source as the full image
    assert preview.meta.photometric == full.meta.photometric == "MONOCHROME1"
    assert preview.default_window.explanation == full.default_window.explanation


@pytest.mark.parametrize(
    ("case", "expect_preview"),
    [("small j2k", False), ("uncompressed", False), ("truncated codestream", False)],
    ids=["small-j2k", "uncompressed", "truncated"],
)
def test_no_preview_where_it_does_not_apply(
    tmp_path: Path, case: str, expect_preview: bool
) -> None:
    path = tmp_path / "x.dcm"
    if case == "small j2k":
        _j2k(path, (512, 512))
    elif case == "uncompressed":
        make_cxr(3, opacity=False, size=(1500, 1500)).save_as(path, enforce_file_format=True)
    else:
        _j2k(path, (1600, 1600))
        data = bytearray(path.read_bytes())
        start = data.find(b"\xff\x4f\xff\x51")
        data[start + 300 :] = b"\x00" * (len(data) - start - 300)  # codestream cut short
        path.write_bytes(bytes(data))
    assert (read_preview(path) is not None) is expect_preview


def test_a_broken_file_gives_no_preview_and_no_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"\x00" * 128 + b"DICM" + b"\xff" * 64)
    assert read_preview(bad) is None
    assert read_preview(tmp_path / "missing.dcm") is None
