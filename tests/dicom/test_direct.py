"""The pydicom-free render (viewer.dicom.direct) gives pixel for pixel what read_image gives.

Every file of pydicom's wheel and the generator's variants (MONOCHROME1, rescale, padding,
signed and unused bits, several windows, the VOI LUT functions, implicit VR, 8 and 32 bits):
either the direct path reads it and every preset renders identically to the pydicom path, or it
answers None and ``read_display`` is the pydicom path (Modality and VOI LUT Sequences,
compressed, trailing elements, truncated pixel data). The direct path's own equations
(pipeline.rescale and the three window functions) are checked against pydicom's
``apply_modality_lut`` and ``apply_windowing``, which read_image uses, at their edges.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pydicom.data
import pytest
from pydicom.dataset import Dataset
from pydicom.pixels.processing import apply_modality_lut, apply_windowing
from pydicom.uid import ImplicitVRLittleEndian, RLELossless

from tests.dicom.helpers import make_ds, save
from viewer.dicom import DicomImage, read_image
from viewer.dicom.direct import DirectImage, read_direct, read_display
from viewer.dicom.model import Window
from viewer.dicom.pipeline import (
    DisplayRenderer,
    equation_window_lut,
    linear_exact_window,
    linear_window,
    rescale,
    sigmoid_window,
    window_lut,
)
from viewer.dicom.synthetic import make_cxr
from viewer.errors import DicomError

ROOT = Path(__file__).resolve().parents[2]
TEST_FILES = Path(pydicom.data.__file__).parent / "test_files"
CORPUS = sorted(TEST_FILES.glob("*.dcm"))
# The wheel's files the direct path reads (uncompressed little-endian monochrome single frames
# with plain values); every other one is the pydicom path's
DIRECT_IN_CORPUS = {
    "CT_small.dcm",  # followed by Data Set Trailing Padding (FFFC,FFFC)
    "MR_small.dcm",
    "MR_small_implicit.dcm",
    "examples_overlay.dcm",
    "rtdose_1frame.dcm",
}


def _same(direct: DirectImage, full: DicomImage) -> None:
    assert direct.meta == full.meta
    assert direct.stored.dtype == full.stored.dtype
    assert np.array_equal(direct.stored, full.stored)
    assert direct.windows == full.windows
    assert direct.presets == full.presets
    assert (direct.default_window, direct.auto_window) == (full.default_window, full.auto_window)
    ours, theirs = DisplayRenderer(direct), DisplayRenderer(full)
    for window in (None, *full.presets):
        for invert in (False, True):
            a = ours.render(window, invert=invert)
            b = theirs.render(window, invert=invert)
            assert a.dtype == b.dtype == np.uint8
            assert np.array_equal(a, b), (window, invert)


def _outcome(path: Path) -> tuple[DirectImage | None, DicomImage | None, str]:
    try:
        full: DicomImage | None = read_image(path)
        message = ""
    except DicomError as exc:
        full, message = None, str(exc)
    try:
        direct = read_direct(path)
    except DicomError as exc:
        assert str(exc) == message  # refused from the header with read_image's words
        return None, full, message
    return direct, full, message


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_pydicom_corpus_direct_equals_full(path: Path) -> None:
    direct, full, message = _outcome(path)
    if direct is None:
        assert path.name not in DIRECT_IN_CORPUS
        if full is not None:
            assert isinstance(read_display(path), DicomImage)  # the fallback is read_image
        return
    assert path.name in DIRECT_IN_CORPUS, "a new direct file: check it and list it"
    assert full is not None, message
    _same(direct, full)


def test_the_corpus_list_is_what_the_wheel_ships() -> None:
    assert {p.name for p in CORPUS} >= DIRECT_IN_CORPUS


def _signed() -> Dataset:
    arr = np.array([[-2048, -1, 0, 5], [2047, -2000, 100, -7]], dtype=np.int16)
    ds = make_ds(arr, bits_stored=12, PixelPaddingValue=-2000)
    raw = np.frombuffer(ds.PixelData, dtype="<u2").copy()
    raw[1] |= 0x7000  # unused high bits set (PS3.5 8.1.1): the shift must discard them
    ds.PixelData = raw.tobytes()
    return ds


def _unused_bits() -> Dataset:
    arr = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 60) | 0xF000
    return make_ds(arr, bits_stored=12, WindowCenter=2000, WindowWidth=1000)


def _ramp(dtype: str = "uint16", shape: tuple[int, int] = (16, 24)) -> np.ndarray:
    top = {"uint8": 255, "uint16": 4095, "uint32": 70000}[dtype]
    return np.linspace(0, top, shape[0] * shape[1]).reshape(shape).astype(dtype)


def _implicit() -> Dataset:
    ds = make_cxr(3, opacity=False, size=(64, 48))
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    return ds


def _lut(
    descriptor: list[int], data: list[int] | bytes, explanation: str = "", vr: str = "US"
) -> Dataset:
    item = Dataset()
    item.add_new(0x00283002, "US", descriptor)
    if explanation:
        item.LUTExplanation = explanation
    item.add_new(0x00283006, vr, data)
    return item


def _with_luts(
    *, voi: list[Dataset] | None = None, modality: Dataset | None = None, undefined: bool = False
) -> Dataset:
    ds = make_ds(_ramp(), bits_stored=12, WindowCenter=2000, WindowWidth=1000)
    if voi is not None:
        ds.VOILUTSequence = voi
    if modality is not None:
        ds.ModalityLUTSequence = [modality]
    for keyword in ("VOILUTSequence", "ModalityLUTSequence"):
        if keyword in ds:
            ds[keyword].is_undefined_length = undefined
            for item in ds[keyword].value:
                item.is_undefined_length_sequence_item = undefined
    return ds


def _lut_variants() -> dict[str, Dataset]:
    steps = [int(v) for v in np.linspace(0, 255, 4096)]
    words = [int(v) for v in np.linspace(0, 65535, 2048)]
    ow = np.asarray(words, dtype="<u2").tobytes()
    return {
        "voi-lut-8bit": _with_luts(voi=[_lut([4096, 0, 8], steps, "SOFT")]),
        "voi-lut-16bit-undefined-lengths": _with_luts(
            voi=[_lut([2048, 1000, 16], words)], undefined=True
        ),
        "voi-lut-ow": _with_luts(voi=[_lut([2048, 500, 16], ow, "OW LUT", "OW")]),
        "voi-luts-two-items-one-short": _with_luts(
            voi=[_lut([4096, 0, 8], steps[:100], "SHORT"), _lut([2048, 0, 12], words, "B")]
        ),
        "modality-lut": _with_luts(modality=_lut([4096, 0, 16], [v * 3 for v in range(4096)])),
        "modality-lut-first-mapped-and-voi": _with_luts(
            modality=_lut([1000, 500, 16], [v * 7 for v in range(1000)]),
            voi=[_lut([4096, 0, 8], steps)],
        ),
    }


def _variants() -> dict[str, Dataset]:
    ramp = _ramp()
    return {
        "cxr-mono2": make_cxr(1, opacity=True, size=(96, 80)),
        "cxr-mono1": make_cxr(2, opacity=True, photometric="MONOCHROME1", size=(96, 80)),
        "cxr-dx-16bit": make_cxr(4, opacity=False, modality="DX", bits_stored=16, size=(64, 64)),
        "implicit-vr": _implicit(),
        "rescale": make_ds(ramp, bits_stored=12, RescaleSlope=2, RescaleIntercept=-1000),
        "ct-hounsfield": make_ds(
            ramp, bits_stored=12, Modality="CT", RescaleSlope=1, RescaleIntercept=-1024
        ),
        "fractional-rescale": make_ds(
            ramp, bits_stored=12, RescaleSlope="0.25", RescaleIntercept="-3.5", RescaleType="US"
        ),
        "padding-range": make_ds(
            ramp, bits_stored=12, PixelPaddingValue=0, PixelPaddingRangeLimit=300
        ),
        "signed-padding-unused-bits": _signed(),
        "unsigned-unused-bits": _unused_bits(),
        "two-windows": make_ds(
            ramp,
            bits_stored=12,
            WindowCenter=[1000, 3000],
            WindowWidth=[400, 2000],
            WindowCenterWidthExplanation=["SOFT", "BONE"],
        ),
        "too-wide-window": make_ds(ramp, bits_stored=12, WindowCenter=2048, WindowWidth=40960),
        "sigmoid": make_ds(
            ramp, bits_stored=12, WindowCenter=2000, WindowWidth=900, VOILUTFunction="SIGMOID"
        ),
        "linear-exact": make_ds(
            ramp, bits_stored=12, WindowCenter=2000, WindowWidth=0.5, VOILUTFunction="LINEAR_EXACT"
        ),
        "bad-window-ignored": make_ds(ramp, bits_stored=12, WindowCenter=10, WindowWidth=0),
        "presentation-inverse": make_ds(ramp, bits_stored=12, PresentationLUTShape="INVERSE"),
        "mono1-identity": make_ds(
            ramp, photometric="MONOCHROME1", bits_stored=12, PresentationLUTShape="IDENTITY"
        ),
        "8-bit-odd": make_ds(_ramp("uint8", (5, 3))),
        "32-bit": make_ds(_ramp("uint32", (6, 10)), bits_stored=32),
    }


@pytest.mark.parametrize("name", list(_variants()))
def test_generated_variants_direct_equals_full(name: str, tmp_path: Path) -> None:
    path = save(_variants()[name], tmp_path / f"{name}.dcm")
    direct, full, message = _outcome(path)
    assert direct is not None and full is not None, message
    _same(direct, full)


@pytest.mark.parametrize("name", list(_lut_variants()))
def test_lut_sequences_are_read_images(name: str, tmp_path: Path) -> None:
    """A Modality or VOI LUT Sequence: pydicom's apply_modality_lut / apply_voi, so the direct
    path answers None and the render is read_image's, every preset."""
    path = save(_lut_variants()[name], tmp_path / f"{name}.dcm")
    assert read_direct(path) is None
    image = read_display(path)
    assert isinstance(image, DicomImage)
    assert image.presets == read_image(path).presets
    assert ("voi" in name) == any(w.lut_index is not None for w in image.presets)


def _lut_item() -> Dataset:
    item = Dataset()
    item.LUTDescriptor = [4, 0, 8]
    item.add_new(0x00283006, "US", [0, 255, 100, 50])
    return item


def _fallbacks(tmp_path: Path) -> dict[str, Path]:
    ramp = _ramp()
    implicit_voi = make_ds(ramp, bits_stored=12, WindowCenter=1, WindowWidth=2)
    implicit_voi.VOILUTSequence = [_lut_item()]
    implicit_voi.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    more = _lut_item()
    more.LUTFunction = "TABLE"  # an element the direct path does not read in an item
    modality = make_ds(ramp, bits_stored=12)
    modality.ModalityLUTSequence = [more]
    trailing = make_ds(ramp, bits_stored=12)
    trailing.add_new(0x7FE10010, "OB", b"\x00" * 8)  # a private element after Pixel Data
    rle = make_cxr(5, opacity=False, size=(32, 32))
    rle.compress(RLELossless)
    multi_rescale = make_ds(ramp, bits_stored=12, RescaleSlope=1)
    multi_rescale.add_new(0x00281052, "DS", ["1", "2"])
    slope_only = make_ds(ramp, bits_stored=12, RescaleSlope=2)  # pydicom: no rescale then
    cs_multi = make_ds(ramp, bits_stored=12)
    cs_multi.add_new(0x00281056, "CS", ["LINEAR", "SIGMOID"])
    return {
        name: save(ds, tmp_path / f"{name}.dcm")
        for name, ds in {
            "voi-lut-sequence-implicit-vr": implicit_voi,
            "lut-item-with-another-element": modality,
            "element-after-pixel-data": trailing,
            "rle": rle,
            "multi-valued-rescale": multi_rescale,
            "rescale-slope-without-intercept": slope_only,
            "multi-valued-voi-function": cs_multi,
        }.items()
    }


def test_what_the_direct_path_does_not_read_is_read_image(tmp_path: Path) -> None:
    for name, path in _fallbacks(tmp_path).items():
        assert read_direct(path) is None, name
        try:
            expected: Any = DisplayRenderer(read_image(path)).render()
        except DicomError as exc:
            expected = str(exc)
        try:
            image = read_display(path)
            assert isinstance(image, DicomImage), name
            got: Any = DisplayRenderer(image).render()
        except DicomError as exc:
            got = str(exc)
        if isinstance(expected, str):
            assert got == expected, name
        else:
            assert np.array_equal(got, expected), name


def test_truncated_and_oversized_files_get_read_images_message(tmp_path: Path) -> None:
    path = save(make_ds(_ramp(), bits_stored=12), tmp_path / "cut.dcm")
    path.write_bytes(path.read_bytes()[:-100])
    assert read_direct(path) is None
    with pytest.raises(DicomError, match="truncated pixel data"):
        read_display(path)
    big = make_ds(np.zeros((2, 2), np.uint16), bits_stored=12)
    big.Rows = 20000  # refused from the header, before any pixel byte
    path = save(big, tmp_path / "big.dcm")
    with pytest.raises(DicomError) as direct_error:
        read_direct(path)
    with pytest.raises(DicomError) as full_error:
        read_image(path)
    assert str(direct_error.value) == str(full_error.value)
    assert "limit" in str(direct_error.value)


_EQUATIONS = {
    "LINEAR": linear_window,
    "LINEAR_EXACT": linear_exact_window,
    "SIGMOID": sigmoid_window,
}
# (center, width): ordinary, LINEAR's narrowest (a step), tiny, fractional, huge (where
# center +- width / 2 rounds: the ends are compared as the standard states them, not clipped)
_WINDOWS = [
    (40.0, 400.0),
    (0.5, 1.0),
    (100.0, 1.0),
    (7.25, 1.0000001),
    (0.0, 1e-9),
    (2047.3, 2.75),
    (1e16, 5.0),
    (-3e15, 3.0),
    (1e300, 1e300),
]


def _values(center: float, width: float) -> np.ndarray:
    """Random values around the window, its ends and their neighbours, and far values."""
    rng = np.random.default_rng(3)
    ends = [center - 0.5 - (width - 1) / 2, center - 0.5 + (width - 1) / 2]
    ends += [center - width / 2, center + width / 2, center, center - 0.5]
    near = [np.nextafter(e, d) for e in ends for d in (-np.inf, np.inf)]
    spread = rng.uniform(-3, 3, 2000) * max(width, 1.0) + center
    far = [-1e308, 1e308, -5000.0, 65535.0, 0.0]
    return np.concatenate([ends, near, spread, far, rng.uniform(-3000, 5000, 2000)])


@pytest.mark.parametrize(
    ("function", "center", "width"),
    [(f, c, w) for f in _EQUATIONS for c, w in _WINDOWS if f != "LINEAR" or w >= 1],
)
def test_window_equations_are_pydicoms(function: str, center: float, width: float) -> None:
    """The direct path's equations give pydicom's apply_windowing floats (read_image's), and
    the 8-bit tables of both paths are identical."""
    values = _values(center, width)
    ds = Dataset()
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsStored = 8
    ds.PixelRepresentation = 0
    ds.WindowCenter = center
    ds.WindowWidth = width
    ds.VOILUTFunction = function
    with np.errstate(over="ignore", invalid="ignore"):
        theirs = apply_windowing(values.copy(), ds)
        direct = equation_window_lut(values, Window(center, width, function))  # type: ignore[arg-type]
        full = window_lut(values, Window(center, width, function))  # type: ignore[arg-type]
    ours = _EQUATIONS[function](values, center, width)
    assert np.array_equal(ours, theirs)
    assert np.array_equal(direct, full)


@pytest.mark.parametrize(
    ("slope", "intercept", "dtype"),
    [
        ("1", "-1024", "uint16"),
        ("0.25", "-3.5", "uint16"),
        ("3", "0", "int16"),
        ("1e-12", "7.5e15", "int16"),
        ("-1E10", "1e300", "uint32"),
    ],
)
def test_rescale_is_pydicoms(slope: str, intercept: str, dtype: str) -> None:
    ds = make_ds(np.zeros((1, 1), np.uint16), RescaleSlope=slope, RescaleIntercept=intercept)
    values = np.arange(65536).astype(np.uint16).view(np.dtype(dtype).newbyteorder("="))
    if dtype == "uint32":
        values = np.array([0, 1, 2**31, 2**32 - 1], dtype=np.uint32)
    ours = rescale(values, float(slope), float(intercept))
    assert np.array_equal(ours, apply_modality_lut(values, ds))
    # both absent: pydicom leaves the values, the direct path takes m = 1, b = 0
    assert np.array_equal(rescale(values, 1.0, 0.0), values.astype(np.float64))


def test_render_of_an_uncompressed_file_imports_no_pydicom_pil_or_pydantic(
    tmp_path: Path,
) -> None:
    """CI-cheap (not timed): the command as a user runs it, in a fresh process."""
    path = save(make_cxr(6, opacity=True, size=(64, 64)), tmp_path / "cxr.dcm")
    out = tmp_path / "o.png"
    code = (
        "import sys; from viewer.cli.main import main; "
        f"status = main(['dicom', 'render', {str(path)!r}, '--out', {str(out)!r}]); "
        "print(status, sorted({m.split('.')[0] for m in sys.modules} "
        "& {'pydicom', 'PIL', 'pydantic'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stderr
    assert out.read_bytes().startswith(b"\x89PNG")
