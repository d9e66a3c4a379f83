"""The window menu in the main window: automatic default for a too-wide stored window, chest
presets, full range, and the stored window still offered with its reason (#14 item 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtWidgets import QComboBox

from tests.ui.mainwin import WAIT_MS, find, make_window
from viewer.config import Settings
from viewer.dicom import DisplayRenderer, read_image
from viewer.dicom.synthetic import make_cxr

__all__ = ["make_window"]  # fixture imported for pytest


def _cr(tmp_path: Path, name: str, **windows: Any) -> Path:
    ds = make_cxr(3, opacity=False, photometric="MONOCHROME1", size=(160, 160), bits_stored=15)
    for key, value in windows.items():
        setattr(ds, key, value)
    if windows:  # one stored window instead of make_cxr's two named ones
        del ds.WindowCenterWidthExplanation
        # values squeezed into 800..20,800 of the 15 bits, as a CR's raw data often are
        squeezed = 800 + ds.pixel_array.astype(np.float64) * (20000 / 32767)
        ds.PixelData = np.rint(squeezed).astype("<u2").tobytes()
    path = tmp_path / name
    ds.save_as(path, enforce_file_format=True)
    return path


def _labels(combo: QComboBox) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def test_too_wide_stored_window_gets_the_automatic_one(
    qtbot: Any, make_window: Any, settings: Settings, tmp_path: Path
) -> None:
    # A generated 15-bit MONOCHROME1 CR with the WG04 sample's placeholder C 15000 / W 30000.
    path = _cr(tmp_path, "wide.dcm", WindowCenter=15000, WindowWidth=30000)
    image = read_image(path)
    assert image.wide_windows == image.windows  # the rule fires on the generated data
    window = make_window(settings, [path])
    combo = find(window, QComboBox, "windowPresets")
    qtbot.waitUntil(lambda: combo.count() > 1, timeout=WAIT_MS)
    labels = _labels(combo)
    assert [label.split(":")[0] for label in labels] == ["1", "2", "3", "4", "5", "6", "Custom"]
    assert labels[0].startswith("1: automatic: C ")
    assert labels[1].startswith("2: Lung: C ")
    assert labels[2].startswith("3: Mediastinum: C ")
    assert labels[3].startswith("4: Bone: C ")
    assert labels[4].startswith("5: Full range: C ")
    assert labels[5] == "6: C 15000 / W 30000 (too wide: not used by default)"
    assert combo.currentIndex() == 0
    view = window.view
    assert view.voi == image.auto_window
    np.testing.assert_array_equal(
        view.displayed_buffer(), DisplayRenderer(image).render(image.auto_window)
    )
    # Key 6 / the menu's sixth entry: the stored window is one choice away.
    window.apply_preset(5)
    assert (view.voi.center, view.voi.width) == (15000.0, 30000.0)
    assert combo.currentIndex() == 5
    window.apply_preset(4)
    lo = view.voi.center - view.voi.width / 2
    assert (lo, lo + view.voi.width - 1) == (
        float(image.modality.min()),
        float(image.modality.max()),
    )


def test_sensible_stored_window_stays_first_and_default(
    qtbot: Any, make_window: Any, settings: Settings, tmp_path: Path
) -> None:
    path = _cr(tmp_path, "stored.dcm")  # make_cxr's own "CHEST" and "FULL RANGE" windows
    image = read_image(path)
    assert image.wide_windows == ()
    window = make_window(settings, [path])
    combo = find(window, QComboBox, "windowPresets")
    qtbot.waitUntil(lambda: combo.count() > 1, timeout=WAIT_MS)
    labels = _labels(combo)
    assert labels[0].startswith("1: CHEST: C ") and labels[1].startswith("2: FULL RANGE: C ")
    assert labels[2].startswith("3: automatic: C ")
    assert not any("too wide" in label for label in labels)
    assert combo.currentIndex() == 0 and window.view.voi == image.windows[0]


def test_a_stored_window_outside_the_image_is_offered_last_with_its_reason(
    qtbot: Any, make_window: Any, settings: Settings, tmp_path: Path
) -> None:
    # values 800..20,800; a stored C 100 / W 100 covers none of them: one grey if shown
    path = _cr(tmp_path, "outside.dcm", WindowCenter=100, WindowWidth=100)
    image = read_image(path)
    assert image.outside_windows == image.windows
    window = make_window(settings, [path])
    combo = find(window, QComboBox, "windowPresets")
    qtbot.waitUntil(lambda: combo.count() > 1, timeout=WAIT_MS)
    labels = _labels(combo)
    assert labels[-2] == "6: C 100 / W 100 (outside this image's values: not used by default)"
    assert combo.currentIndex() == 0 and window.view.voi == image.auto_window
