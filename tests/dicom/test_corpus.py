"""Corpus: every file pydicom's wheel ships in ``pydicom/data/test_files`` has an expected outcome.

One row per file: decoded shape, dtype and three stored values (corner, centre, opposite corner),
or the expected error fragment. Only files present in the installed wheel are listed (never
``get_testdata_file`` for anything else: it would try the network). A file the wheel gains or
loses fails ``test_corpus_is_complete``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pydicom
import pydicom.data
import pytest

from viewer.dicom import read_image, render
from viewer.errors import DicomError

TEST_FILES = Path(pydicom.data.__file__).parent / "test_files"


class Row(NamedTuple):
    name: str
    shape: tuple[int, int] | None
    dtype: str
    values: tuple[int, int, int] | None
    error: str


def ok(name: str, shape: tuple[int, int], dtype: str, values: tuple[int, int, int]) -> Row:
    return Row(name, shape, dtype, values, "")


def err(name: str, error: str) -> Row:
    return Row(name, None, "", None, error)


ROWS = [
    ok("693_J2KI.dcm", (512, 512), "int16", (-2016, 1056, -2016)),
    ok("CT_small.dcm", (128, 128), "int16", (175, 1928, 909)),
    err("ExplVR_BigEnd.dcm", "is a colour image"),
    err("ExplVR_BigEndNoMeta.dcm", "is a non-image object"),
    err("ExplVR_LitEndNoMeta.dcm", "is a non-image object"),
    err("GDCMJ2K_TextGBR.dcm", "is a colour image"),
    ok("J2K_pixelrep_mismatch.dcm", (512, 512), "int16", (-2000, 27, -2000)),
    ok("JPEG-lossy.dcm", (1024, 256), "uint16", (1, 14, 1)),
    err("JPEG2000-embedded-sequence-delimiter.dcm", "pixel data could not be decoded"),
    ok("JPEG2000.dcm", (1024, 256), "int16", (0, 7, 0)),
    ok("JPEGLSNearLossless_08.dcm", (45, 10), "uint8", (255, 15, 0)),
    ok("JPEGLSNearLossless_16.dcm", (50, 10), "uint16", (65535, 255, 0)),
    ok("JPGExtended.dcm", (1024, 256), "uint16", (1, 14, 1)),
    ok("MR_small.dcm", (64, 64), "int16", (905, 182, 862)),
    ok("MR_small_RLE.dcm", (64, 64), "int16", (905, 182, 862)),
    ok("MR_small_bigendian.dcm", (64, 64), "int16", (905, 182, 862)),
    ok("MR_small_expb.dcm", (64, 64), "int16", (905, 182, 862)),
    ok("MR_small_implicit.dcm", (64, 64), "int16", (905, 182, 862)),
    ok("MR_small_jp2klossless.dcm", (64, 64), "int16", (905, 182, 862)),
    ok("MR_small_jpeg_ls_lossless.dcm", (64, 64), "int16", (905, 182, 862)),
    ok("MR_small_padded.dcm", (64, 64), "int16", (905, 182, 862)),
    err("MR_truncated.dcm", "has truncated pixel data"),
    err("README.txt", "is not a DICOM file"),
    err("SC_jpeg_no_color_transform.dcm", "is a colour image"),
    err("SC_jpeg_no_color_transform_2.dcm", "is a colour image"),
    err("SC_rgb_dcmtk_+eb+cr.dcm", "is a colour image"),
    err("SC_rgb_dcmtk_+eb+cy+n1.dcm", "is a colour image"),
    err("SC_rgb_dcmtk_+eb+cy+n2.dcm", "is a colour image"),
    err("SC_rgb_dcmtk_+eb+cy+np.dcm", "is a colour image"),
    err("SC_rgb_dcmtk_+eb+cy+s2.dcm", "is a colour image"),
    err("SC_rgb_dcmtk_+eb+cy+s4.dcm", "is a colour image"),
    err("SC_rgb_gdcm_KY.dcm", "is a colour image"),
    err("SC_rgb_jls_lossy_line.dcm", "is a colour image"),
    err("SC_rgb_jls_lossy_sample.dcm", "is a colour image"),
    err("SC_rgb_jpeg.dcm", "is a colour image"),
    err("SC_rgb_jpeg_app14_dcmd.dcm", "is a colour image"),
    err("SC_rgb_jpeg_dcmd.dcm", "is a colour image"),
    err("SC_rgb_jpeg_dcmtk.dcm", "is a colour image"),
    err("SC_rgb_jpeg_gdcm.dcm", "is a colour image"),
    err("SC_rgb_jpeg_lossy_gdcm.dcm", "is a colour image"),
    err("SC_rgb_rle.dcm", "is a colour image"),
    err("SC_rgb_rle_16bit.dcm", "is a colour image"),
    err("SC_rgb_rle_16bit_2frame.dcm", "is a colour image"),
    err("SC_rgb_rle_2frame.dcm", "is a colour image"),
    err("SC_rgb_rle_32bit.dcm", "is a colour image"),
    err("SC_rgb_rle_32bit_2frame.dcm", "is a colour image"),
    err("SC_rgb_small_odd.dcm", "is a colour image"),
    err("SC_rgb_small_odd_big_endian.dcm", "is a colour image"),
    err("SC_rgb_small_odd_jpeg.dcm", "is a colour image"),
    err("SC_ybr_full_422_uncompressed.dcm", "is a colour image"),
    err("UN_sequence.dcm", "is an image object (CT Image Storage)"),
    err("badVR.dcm", "has an invalid NumberOfFrames"),
    err("crayons.icc", "is not a DICOM file"),
    err("empty_charset_LEI.dcm", "is a non-image object"),
    err("examples_jpeg2k.dcm", "is a colour image"),
    ok("examples_overlay.dcm", (300, 484), "uint16", (0, 136, 6)),
    err("examples_palette.dcm", "is a colour image"),
    err("examples_rgb_color.dcm", "is a colour image"),
    err("examples_ybr_color.dcm", "is a colour image"),
    ok("image_dfl.dcm", (512, 512), "uint8", (213, 65, 188)),
    err("liver_1frame.dcm", "has Bits Allocated"),
    err("liver_expb_1frame.dcm", "has Bits Allocated"),
    err("meta_missing_tsyntax.dcm", "is a non-image object"),
    err("nested_priv_SQ.dcm", "is a non-image object"),
    err("no_meta.dcm", "is not a DICOM file"),
    err("no_meta_group_length.dcm", "is an image object (RT Image Storage)"),
    err("priv_SQ.dcm", "is an image object (MR Image Storage)"),
    err("reportsi.dcm", "is a structured report"),
    err("reportsi_with_empty_number_tags.dcm", "is a structured report"),
    err("rtdose.dcm", "is a multi-frame image"),
    ok("rtdose_1frame.dcm", (10, 10), "uint32", (1249000, 978000, 798000)),
    err("rtdose_expb.dcm", "is a multi-frame image"),
    ok("rtdose_expb_1frame.dcm", (10, 10), "uint32", (1249000, 978000, 798000)),
    err("rtdose_rle.dcm", "is a multi-frame image"),
    ok("rtdose_rle_1frame.dcm", (10, 10), "uint32", (1249000, 978000, 798000)),
    err("rtplan.dcm", "is a non-image object"),
    err("rtplan.dump", "is not a DICOM file"),
    err("rtplan_truncated.dcm", "is cut short"),
    err("rtstruct.dcm", "is a non-image object"),
    err("rtstruct.dump", "is not a DICOM file"),
    err("test-SR.dcm", "is a structured report"),
    err("test1.json", "is not a DICOM file"),
    err("test_PN.json", "is not a DICOM file"),
    err("waveform_ecg.dcm", "is a non-image object"),
    err("zipMR.gz", "is not a DICOM file"),
]


def _installed() -> list[str]:
    return sorted(p.name for p in TEST_FILES.iterdir() if p.is_file())


def test_corpus_is_complete() -> None:
    assert sorted(r.name for r in ROWS) == _installed()
    # The same list pydicom itself reports as its test data (top-level files).
    listed = {
        Path(p).name
        for p in pydicom.data.get_testdata_files()
        if Path(p).parent == TEST_FILES and Path(p).is_file()
    }
    assert listed == set(_installed())


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_corpus_file(row: Row) -> None:
    path = TEST_FILES / row.name
    if row.error:
        with pytest.raises(DicomError) as info:
            read_image(path)
        assert row.error in info.value.message
        assert info.value.path == str(path)
        return
    image = read_image(path)
    arr = image.stored
    assert arr.shape == row.shape and str(arr.dtype) == row.dtype
    r, c = arr.shape
    assert (int(arr[0, 0]), int(arr[r // 2, c // 2]), int(arr[r - 1, c - 1])) == row.values
    shown = render(image)
    assert shown.shape == arr.shape and shown.dtype == np.uint8
    # Independent path: pydicom's own reader and decoders on the same file, where they work.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            reference = pydicom.dcmread(path).pixel_array
        except Exception:
            reference = None
    if reference is not None:
        assert np.array_equal(arr, reference)
