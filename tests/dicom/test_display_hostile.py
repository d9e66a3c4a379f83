"""A stored window that misses every value of the image (Window Center 1e308, or 0 for values
1000..1999) is not the default: it drew the whole image in one grey ("window C 1e+308 / W 100")
as the first thing a reader saw. It stays a preset, last, marked; the model's input keeps it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dicom.helpers import make_ds
from tests.dicom.test_display import uniform
from viewer.dicom import read_image
from viewer.inference.preprocess import ModelInput


@pytest.mark.parametrize(
    ("center", "width", "outside"),
    [
        (1e308, 100.0, True),
        (0.0, 100.0, True),
        (2100.0, 100.0, True),
        (1000.0, 100.0, False),
        (1500.0, 10.0, False),
    ],
    ids=["center-1e308", "all-below", "just-above", "touching-the-darkest", "narrow-inside"],
)
def test_a_stored_window_outside_the_image_is_not_the_default(
    write: Any, center: float, width: float, outside: bool
) -> None:
    # values 1000..1999 ten times each: 0.5 .. 99.5 % = 1004 .. 1994
    ds = make_ds(uniform(1000, 1999), bits_stored=16, WindowCenter=center, WindowWidth=width)
    img = read_image(write(ds))
    stored = img.windows[0]
    assert (img.outside_windows == (stored,)) is outside
    assert (img.default_window == stored) is not outside
    assert img.presets[-1 if outside else 0] == stored  # still offered
    assert img.wide_windows == ()
    assert ModelInput.from_image(img).window == (center, width)  # inference untouched
