"""Image view: stored window, window/level by right-drag and presets, zoom, transforms, distance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from tests.waits import WAIT_MS
from viewer.dicom import DisplayRenderer, read_image
from viewer.dicom.synthetic import make_cxr
from viewer.ui.qt_image_view import QtImageView, distance_text


@pytest.fixture
def view(qtbot: Any, cxr_path: Path) -> QtImageView:
    v = QtImageView()
    qtbot.addWidget(v)
    v.resize(600, 600)
    v.show()
    image = read_image(cxr_path)
    v.set_image(image, DisplayRenderer(image))
    return v


def _mouse(view: QtImageView, kind: Any, pos: QPoint, button: Any, buttons: Any) -> None:
    ev = QMouseEvent(
        kind,
        QPointF(pos),
        QPointF(view.mapToGlobal(pos)),
        button,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(view, ev)


def _drag(view: QtImageView, button: Any, start: QPoint, steps: list[QPoint]) -> None:
    _mouse(view, QMouseEvent.Type.MouseButtonPress, start, button, button)
    for p in steps:
        _mouse(view, QMouseEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, button)
    _mouse(view, QMouseEvent.Type.MouseButtonRelease, steps[-1], button, Qt.MouseButton.NoButton)


def test_opens_with_the_stored_window(view: QtImageView) -> None:
    image = view.image
    assert image.windows, "the generated CR stores a window"
    assert view.voi == image.windows[0]
    expected = DisplayRenderer(image).render(image.windows[0])
    np.testing.assert_array_equal(view.displayed_buffer(), expected)


def test_right_drag_changes_window_and_renders_full_resolution(
    qtbot: Any, view: QtImageView
) -> None:
    before = view.voi
    c = view.rect().center()
    # wider to the right, brighter (lower centre) upwards; many moves are coalesced
    _drag(view, Qt.MouseButton.RightButton, c, [c + QPoint(i * 4, -i * 3) for i in range(1, 30)])
    after = view.voi
    assert after.width > before.width
    assert after.center > before.center
    expected = DisplayRenderer(view.image).render(after)
    np.testing.assert_array_equal(view.displayed_buffer(), expected)
    assert view.render_count < 30, "drag events were not coalesced"


def test_presets_stored_first_then_automatic(view: QtImageView) -> None:
    presets = view.presets()
    assert presets[: len(view.image.windows)] == list(view.image.windows)
    assert presets[len(view.image.windows)] == view.image.auto_window
    assert presets == list(view.image.presets)  # then chest presets and full range
    assert view.apply_preset(len(view.image.windows))
    assert view.voi == view.image.auto_window
    assert not view.apply_preset(len(presets))


def test_invert_is_the_complement(view: QtImageView) -> None:
    normal = view.displayed_buffer().copy()
    view.set_invert(True)
    np.testing.assert_array_equal(view.displayed_buffer(), 255 - normal)


def test_zoom_fit_actual_size(view: QtImageView) -> None:
    view.fit()
    fit_zoom = view.zoom
    assert fit_zoom == pytest.approx(600 / 256, rel=0.05)
    view.actual_size()
    assert view.zoom == 1.0
    view.zoom_by(2.0, QPointF(300, 300))
    assert view.zoom == 2.0


@pytest.mark.parametrize(("rot", "flip"), [(0, False), (90, False), (180, True), (270, True)])
def test_transform_round_trip(view: QtImageView, rot: int, flip: bool) -> None:
    for _ in range(rot // 90):
        view.rotate90()
    if flip:
        view.flip()
    assert view.rotation == rot and view.flip_h == flip
    for x, y in [(0.0, 0.0), (100.0, 30.0), (255.0, 255.0)]:
        w = view.to_widget(x, y)
        assert view.to_image(w) == pytest.approx((x, y), abs=1e-6)


def test_rotation_moves_the_image_corner(view: QtImageView) -> None:
    top_left = view.to_widget(0, 0)
    view.rotate90()  # clockwise: the image's top-left goes to the top-right of the screen
    rotated = view.to_widget(0, 0)
    assert rotated.x() > top_left.x() + 100


def test_measurement_with_pixel_spacing_says_mm_and_source(view: QtImageView) -> None:
    spacing = view.image.meta.pixel_spacing
    assert spacing is not None
    text = view.set_measurement((10.0, 10.0), (110.0, 10.0))
    assert f"{100 * spacing.col_mm:.1f} mm" in text
    assert "0028,0030" in text or "0018,1164" in text


def test_measurement_by_mouse(view: QtImageView) -> None:
    view.set_tool("measure")
    got: list[str] = []
    view.measurement_changed.connect(got.append)
    c = view.rect().center()
    _drag(view, Qt.MouseButton.LeftButton, c, [c + QPoint(50, 0), c + QPoint(100, 0)])
    (x1, y1), (x2, y2) = view.measurement
    assert x2 - x1 == pytest.approx(100 / view.zoom, rel=1e-3)
    assert y2 == pytest.approx(y1)
    assert got[-1].endswith(")") and "mm" in got[-1]


def test_measurement_without_spacing_refuses_mm(qtbot: Any, tmp_path: Path) -> None:
    ds = make_cxr(2, opacity=False, size=(128, 128))
    for kw in ("PixelSpacing", "ImagerPixelSpacing"):
        if kw in ds:
            delattr(ds, kw)
    path = tmp_path / "nospacing.dcm"
    ds.save_as(path, enforce_file_format=True)
    image = read_image(path)
    assert image.meta.pixel_spacing is None
    v = QtImageView()
    qtbot.addWidget(v)
    v.set_image(image, DisplayRenderer(image))
    text = v.set_measurement((0.0, 0.0), (30.0, 40.0))
    assert text.startswith("50.0 px")
    assert "mm" not in text


def test_distance_text_imager_spacing_names_the_uncorrected_source() -> None:
    class Sp:
        row_mm = 0.1
        col_mm = 0.1
        source = "ImagerPixelSpacing"

    value, unit, text = distance_text((0, 0), (0, 100), Sp())
    assert (round(value, 6), unit) == (10.0, "mm")
    assert "not corrected for magnification" in text


def test_pan_by_left_drag(view: QtImageView) -> None:
    before = view.to_widget(0, 0)
    c = view.rect().center()
    _drag(view, Qt.MouseButton.LeftButton, c, [c + QPoint(40, 25)])
    after = view.to_widget(0, 0)
    assert (after.x() - before.x(), after.y() - before.y()) == pytest.approx((40, 25))


def test_heatmap_overlay_off_until_made_visible(view: QtImageView) -> None:
    heat = np.zeros((256, 256), dtype=np.float32)
    heat[100:150, 100:150] = 1.0
    view.set_heatmap(heat)
    assert view.has_heatmap() and not view.heatmap_visible
    plain = view.grab().toImage()
    view.set_heatmap_visible(True)
    view.set_heatmap_opacity(1.0)
    shown = view.grab().toImage()
    assert plain != shown


def test_corner_overlay_names_patient_date_view_window(view: QtImageView) -> None:
    corners = view.corner_texts()
    m = view.image.meta
    assert m.patient_name in corners["tl"]
    assert any(m.view_position in line for line in corners["tr"])
    assert any(line.startswith("W ") for line in corners["bl"])


def test_large_image_full_render_arrives_from_the_worker(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "large.dcm"
    make_cxr(4, opacity=False, size=(1400, 1200)).save_as(path, enforce_file_format=True)
    image = read_image(path)
    v = QtImageView()
    qtbot.addWidget(v)
    v.resize(500, 500)
    v.show()
    v.set_image(image, DisplayRenderer(image))
    assert v.displayed_buffer().shape[0] < 1400  # the preview, at about screen resolution
    qtbot.waitUntil(v.render_idle, timeout=WAIT_MS)
    expected = DisplayRenderer(image).render(image.default_window)
    np.testing.assert_array_equal(v.displayed_buffer(), expected)
    v.set_invert(True)  # a newer request supersedes; the last one wins
    v.set_invert(False)
    v.set_invert(True)
    qtbot.waitUntil(v.render_idle, timeout=WAIT_MS)
    np.testing.assert_array_equal(v.displayed_buffer(), 255 - expected)
    v.shutdown()


def test_box_downscale_is_the_rounded_block_mean() -> None:
    from viewer.ui.qt_image_view import box_downscale

    rng = np.random.default_rng(0)
    buf = rng.integers(0, 256, (31, 47), dtype=np.uint8)
    out = box_downscale(buf, 3)
    assert out.shape == (10, 15) and out.dtype == np.uint8
    mean = buf[:30, :45].reshape(10, 3, 15, 3).astype(np.float64).mean(axis=(1, 3))
    assert np.abs(out - mean).max() <= 0.5
