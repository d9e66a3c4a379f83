"""The PS3.3 C.11 display pipeline: VOI functions at their edges, MONOCHROME1, padding, LUTs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.pixels.processing import apply_voi_lut

from tests.dicom.helpers import make_ds
from viewer.dicom import DisplayRenderer, Window, read_image, render
from viewer.dicom.pipeline import stored_domain, window_lut
from viewer.errors import DicomError


def lut_at(values: list[float], window: Window) -> list[int]:
    return [int(v) for v in window_lut(np.asarray(values, dtype=np.float64), window)]


# --- LINEAR, PS3.3 C.11.2.1.2.1 --------------------------------------------------------------
# c=100, w=11: x <= c - 0.5 - (w-1)/2 = 94.5 -> 0; x > c - 0.5 + (w-1)/2 = 104.5 -> 255;
# between: ((x - 99.5) / 10 + 0.5) * 255.


def test_linear_edges_exact() -> None:
    win = Window(100, 11)
    assert lut_at([94.5, 94.5001, 104.5, 104.5001], win) == [
        0,
        round(((94.5001 - 99.5) / 10 + 0.5) * 255),
        255,
        255,
    ]
    assert lut_at([-1e6, 94, 1e6], win) == [0, 0, 255]
    # Middle value of the ramp: x = 99.5 is exactly half way.
    assert lut_at([99.5], win) == [round(127.5)]
    assert lut_at([97, 102], win) == [round(0.25 * 255), round(0.75 * 255)]


def test_linear_width_one_is_a_threshold() -> None:
    # w = 1: x <= c - 0.5 -> 0, else 255 (C.11.2.1.2.1 with w - 1 = 0).
    assert lut_at([9.5, 9.51, 10, 11], Window(10, 1)) == [0, 255, 255, 255]


def test_linear_exact_edges() -> None:
    # LINEAR_EXACT (C.11.2.1.3.2): x <= c - w/2 -> 0; x > c + w/2 -> 255; else ((x-c)/w+0.5)*255.
    win = Window(100, 10, "LINEAR_EXACT")
    assert lut_at([95, 95.01, 100, 105, 105.01], win) == [
        0,
        round((95.01 - 100) / 10 * 255 + 127.5),
        round(127.5),
        255,
        255,
    ]
    # Fractional width is allowed for LINEAR_EXACT.
    assert lut_at([99.75, 100.25], Window(100, 0.5, "LINEAR_EXACT")) == [0, 255]


def test_sigmoid_values() -> None:
    # SIGMOID (C.11.2.1.3.1): y = 255 / (1 + exp(-4 (x - c) / w)).
    win = Window(50, 20, "SIGMOID")
    xs = [50.0, 40.0, 60.0, -1000.0, 1000.0]
    expected = [round(255 / (1 + math.exp(-4 * (x - 50) / 20))) for x in xs]
    assert lut_at(xs, win) == expected
    assert expected[0] == 128 and expected[3] == 0 and expected[4] == 255


@pytest.mark.parametrize(
    ("window", "fragment"),
    [
        (Window(0, 0.5), "must be >= 1 for LINEAR"),
        (Window(0, 0, "LINEAR_EXACT"), "must be > 0"),
        (Window(0, -1, "SIGMOID"), "must be > 0"),
        (Window(float("nan"), 10), "finite"),
        (Window(0, 10, "CUBIC"), "unknown VOI LUT Function"),  # type: ignore[arg-type]
    ],
    ids=["linear-w<1", "exact-w0", "sigmoid-neg", "nan", "unknown"],
)
def test_invalid_windows_refused(window: Window, fragment: str) -> None:
    with pytest.raises(DicomError, match=fragment):
        window_lut(np.arange(4, dtype=np.float64), window)


# --- MONOCHROME1 ------------------------------------------------------------------------------


def test_monochrome1_inverts_the_8bit_output_not_the_input(write, ramp16) -> None:  # type: ignore[no-untyped-def]
    win_attrs = {"WindowCenter": 1000, "WindowWidth": 1001}
    mono2 = read_image(write(make_ds(ramp16, bits_stored=12, **win_attrs), "m2.dcm"))
    mono1 = read_image(
        write(make_ds(ramp16, photometric="MONOCHROME1", bits_stored=12, **win_attrs), "m1.dcm")
    )
    out2 = DisplayRenderer(mono2).render()
    out1 = DisplayRenderer(mono1).render()
    # The same window applied, then the 8-bit result inverted: exactly 255 - y.
    assert np.array_equal(out1.astype(int), 255 - out2.astype(int))
    # Low stored values are white in MONOCHROME1.
    assert out1[0, 0] == 255 and out2[0, 0] == 0
    # max - x of the *input* would give a different image for an asymmetric window.
    wrong = DisplayRenderer(mono2).render(Window(1000, 1001)).astype(int)
    flipped_input = read_image(write(make_ds((4095 - ramp16).astype(np.uint16)), "f.dcm"))
    assert not np.array_equal(
        DisplayRenderer(flipped_input).render(Window(1000, 1001)).astype(int), 255 - wrong
    )


def test_user_invert_toggles_on_top_of_monochrome1(write, ramp16) -> None:  # type: ignore[no-untyped-def]
    img = read_image(write(make_ds(ramp16, photometric="MONOCHROME1", bits_stored=12)))
    r = DisplayRenderer(img)
    normal = r.render()
    toggled = r.render(invert=True)
    assert np.array_equal(toggled.astype(int), 255 - normal.astype(int))


# --- Pixel Padding and the automatic window -------------------------------------------------


def test_padding_excluded_from_auto_window(write) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    arr = rng.integers(1000, 2001, size=(100, 100)).astype(np.uint16)
    arr[:, :40] = 4095  # a large padded border (collimation) at the top of the range
    plain = read_image(write(make_ds(arr, bits_stored=12), "plain.dcm"))
    padded = read_image(write(make_ds(arr, bits_stored=12, PixelPaddingValue=4095), "padded.dcm"))
    # Without padding info the border dominates the upper tail.
    assert plain.auto_window.center + plain.auto_window.width / 2 > 4000
    # With it the window covers the anatomy only (1000..2000 minus the 2 % dark and 0.1 %
    # bright tails, viewer.dicom.display).
    win = padded.auto_window
    assert 1010 <= win.center - win.width / 2 <= 1030
    assert 1990 <= win.center + win.width / 2 <= 2002
    assert padded.default_window == win


def test_padding_range_limit(write) -> None:  # type: ignore[no-untyped-def]
    arr = np.full((50, 50), 500, dtype=np.uint16)
    arr[:, 25:] = np.arange(600, 625, dtype=np.uint16)
    arr[:5, :5] = 0
    arr[5:10, :5] = 3
    img = read_image(
        write(make_ds(arr, bits_stored=12, PixelPaddingValue=0, PixelPaddingRangeLimit=3))
    )
    lo = img.auto_window.center - img.auto_window.width / 2
    assert lo >= 500  # 0..3 excluded


def test_auto_window_tails_clipped(write) -> None:  # type: ignore[no-untyped-def]
    arr = np.full((100, 100), 2000, dtype=np.uint16)
    arr[:50] = 1000
    arr[0, :10] = 4095  # 0.1 % hot pixels
    arr[1, :10] = 0  # 0.1 % dead pixels
    img = read_image(write(make_ds(arr, bits_stored=12)))
    win = img.auto_window
    assert win.center - win.width / 2 == pytest.approx(999.5 + 0.5, abs=1)
    assert win.center + win.width / 2 == pytest.approx(2001, abs=1)
    # 1000 renders black and 2000 white with LINEAR.
    out = render(img)
    assert out[50, 0] == 255 and out[60, 0] == 255 and out[10, 0] == 0


# --- Stored windows, presets, Modality LUT, VOI LUT Sequence ---------------------------------


def test_stored_windows_become_presets(write, ramp16) -> None:  # type: ignore[no-untyped-def]
    ds = make_ds(
        ramp16,
        bits_stored=12,
        WindowCenter=[2048, 1000],
        WindowWidth=[4096, 500],
        WindowCenterWidthExplanation=["FULL", "BONE"],
        VOILUTFunction="SIGMOID",
    )
    img = read_image(write(ds))
    assert [(w.center, w.width, w.function, w.explanation) for w in img.windows] == [
        (2048, 4096, "SIGMOID", "FULL"),
        (1000, 500, "SIGMOID", "BONE"),
    ]
    assert img.default_window == img.windows[0]


def test_invalid_stored_window_skipped(write, ramp16) -> None:  # type: ignore[no-untyped-def]
    ds = make_ds(ramp16, bits_stored=12, WindowCenter=[10, 2000], WindowWidth=[0, 100])
    img = read_image(write(ds))
    assert [(w.center, w.width) for w in img.windows] == [(2000, 100)]


def test_rescale_matches_pydicom_float_pipeline(write) -> None:  # type: ignore[no-untyped-def]
    arr = (np.arange(0, 4096, dtype=np.int16).reshape(64, 64) - 1024).astype(np.int16)
    ds = make_ds(
        arr,
        bits_stored=16,
        RescaleSlope=2,
        RescaleIntercept=-100,
        WindowCenter=-200,
        WindowWidth=3001,
    )
    img = read_image(write(ds))
    assert img.modality.dtype == np.float32
    assert np.array_equal(img.modality, arr.astype(np.float32) * 2 - 100)
    ours = render(img).astype(int)
    # Reference: pydicom's float pipeline on the whole image, scaled to 8 bits.
    ref_ds = Dataset()
    ref_ds.update(img.header)
    ref = apply_voi_lut(img.modality.astype(np.float64), _as_8bit_output(ref_ds))
    assert np.abs(ours - np.rint(ref)).max() <= 0  # identical: same formula, same rounding


def _as_8bit_output(ds: Dataset) -> Dataset:
    ds.BitsStored = 8
    ds.PixelRepresentation = 0
    del ds.RescaleSlope
    del ds.RescaleIntercept
    return ds


def test_modality_lut_sequence(write) -> None:  # type: ignore[no-untyped-def]
    arr = np.array([[0, 1], [2, 3]], dtype=np.uint16)
    item = Dataset()
    item.LUTDescriptor = [4, 0, 16]
    item.add_new(0x00283006, "US", [10, 20, 40, 80])  # LUT Data
    item.ModalityLUTType = "US"
    ds = make_ds(arr, bits_stored=12, WindowCenter=45.5, WindowWidth=71)
    ds.ModalityLUTSequence = [item]
    img = read_image(write(ds))
    assert img.modality.tolist() == [[10, 20], [40, 80]]
    out = render(img)
    assert out[0, 0] == 0 and out[1, 1] == 255


def test_voi_lut_sequence_preset(write) -> None:  # type: ignore[no-untyped-def]
    arr = np.array([[0, 1, 2, 3]], dtype=np.uint16)
    item = Dataset()
    item.LUTDescriptor = [4, 0, 8]
    item.add_new(0x00283006, "US", [0, 255, 100, 50])
    item.LUTExplanation = "SOFT"
    ds = make_ds(arr, bits_stored=12, WindowCenter=1, WindowWidth=2)
    ds.VOILUTSequence = [item]
    img = read_image(write(ds))
    assert img.windows[0].lut_index == 0 and img.windows[0].explanation == "SOFT"
    assert img.windows[1].lut_index is None  # the window follows the LUT
    assert render(img).tolist() == [[0, 255, 100, 50]]
    # 16-bit LUT output scaled to 8 bits.
    item.LUTDescriptor = [4, 0, 16]
    item.add_new(0x00283006, "US", [0, 65535, 257 * 100, 257 * 50])
    img = read_image(write(ds, "lut16.dcm"))
    assert render(img).tolist() == [[0, 255, 100, 50]]


def test_signed_domain_is_a_view() -> None:
    arr = np.array([[-32768, -1, 0, 32767]], dtype=np.int16)
    dom = stored_domain(arr)
    assert np.shares_memory(dom.index, arr)
    assert dom.values[dom.index].tolist() == arr.tolist()


def test_rewindow_reuses_the_table(write, ramp16) -> None:  # type: ignore[no-untyped-def]
    img = read_image(write(make_ds(ramp16, bits_stored=12)))
    r = DisplayRenderer(img)
    a = r.render(Window(2048, 4096))
    b = r.render(Window(1000, 100))
    assert a.dtype == np.uint8 and a.shape == ramp16.shape
    assert not np.array_equal(a, b)
    assert r.lut(Window(1000, 100)) is r.lut(Window(1000, 100))
    assert r.value_at(0, 5) == (5, 5.0)


def test_large_image_parallel_lookup_matches(write) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    arr = rng.integers(0, 4096, size=(1100, 1000)).astype(np.uint16)
    img = read_image(write(make_ds(arr, bits_stored=12)))
    r = DisplayRenderer(img)
    win = Window(2000, 1000)
    assert np.array_equal(r.render(win), r.lut(win)[arr])


@pytest.mark.parametrize(
    ("photometric", "shape", "inverted"),
    [
        ("MONOCHROME1", None, True),
        ("MONOCHROME2", None, False),
        ("MONOCHROME2", "INVERSE", True),
        ("MONOCHROME1", "IDENTITY", False),
        ("MONOCHROME1", "INVERSE", True),
    ],
    ids=["m1", "m2", "m2-inverse", "m1-identity", "m1-inverse"],
)
def test_presentation_lut_shape_decides_polarity(
    write, ramp16, photometric: str, shape: str | None, inverted: bool
) -> None:  # type: ignore[no-untyped-def]
    attrs = {"PresentationLUTShape": shape} if shape else {}
    img = read_image(write(make_ds(ramp16, photometric=photometric, bits_stored=12, **attrs)))
    out = DisplayRenderer(img).render(Window(2048, 4096))
    # ramp16 starts at 0: black unless the output is inverted.
    assert out[0, 0] == (255 if inverted else 0)


def test_ignored_window_is_noted(write, ramp16) -> None:  # type: ignore[no-untyped-def]
    img = read_image(write(make_ds(ramp16, bits_stored=12, WindowCenter=10, WindowWidth=0)))
    assert img.windows == () and img.default_window == img.auto_window
    assert any("stored window 1 ignored" in note for note in img.notes)


@pytest.mark.parametrize(
    ("descriptor", "data"),
    [([65535, 0, 16], [0, 100]), ([4, 0, 8], [])],
    ids=["data_shorter_than_descriptor", "empty_data"],
)
def test_invalid_voi_lut_item_is_not_a_preset(write, descriptor, data) -> None:  # type: ignore[no-untyped-def]
    """A VOI LUT Sequence item whose LUT Data (0028,3006) does not match its descriptor is
    dropped with a note naming it; the image still shows with its window, and a renderer error
    (if one is ever raised) names the file."""
    arr = np.array([[0, 1, 2, 3]], dtype=np.uint16)
    item = Dataset()
    item.LUTDescriptor = descriptor
    item.add_new(0x00283006, "US", data)
    ds = make_ds(arr, bits_stored=12, WindowCenter=1, WindowWidth=2)
    ds.VOILUTSequence = [item]
    path = write(ds)
    img = read_image(path)
    assert all(w.lut_index is None for w in img.windows)
    assert any("VOI LUT Sequence item 1 ignored" in n for n in img.notes)
    renderer = DisplayRenderer(img)
    assert renderer.render().shape == (1, 4)
    with pytest.raises(DicomError) as info:
        renderer.render(Window(center=2, width=4, lut_index=0))
    assert info.value.path == str(path)
