"""A large JPEG 2000 image shows a reduced-resolution preview first (issue 14), captioned and
inert, then the full image replaces it unchanged; the preview is never scored or measured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.dicom.test_preview import _j2k
from tests.ui.mainwin import make_window
from tests.waits import WAIT_MS
from viewer.dicom import read_image

__all__ = ["make_window"]  # fixture imported for pytest


def test_preview_first_then_the_full_image(
    qtbot: Any, make_window: Any, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cr.dcm"
    _j2k(path, (2400, 2000))
    window = make_window(settings, [])
    events: list[tuple[str, Any]] = []
    show_preview = window.view.show_loading_preview
    set_image = window.view.set_image

    def spy_preview(pixels: Any) -> None:
        events.append(("preview", pixels.shape))
        show_preview(pixels)
        # while the preview is up nothing can act on it: no image, no tools, no score
        assert window.view.image is None
        assert window.shown.image is None

    def spy_set(image: Any, *args: Any) -> None:
        events.append(("full", image.stored.shape))
        set_image(image, *args)

    monkeypatch.setattr(window.view, "show_loading_preview", spy_preview)
    monkeypatch.setattr(window.view, "set_image", spy_set)
    window.open_image(str(path))
    qtbot.waitUntil(lambda: window.shown.image is not None, timeout=WAIT_MS)
    # the preview is handed over before the full decode starts, in the same job
    assert [kind for kind, _shape in events] == ["preview", "full"]
    assert dict(events)["preview"] == (600, 500)
    assert not window.view.showing_loading_preview()
    # the full image is the one decoded from the file, not the preview
    assert np.array_equal(window.view.image.stored, read_image(path).stored)


def test_a_late_preview_never_covers_the_full_image(
    qtbot: Any, make_window: Any, settings: Any, tmp_path: Path
) -> None:
    path = tmp_path / "cr.dcm"
    _j2k(path, (2400, 2000))
    window = make_window(settings, [])
    window.open_image(str(path))
    qtbot.waitUntil(lambda: window.shown.image is not None, timeout=WAIT_MS)
    window.view.show_loading_preview(np.zeros((600, 500), np.uint8))
    assert not window.view.showing_loading_preview()
    window._preview_read(window.shown, np.zeros((600, 500), np.uint8))
    assert not window.view.showing_loading_preview()
