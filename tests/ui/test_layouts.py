"""Comparison (issue 14 item 1): 1x1 / 1x2 / 2x2 layouts, drop an image on a viewport, synchronised
zoom/pan, and the prior beside the current image. The primary viewport (top left, ``imageView``)
keeps the AI result and the decision; the others are for looking only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QComboBox

from tests.session.test_priors import write_study
from tests.ui.mainwin import demo_bundle, find, make_window, wait_for_result
from tests.waits import WAIT_MS
from viewer.ui.image_drag import image_mime, path_from_mime
from viewer.ui.qt_image_view import QtImageView

__all__ = ["demo_bundle", "make_window"]  # fixtures imported for pytest


@pytest.fixture
def studies(tmp_path: Path) -> dict[str, Path]:
    """One patient's current study, two priors, and another patient's earlier study."""
    folder = tmp_path / "cd"
    return {
        "current": write_study(folder, seed=1, date="20260301"),
        "prior": write_study(folder, seed=2, date="20250115"),
        "older": write_study(folder, seed=3, date="20240302"),
        "stranger": write_study(folder, seed=4, date="20250601", patient_index=7),
    }


def _open(qtbot: Any, make_window: Any, settings: Any, folder: Path, first: Path) -> Any:
    window = make_window(settings, [folder])
    qtbot.waitUntil(lambda: len(window.browser.paths()) == 4, timeout=WAIT_MS)
    window.open_image(str(first))
    _wait_primary(qtbot, window, first)
    return window


def _wait_primary(qtbot: Any, window: Any, path: Path) -> None:
    qtbot.waitUntil(
        lambda: window.view.image is not None and window.view.image.meta.path == str(path),
        timeout=WAIT_MS,
    )


def _wait_viewport(qtbot: Any, window: Any, index: int, path: Path) -> None:
    view = window.grid.viewports[index].view
    qtbot.waitUntil(
        lambda: view.image is not None and view.image.meta.path == str(path), timeout=WAIT_MS
    )


def _drop(widget: Any, path: str) -> None:
    """What Qt does at the end of a drag from the study tree (a real drag needs a real mouse)."""
    mime = image_mime(path)  # kept alive while the events point at it
    enter = QDragEnterEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    widget.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    widget.dropEvent(drop)
    assert drop.isAccepted()


def test_layouts_switch_and_the_primary_view_keeps_its_name(
    qtbot: Any, make_window: Any, settings: Any
) -> None:
    window = make_window(settings, start=False)
    grid = window.grid
    chooser = find(window, QComboBox, "layoutChooser")
    assert chooser.accessibleName()
    assert grid.layout_name == "1x1" and not grid.viewports[1].isVisible()
    window.layout_actions["2x2"].trigger()
    assert grid.layout_name == "2x2" and chooser.currentData() == "2x2"
    assert all(vp.isVisible() for vp in grid.viewports)
    chooser.activated.emit(chooser.findData("1x2"))
    assert grid.layout_name == "1x2" and window.layout_actions["1x2"].isChecked()
    assert grid.viewports[1].isVisible() and not grid.viewports[2].isVisible()
    assert window.act_sync.isChecked()  # on by default side by side
    assert grid.viewports[0].view is window.view
    assert window.findChild(QtImageView, "imageView") is window.view
    for vp in grid.viewports[1:]:
        assert vp.view.objectName() != "imageView" and vp.view.accessibleName()
    window.layout_actions["1x1"].trigger()
    assert grid.layout_name == "1x1" and not grid.viewports[1].isVisible()


def test_a_dropped_image_shows_there_and_the_ai_stays_with_the_primary(
    qtbot: Any,
    make_window: Any,
    demo_settings: Any,
    demo_bundle: Path,
    studies: dict[str, Path],
) -> None:
    window = _open(qtbot, make_window, demo_settings, studies["current"].parent, studies["current"])
    wait_for_result(qtbot, window)
    session = window.current
    window.layout_actions["1x2"].trigger()
    right = window.grid.viewports[1]
    _drop(right, str(studies["older"]))
    _wait_viewport(qtbot, window, 1, studies["older"])
    # looking at another image changes neither the reading nor the current image
    assert window.current is session and session.path == str(studies["current"])
    assert window.view.image.meta.path == str(studies["current"])
    assert window.grid.active is right  # the drop made it the active one (border)
    assert right.property("active") and not window.grid.viewports[0].property("active")
    assert "2024-03-02" in right.caption.text()
    assert "2026-03-01" in window.grid.viewports[0].caption.text()
    # the view tools act on the active viewport
    before = window.view.zoom
    window.act_zoom_in.trigger()
    assert right.view.zoom > 0 and window.view.zoom != before  # sync on in 1x2
    # a drop on the primary viewport makes that image the current one (a new reading)
    _drop(window.grid.viewports[0], str(studies["prior"]))
    _wait_primary(qtbot, window, studies["prior"])
    assert window.current is not session and window.current.path == str(studies["prior"])


def test_tree_and_worklist_items_carry_their_image(
    qtbot: Any, make_window: Any, settings: Any, studies: dict[str, Path]
) -> None:
    window = _open(qtbot, make_window, settings, studies["current"].parent, studies["current"])
    tree = window.browser.tree
    item = window.browser._items[str(studies["prior"])]
    assert path_from_mime(tree.mimeData([item])) == str(studies["prior"])
    series = item.parent()
    assert path_from_mime(tree.mimeData([series])) == str(studies["prior"])
    table = window.worklist.table
    row_item = table.item(0, 0)
    assert path_from_mime(table.mimeData([row_item])) == row_item.data(Qt.ItemDataRole.UserRole)


def test_sync_on_and_off(
    qtbot: Any, make_window: Any, settings: Any, studies: dict[str, Path]
) -> None:
    window = _open(qtbot, make_window, settings, studies["current"].parent, studies["current"])
    window.layout_actions["1x2"].trigger()
    window.grid.show_path(1, str(studies["prior"]))
    _wait_viewport(qtbot, window, 1, studies["prior"])
    left, right = window.view, window.grid.viewports[1].view
    assert window.act_sync.isChecked()
    left.zoom_by(2.0, QPointF(left.width() / 3, left.height() / 3))
    (rel, fx, fy) = left.view_state()
    assert rel == pytest.approx(2.0)
    assert right.view_state() == pytest.approx((rel, fx, fy))
    qtbot.mousePress(right, Qt.MouseButton.MiddleButton, pos=QPoint(50, 50))
    qtbot.mouseMove(right, QPoint(80, 70))
    qtbot.mouseRelease(right, Qt.MouseButton.MiddleButton, pos=QPoint(80, 70))
    assert left.view_state() == pytest.approx(right.view_state())
    window.act_sync.trigger()  # off
    assert not window.grid.sync
    right.zoom_by(1.5)
    assert left.view_state()[0] == pytest.approx(2.0)
    assert right.view_state()[0] == pytest.approx(3.0)


def test_open_prior_shows_the_newest_prior_beside_the_current(
    qtbot: Any, make_window: Any, settings: Any, studies: dict[str, Path]
) -> None:
    window = _open(qtbot, make_window, settings, studies["current"].parent, studies["current"])
    window.act_prior.trigger()
    assert window.grid.layout_name == "1x2"
    _wait_viewport(qtbot, window, 1, studies["prior"])  # 2025, not 2024; not the stranger
    assert window.grid.viewports[1].caption.text().startswith("Prior 2025-01-15")
    assert "2025-01-15" in window.statusBar().currentMessage()
    assert window.current.path == str(studies["current"])
    # another patient in the primary: the prior beside it goes away
    window.open_image(str(studies["stranger"]))
    _wait_primary(qtbot, window, studies["stranger"])
    assert window.grid.viewports[1].view.image is None
    # put there on purpose, another patient's image says so
    window.grid.show_path(1, str(studies["current"]))
    _wait_viewport(qtbot, window, 1, studies["current"])
    assert window.grid.viewports[1].caption.text().startswith("ANOTHER PATIENT")


def test_no_prior_says_so(
    qtbot: Any, make_window: Any, settings: Any, studies: dict[str, Path]
) -> None:
    window = _open(qtbot, make_window, settings, studies["current"].parent, studies["older"])
    window.act_prior.trigger()
    assert "No prior study" in window.statusBar().currentMessage()
    assert window.grid.layout_name == "1x1"
