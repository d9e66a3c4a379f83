"""The automatic window, the presets and the too-wide stored window rule (viewer.dicom.display).

Every image here is generated with a known histogram, so each window is asserted to the value.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.dicom.helpers import make_ds
from viewer.dicom import DisplayRenderer, Window, read_image
from viewer.dicom.display import display_presets, value_histogram
from viewer.dicom.pipeline import modality_values, stored_domain
from viewer.inference.preprocess import ModelInput


def black_white(win: Window) -> tuple[float, float]:
    """The modality values at the black and white points of a LINEAR window."""
    lo = win.center - win.width / 2
    return lo, lo + win.width - 1


def uniform(low: int = 0, high: int = 999, repeat: int = 10) -> np.ndarray:
    """Each value of low..high exactly ``repeat`` times (a flat, exactly known histogram)."""
    values = np.repeat(np.arange(low, high + 1, dtype=np.uint16), repeat)
    return values.reshape(-1, 100)


@pytest.mark.parametrize(
    ("photometric", "expected"),
    [("MONOCHROME2", (19, 998)), ("MONOCHROME1", (0, 979))],
    ids=["mono2-dark-end-low", "mono1-dark-end-high"],
)
def test_auto_window_tails_in_display_order(write, photometric, expected) -> None:  # type: ignore[no-untyped-def]
    # 0..999 ten times each: 2 % at the display's dark end, 0.1 % at its bright end.
    # MONOCHROME2: dark = low values -> 20 values (0..19) cover 2 %, white point 998.
    # MONOCHROME1: dark = high values -> 980..999 clipped, black point at 979; bright end 0.
    img = read_image(write(make_ds(uniform(), photometric=photometric, bits_stored=12)))
    assert black_white(img.auto_window) == expected
    assert img.default_window == img.auto_window  # no stored window
    # Displayed: the dark tail is black and the bright tail white, whatever the encoding.
    out = DisplayRenderer(img).render()
    dark_value = 5 if photometric == "MONOCHROME2" else 995
    bright_value = 999 if photometric == "MONOCHROME2" else 0
    assert out[img.stored == dark_value].max() == 0
    assert out[img.stored == bright_value].min() == 255


def test_auto_window_excludes_padding(write) -> None:  # type: ignore[no-untyped-def]
    arr = uniform().copy()
    arr[:, :50] = 4095  # half the image is padding at the top of the range
    img = read_image(write(make_ds(arr, bits_stored=12, PixelPaddingValue=4095)))
    lo, hi = black_white(img.auto_window)
    # Only the 5,000 non-padding pixels count; the image's values are still spread over 0..999
    # (the left half of each row), so the tails land inside 0..999, never at 4095.
    assert 0 <= lo <= 40 and 960 <= hi <= 999
    full = next(w for w in img.presets if w.explanation == "full range")
    assert black_white(full)[1] <= 999


def test_full_range_preset_is_min_max(write) -> None:  # type: ignore[no-untyped-def]
    img = read_image(write(make_ds(uniform(100, 1099), bits_stored=12)))
    full = next(w for w in img.presets if w.explanation == "full range")
    assert black_white(full) == (100, 1099)
    assert full in img.presets[1:]  # never the default


def _cr_15bit() -> np.ndarray:
    return uniform(1000, 20999, repeat=1).reshape(200, 100)  # 20,000 values 1000..20999


def test_placeholder_stored_window_is_not_the_default(write) -> None:  # type: ignore[no-untyped-def]
    # Like the WG04 CR: 15 bits stored, C 15000 / W 30000 (92 % of 0..32767), values 1000..20999
    # (span 0.5..99.5 % = 19,800 = 66 % of the window): a placeholder.
    ds = make_ds(
        _cr_15bit(),
        photometric="MONOCHROME1",
        bits_stored=15,
        WindowCenter=15000,
        WindowWidth=30000,
    )
    img = read_image(write(ds))
    stored = img.windows[0]
    assert (stored.center, stored.width) == (15000, 30000)
    assert img.wide_windows == (stored,)
    assert img.default_window == img.auto_window == img.presets[0]
    assert img.presets[-1] == stored  # still offered, last
    # MONOCHROME1: dark end = high values (2 % of 20,000 = 400 values: 20600..20999 black).
    assert black_white(img.auto_window) == (1019, 20599)
    # Inference is untouched: the model input still carries the stored window.
    assert ModelInput.from_image(img).window == (15000.0, 30000.0)


@pytest.mark.parametrize(
    ("width", "wide"),
    [(3900.0, False), (3960.0, False), (3970.0, True)],
    ids=["3.94x", "4x-edge", "4.01x"],
)
def test_very_wide_rule_at_four_times_the_span(write, width, wide) -> None:  # type: ignore[no-untyped-def]
    # 1000..1999 ten times each, 16 bits stored (the bit-depth rule is far out of reach):
    # span 0.5..99.5 % = 1994 - 1004 = 990; wider than 4 x 990 = 3960 is too wide.
    ds = make_ds(uniform(1000, 1999), bits_stored=16, WindowCenter=1500, WindowWidth=width)
    img = read_image(write(ds))
    assert (img.wide_windows != ()) is wide
    assert (img.default_window == img.windows[0]) is not wide
    assert img.presets[-1 if wide else 0] == img.windows[0]


def test_sensible_stored_window_stays_default(write) -> None:  # type: ignore[no-untyped-def]
    ds = make_ds(
        _cr_15bit(),
        bits_stored=15,
        WindowCenter=[11000, 16384],
        WindowWidth=[18000, 32768],
        WindowCenterWidthExplanation=["CHEST", "FULL"],
    )
    img = read_image(write(ds))
    assert img.wide_windows == ()
    assert img.default_window == img.windows[0] == img.presets[0]
    # A later stored "FULL" preset keeps its place and is not judged.
    assert img.presets[1] == img.windows[1]


def test_first_wide_then_sensible_stored_window(write) -> None:  # type: ignore[no-untyped-def]
    ds = make_ds(
        _cr_15bit(), bits_stored=15, WindowCenter=[16384, 11000], WindowWidth=[32768, 18000]
    )
    img = read_image(write(ds))
    assert img.wide_windows == (img.windows[0],)
    assert img.default_window == img.windows[1] == img.presets[0]


def test_eight_bit_full_window_with_a_full_image_is_kept(write) -> None:  # type: ignore[no-untyped-def]
    # An 8-bit secondary capture whose values fill 10..245 of C 127.5 / W 256: span 0.92 of it.
    arr = np.repeat(np.arange(10, 246, dtype=np.uint8), 40)[: 90 * 100].reshape(90, 100)
    img = read_image(write(make_ds(arr, WindowCenter=127.5, WindowWidth=256)))
    assert img.wide_windows == ()
    assert img.default_window == img.windows[0]


def test_chest_presets_are_histogram_bands(write) -> None:  # type: ignore[no-untyped-def]
    img = read_image(write(make_ds(uniform(), bits_stored=12, Modality="DX")))
    named = {w.explanation: black_white(w) for w in img.presets}
    # 0..999 ten times each: the p % display quantile of MONOCHROME2 is value 10 p - 1.
    assert named["lung"] == (19, 599)
    assert named["mediastinum"] == (349, 998)
    assert named["bone"] == (149, 979)
    assert [w.explanation for w in img.presets] == [
        "automatic",
        "lung",
        "mediastinum",
        "bone",
        "full range",
    ]


def test_chest_presets_mirror_for_monochrome1(write) -> None:  # type: ignore[no-untyped-def]
    img = read_image(write(make_ds(uniform(), photometric="MONOCHROME1", bits_stored=12)))
    lung = next(w for w in img.presets if w.explanation == "lung")
    # Dark end = high values: lung = the 2..60 % darkest = values 980 down to 400.
    assert black_white(lung) == (399, 979)


@pytest.mark.parametrize(
    ("attrs", "names"),
    [
        ({"Modality": "DX", "BodyPartExamined": "KNEE"}, []),
        ({"Modality": "MG"}, []),
        ({"Modality": "CR", "BodyPartExamined": "CHEST"}, ["lung", "mediastinum", "bone"]),
    ],
    ids=["knee-dx", "mammography", "chest-cr"],
)
def test_chest_presets_only_where_they_make_sense(write, attrs, names) -> None:  # type: ignore[no-untyped-def]
    img = read_image(write(make_ds(uniform(), bits_stored=12, **attrs)))
    got = [w.explanation for w in img.presets if w.explanation in ("lung", "mediastinum", "bone")]
    assert got == names


def test_hounsfield_presets_for_ct(write) -> None:  # type: ignore[no-untyped-def]
    arr = uniform(0, 2999, repeat=1).reshape(30, 100)
    ds = make_ds(arr, bits_stored=12, Modality="CT", RescaleSlope=1, RescaleIntercept=-1024)
    img = read_image(write(ds))
    named = {w.explanation: (w.center, w.width) for w in img.presets}
    assert named["lung"] == (-600, 1500)
    assert named["mediastinum"] == (50, 350)
    assert named["bone"] == (400, 1800)
    assert black_white(
        named_full := next(w for w in img.presets if w.explanation == "full range")
    ) == (-1024, 1975), named_full


def test_display_presets_without_pixels() -> None:
    arr = np.full((4, 4), 7, dtype=np.uint16)
    ds = make_ds(arr, bits_stored=12, PixelPaddingValue=7)
    domain = stored_domain(arr)
    mod = modality_values(domain.values, ds)
    # Everything is padding: the window falls back to what is there.
    choice = display_presets((), domain, mod, ds, inverse=False)
    assert black_white(choice.auto) == (7, 7)
    assert value_histogram(domain, mod, ds).total == 16
