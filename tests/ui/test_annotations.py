"""Annotation tools on the image view (issue 14 item 2): each tool drawn with QTest mouse events
on a generated image with known values, the numbers shown, select / move / delete, and the
annotations following rotation and flip."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from tests.ui.mainwin import decision_rows, demo_bundle, find, make_window, wait_for_result
from tests.waits import WAIT_MS
from viewer.dicom import DisplayRenderer, read_image
from viewer.dicom.annotations import Annotation
from viewer.ui.qt_image_view import QtImageView

__all__ = ["demo_bundle", "make_window"]  # fixtures imported for pytest

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def view(qtbot: Any, cxr_path: Path) -> QtImageView:
    """A 256 x 256 generated CR (0.2 mm spacing) whose modality values are known: 100 outside,
    500 in rows 40..119 x cols 60..179, a gradient (value = column) in rows 150..229."""
    image = read_image(cxr_path)
    known = np.full((256, 256), 100.0, dtype=np.float32)
    known[40:120, 60:180] = 500.0
    known[150:230, :] = np.arange(256, dtype=np.float32)[None, :]
    image = dataclasses.replace(image, modality=known)
    v = QtImageView()
    qtbot.addWidget(v)
    v.resize(600, 600)
    v.show()
    v.set_image(image, DisplayRenderer(image))
    return v


def _at(view: QtImageView, x: float, y: float) -> QPoint:
    return view.to_widget(x, y).toPoint()


def _drag(view: QtImageView, a: tuple[float, float], b: tuple[float, float]) -> None:
    start, end = _at(view, *a), _at(view, *b)
    QTest.mousePress(view, LEFT, Qt.KeyboardModifier.NoModifier, start)
    mid = QPoint((start.x() + end.x()) // 2, (start.y() + end.y()) // 2)
    QTest.mouseMove(view, mid)
    QTest.mouseMove(view, end)
    QTest.mouseRelease(view, LEFT, Qt.KeyboardModifier.NoModifier, end)


def _click(view: QtImageView, x: float, y: float) -> None:
    QTest.mouseClick(view, LEFT, Qt.KeyboardModifier.NoModifier, _at(view, x, y))


def _shown(view: QtImageView, index: int = -1) -> list[str]:
    layer = view.annotations
    return layer.label_lines(layer.items[index])


def _near(a: Annotation, points: list[tuple[float, float]], tol: float = 1.0) -> bool:
    return all(math.dist(p, q) <= tol for p, q in zip(a.points, points, strict=True))


def test_distance_in_mm_and_several_per_image(view: QtImageView) -> None:
    view.set_tool("distance")
    _drag(view, (20, 20), (120, 20))
    _drag(view, (20, 40), (20, 90))
    items = view.annotations.items
    assert [a.kind for a in items] == ["distance", "distance"]
    assert _near(items[0], [(20, 20), (120, 20)])
    length = math.dist(*items[0].points) * 0.2  # the file's 0.2 mm spacing
    assert _shown(view, 0) == [f"{length:.1f} mm"]
    assert abs(length - 20.0) < 0.3


def test_uncalibrated_distance_says_px(qtbot: Any, view: QtImageView) -> None:
    image = view.image
    meta = dataclasses.replace(image.meta, pixel_spacing=None)
    view.set_image(dataclasses.replace(image, meta=meta), view.renderer)
    view.set_tool("distance")
    _drag(view, (10, 10), (110, 10))
    assert _shown(view)[0].endswith(" px")
    assert abs(float(_shown(view)[0].split()[0]) - 100) < 1.0


def test_angle_is_a_drag_then_a_click(view: QtImageView) -> None:
    view.set_tool("angle")
    _drag(view, (150, 50), (50, 50))  # first arm, ending at the vertex
    assert view.annotations.items == []  # waits for the second arm
    _click(view, 50, 150)
    (a,) = view.annotations.items
    assert a.kind == "angle" and _near(a, [(150, 50), (50, 50), (50, 150)])
    assert abs(float(_shown(view)[0].rstrip("°")) - 90.0) < 1.5


def test_rectangle_roi_on_a_constant_region(view: QtImageView) -> None:
    view.set_tool("rect")
    _drag(view, (70, 50), (160, 110))
    lines = _shown(view)
    assert lines[0] == "mean 500.0  SD 0.0" and lines[1] == "min 500.0  max 500.0"
    assert lines[2].startswith("area ") and lines[2].endswith(" mm²")


def test_ellipse_roi_on_a_gradient(view: QtImageView) -> None:
    view.set_tool("ellipse")
    _drag(view, (100, 160), (200, 220))
    (a,) = view.annotations.items
    # the centre column is the mean of a symmetric gradient, its ends the min and max
    mean = float(_shown(view)[0].split()[1])
    cx = (a.points[0][0] + a.points[1][0]) / 2
    assert abs(mean - (cx - 0.5)) < 1.0
    lo, hi = (float(v) for v in _shown(view)[1].split()[1::2])
    assert lo >= 99 and hi <= 201 and hi - lo > 90


def test_ctr_two_horizontal_widths(view: QtImageView) -> None:
    view.set_tool("ctr")
    _drag(view, (80, 150), (160, 155))  # cardiac: 80 px; the y of the second end is ignored
    _drag(view, (40, 120), (200, 120))  # thoracic: 160 px
    (a,) = view.annotations.items
    assert a.kind == "ctr" and a.points[1][1] == a.points[0][1]
    assert _shown(view)[0] == "CTR 0.50"
    assert _shown(view)[1] == "cardiac 16.0 mm / thoracic 32.0 mm"


def test_arrow_and_text(view: QtImageView) -> None:
    view.set_tool("arrow")
    _drag(view, (30, 200), (80, 150))
    view.set_tool("text")
    view.annotations.ask_text = lambda: "check\x1b this " + "x" * 300
    _click(view, 200, 30)
    arrow, text = view.annotations.items
    assert arrow.kind == "arrow" and _shown(view, 0) == []
    assert text.kind == "text" and "\x1b" not in text.text and len(text.text) == 200
    view.annotations.ask_text = lambda: None  # cancelled: nothing added
    _click(view, 30, 30)
    assert len(view.annotations.items) == 2


def test_select_move_and_delete(qtbot: Any, view: QtImageView) -> None:
    seen: list[int] = []
    view.annotations.changed.connect(lambda: seen.append(len(view.annotations.items)))
    view.set_tool("distance")
    _drag(view, (20, 20), (120, 20))
    _drag(view, (20, 200), (120, 200))
    view.set_tool("pan")
    _click(view, 70, 120)  # nothing there: no selection, the view pans as before
    assert view.annotations.selected is None
    _click(view, 70, 20)
    assert view.annotations.selected == 0
    pan = QPointF(view.pan)
    _drag(view, (70, 20), (70, 60))  # drag the selected line 40 px down
    assert view.pan == pan
    assert _near(view.annotations.items[0], [(20, 60), (120, 60)])
    assert view.annotations.delete_selected()
    assert [a.points[0][1] for a in view.annotations.items] == [pytest.approx(200, abs=1)]
    assert not view.annotations.delete_selected()  # nothing selected any more
    assert seen == [1, 2, 2, 1]


def test_annotations_follow_rotation_and_flip(view: QtImageView) -> None:
    view.set_tool("distance")
    _drag(view, (20, 30), (120, 30))
    before = list(view.annotations.items)
    view.rotate90()
    view.flip()
    assert view.annotations.items == before  # stored in image coordinates
    view.set_tool("pan")
    _click(view, 70, 30)  # found where the image point is now on screen
    assert view.annotations.selected == 0


def test_a_click_with_a_drawing_tool_selects_instead_of_drawing(view: QtImageView) -> None:
    view.set_tool("rect")
    _drag(view, (70, 50), (160, 110))
    view.annotations.selected = None
    _click(view, 70, 80)  # on the rectangle's left edge
    assert view.annotations.selected == 0 and len(view.annotations.items) == 1


# ------------------------------------------------------------------ in the window, with the reading
def test_annotations_belong_to_the_reading(
    qtbot: Any, make_window: Any, demo_settings: Any, demo_bundle: Path, cxr_dir: Path
) -> None:
    """Kept per image in the run, saved with the decision (counts only in the log, never the
    words), shown again on reopen and after a restart, counted in the audit report."""
    from PySide6.QtWidgets import QLabel, QPushButton

    window = make_window(demo_settings, [cxr_dir])
    qtbot.waitUntil(lambda: len(window.browser.paths()) == 4, timeout=WAIT_MS)
    wait_for_result(qtbot, window)
    first = window.shown.path
    view = window.view
    window.annotation_tools["distance"].trigger()
    _drag(view, (100, 100), (300, 100))
    window.annotation_tools["ctr"].trigger()
    _drag(view, (180, 300), (330, 300))
    _drag(view, (80, 250), (430, 250))
    window.annotation_tools["text"].trigger()
    view.annotations.ask_text = lambda: "Mr Example's nodule"
    _click(view, 250, 400)
    assert [a.kind for a in window.shown.session.annotations] == ["distance", "ctr", "text"]

    # another image has none; back on the first, they are there again
    window.step_image(1)
    qtbot.waitUntil(lambda: window.shown.path != first, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: _showing(view, window.shown.path), timeout=WAIT_MS)
    assert view.annotations.items == []
    window.open_image(first)
    qtbot.waitUntil(lambda: _showing(view, first), timeout=WAIT_MS)
    assert [a.kind for a in view.annotations.items] == ["distance", "ctr", "text"]

    wait_for_result(qtbot, window)
    qtbot.mouseClick(find(window, QPushButton, "confirmButton"), LEFT)
    status = find(window, QLabel, "decisionStatus")
    qtbot.waitUntil(lambda: status.text().startswith("Saved "), timeout=WAIT_MS)
    window.close()
    (row,) = decision_rows(demo_settings)
    assert row.detail["annotations"] == {"distance": 1, "ctr": 1, "text": 1}
    assert b"Mr Example" not in demo_settings.audit_db_path.read_bytes()

    again = make_window(demo_settings, [Path(first)])  # a restart
    qtbot.waitUntil(lambda: again.view.image is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: len(again.view.annotations.items) == 3, timeout=WAIT_MS)
    assert again.view.annotations.items[2].text == "Mr Example's nodule"
    assert "1 CTR" in _report_cell(row)


def _showing(view: QtImageView, path: str) -> bool:
    return view.image is not None and str(view.image.meta.path) == path


def _report_cell(row: Any) -> str:
    from viewer.audit.report import annotation_counts_text

    return annotation_counts_text(row.detail)


def test_the_text_dialog_is_named_and_limits_the_length(qtbot: Any, view: QtImageView) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit

    seen: list[tuple[str, str, int]] = []

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QInputDialog):
            QTimer.singleShot(20, answer)
            return
        edit = dialog.findChild(QLineEdit)
        assert edit is not None
        seen.append((dialog.objectName(), edit.accessibleName(), edit.maxLength()))
        edit.setText("effusion?")
        dialog.accept()

    QTimer.singleShot(20, answer)
    view.set_tool("text")
    _click(view, 100, 100)
    assert seen == [("annotationTextDialog", "Text annotation", 200)]
    assert view.annotations.items[0].text == "effusion?"


def test_a_selected_annotations_point_can_be_dragged(view: QtImageView) -> None:
    view.set_tool("ellipse")
    _drag(view, (60, 40), (180, 120))
    assert view.annotations.selected == 0  # a new annotation is selected
    _drag(view, (180, 120), (200, 140))  # its corner handle, even with a drawing tool
    (a,) = view.annotations.items
    assert _near(a, [(60, 40), (200, 140)], tol=1.5)


def test_with_left_drag_window_level_a_click_still_picks_an_annotation(
    view: QtImageView,
) -> None:
    view.set_left_drag("window")
    view.set_tool("distance")
    _drag(view, (20, 20), (120, 20))
    view.set_tool("pan")
    view.annotations.selected = None
    voi = view.voi
    _drag(view, (70, 20), (70, 50))  # on the line: moves it, the window stays
    assert view.voi == voi
    assert _near(view.annotations.items[0], [(20, 50), (120, 50)])
    _drag(view, (70, 150), (90, 170))  # elsewhere: window/level as before
    assert view.voi != voi


def test_reset_view_drops_a_half_drawn_angle(view: QtImageView) -> None:
    view.set_tool("angle")
    _drag(view, (150, 50), (50, 50))
    view.reset_view()
    _click(view, 50, 150)  # a plain click now: nothing half drawn to finish
    assert view.annotations.items == []


def test_roi_numbers_name_the_unit_the_file_gives(view: QtImageView) -> None:
    view.image.header.RescaleType = "HU"
    view.set_tool("rect")
    _drag(view, (70, 50), (160, 110))
    assert _shown(view)[:2] == ["mean 500.0  SD 0.0 HU", "min 500.0  max 500.0 HU"]
