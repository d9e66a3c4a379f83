"""Reading conventions (issue 14 item 3): every key does what the shortcut sheet says, none of
them while the reader types in a text field, the sheet and docs/shortcuts.md come from the table
that binds the keys, left drag can do window/level, and the Help menu pages open.

No model is needed: the window runs with a settings fixture that has none (the AI panel says so),
the images are the generated demo set.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QDialog, QTextBrowser

from tests.ui.mainwin import demo_bundle, find, make_window
from tests.waits import WAIT_MS
from viewer.config import save_user_settings
from viewer.ui import shortcuts
from viewer.ui.shortcuts import QtShortcutSheet, action_keys, table

__all__ = ["demo_bundle", "make_window"]  # fixtures imported for pytest

ROOT = Path(__file__).resolve().parents[2]


def _key(widget: Any, keys: str) -> None:
    """Press a portable key sequence (e.g. "Ctrl+Shift+Return", "+") on ``widget``."""
    combo = QKeySequence(keys)[0]
    from PySide6.QtTest import QTest

    QTest.keyClick(widget, combo.key(), combo.keyboardModifiers())


def _ready(qtbot: Any, window: Any) -> None:
    window.activateWindow()
    window.view.setFocus()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)


@pytest.fixture
def reading(qtbot: Any, make_window: Any, settings: Any, cxr_dir: Path) -> Any:
    """A window with the four generated images listed and the first one on screen."""
    window = make_window(settings, [cxr_dir])
    qtbot.waitUntil(lambda: len(window.browser.paths()) == 4, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.view.image is not None, timeout=WAIT_MS)
    _ready(qtbot, window)
    return window


def _on_screen(window: Any) -> str:
    return str(window.shown.path) if window.shown is not None else ""


def _wait_image(qtbot: Any, window: Any, path: str) -> None:
    qtbot.waitUntil(
        lambda: window.view.image is not None and str(window.view.image.meta.path) == path,
        timeout=WAIT_MS,
    )


# ------------------------------------------------------------------ one table, no drift
def test_every_window_key_comes_from_the_table(make_window: Any, settings: Any) -> None:
    window = make_window(settings, start=False)
    bound: dict[str, tuple[str, ...]] = {}
    for act in window.findChildren(QAction):
        keys = tuple(k.toString() for k in act.shortcuts())
        if keys:
            bound[act.objectName()] = keys
    assert bound == action_keys()
    panel_keys = {
        sc.key().toString()
        for sc in window.decision.findChildren(QShortcut)
        if not sc.key().isEmpty()
    }
    table_keys = {b.keys[0] for b in table() if b.group == "decision"}
    assert panel_keys == table_keys
    # no key is bound twice
    every = [k for keys in bound.values() for k in keys] + sorted(panel_keys)
    assert len(every) == len(set(every))


def test_the_sheet_lists_the_table(qtbot: Any, make_window: Any, settings: Any) -> None:
    window = make_window(settings, start=False)
    _ready(qtbot, window)
    _key(window, "Ctrl+/")
    sheet = window._tools.get("shortcuts")
    assert isinstance(sheet, QtShortcutSheet) and sheet.isVisible()
    listed = sheet.listed()
    assert len(listed) == len(table())
    assert ("PgDown, Right, Down", "Next image") in listed
    assert ("1 … 9", "Window preset 1 to 9 (in the order of the Window list)") in listed
    assert ("F11", "Full screen") in listed
    assert sheet.tree.topLevelItemCount() == len(shortcuts.groups())
    assert (
        sheet.objectName() and sheet.tree.accessibleName() and sheet.close_button.accessibleName()
    )


def test_docs_shortcuts_md_is_generated_from_the_table() -> None:
    spec = importlib.util.spec_from_file_location(
        "write_shortcuts_doc", ROOT / "packaging" / "write_shortcuts_doc.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = (ROOT / "docs" / "shortcuts.md").read_text(encoding="utf-8")
    assert text == module.render(), "run .venv/bin/python packaging/write_shortcuts_doc.py"
    for b in table():
        assert b.text in text


# ------------------------------------------------------------------ each key does what it says
def test_image_keys_step_jump_and_follow_display_order(qtbot: Any, reading: Any) -> None:
    window = reading
    paths = window.browser.paths()
    assert _on_screen(window) == paths[0]
    for keys, index in (
        ("Right", 1),
        ("Down", 2),
        ("Left", 1),
        ("Up", 0),
        ("PgDown", 1),
        ("PgUp", 0),
        ("End", 3),
        ("Home", 0),
    ):
        _key(window.view, keys)
        assert _on_screen(window) == paths[index], keys
        _wait_image(qtbot, window, paths[index])


def test_space_opens_the_next_case_not_decided_yet_in_worklist_order(
    qtbot: Any, reading: Any
) -> None:
    window = reading
    order = window.worklist.order()
    assert _on_screen(window) == order[0]
    window.worklist.set_done(order[1], "decided")
    window.worklist.set_done(order[2], "amended")
    _key(window.view, "Space")
    assert _on_screen(window) == order[3]
    _wait_image(qtbot, window, order[3])
    _key(window.view, "Space")  # wraps to the top of the worklist
    assert _on_screen(window) == order[0]
    _wait_image(qtbot, window, order[0])
    for path in (order[0], order[3]):
        window.worklist.set_done(path, "decided")
    _key(window.view, "Space")
    assert _on_screen(window) == order[0]
    assert "decided" in window.statusBar().currentMessage()


def test_zoom_fit_and_view_keys(qtbot: Any, reading: Any) -> None:
    window = reading
    view = window.view
    fit = view.zoom
    _key(view, "+")
    assert view.zoom == pytest.approx(fit * 1.25)
    _key(view, "=")
    assert view.zoom == pytest.approx(fit * 1.25**2)
    _key(view, "-")
    assert view.zoom == pytest.approx(fit * 1.25)
    _key(view, "F")
    assert view.fit_mode and view.zoom == pytest.approx(fit)
    _key(view, "Ctrl+1")
    assert view.zoom == 1.0 and not view.fit_mode
    _key(view, "I")
    assert view.invert and window.act_invert.isChecked()
    _key(view, "R")
    assert view.rotation == 90
    _key(view, "H")
    assert view.flip_h
    _key(view, "Esc")
    assert (view.rotation, view.flip_h, view.invert, view.fit_mode) == (0, False, False, True)
    _key(view, "M")
    assert view.tool == "measure" and window.act_measure.isChecked()
    _key(view, "P")
    assert view.tool == "pan" and window.act_pan.isChecked()
    _key(view, "Ctrl+H")
    assert window.ai_panel.heatmap_toggle.isChecked()
    _key(view, "Ctrl+H")
    assert not window.ai_panel.heatmap_toggle.isChecked()
    _key(view, "Ctrl+T")
    assert len(window._tag_browsers) == 1


def test_number_keys_select_the_window_presets(qtbot: Any, reading: Any) -> None:
    window = reading
    presets = window.view.presets()
    assert presets
    for k in range(9, 0, -1):  # every key; one past the menu's end changes nothing
        before = window.view.voi
        _key(window.view, str(k))
        if k <= len(presets):
            assert window.view.voi == presets[k - 1], k
            assert window.presets.currentIndex() == k - 1
            assert window.presets.currentText().startswith(f"{k}: ")
        else:
            assert window.view.voi == before, k
    assert window.view.voi == presets[0]


def test_f11_toggles_full_screen(qtbot: Any, reading: Any) -> None:
    window = reading
    _key(window.view, "F11")
    qtbot.waitUntil(window.isFullScreen, timeout=WAIT_MS)
    assert window.act_full_screen.isChecked()
    _key(window.view, "F11")
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=WAIT_MS)


def _close_modal_soon(qtbot: Any, seen: list[str]) -> None:
    """Close the next modal dialog (a file dialog, Settings) once it is up."""

    def close() -> None:
        modal = QApplication.activeModalWidget()
        if modal is None:
            QTimer.singleShot(50, close)
            return
        seen.append(modal.objectName() or type(modal).__name__)
        assert isinstance(modal, QDialog)
        modal.reject()

    QTimer.singleShot(50, close)


@pytest.mark.parametrize(
    ("keys", "expected"),
    [("Ctrl+O", "QFileDialog"), ("Ctrl+Shift+O", "QFileDialog"), ("Ctrl+,", "settingsDialog")],
)
def test_file_and_settings_keys_open_their_dialogs(
    qtbot: Any, make_window: Any, settings: Any, keys: str, expected: str
) -> None:
    window = make_window(settings, start=False)
    _ready(qtbot, window)
    seen: list[str] = []
    _close_modal_soon(qtbot, seen)
    _key(window, keys)
    qtbot.waitUntil(lambda: bool(seen), timeout=WAIT_MS)
    assert seen[0] == expected or expected in seen[0]


@pytest.mark.parametrize(
    ("keys", "tool", "name"),
    [("F1", "guide", "userGuide"), ("Ctrl+/", "shortcuts", "shortcutSheet")],
)
def test_help_keys_open_their_pages(
    qtbot: Any, make_window: Any, settings: Any, keys: str, tool: str, name: str
) -> None:
    window = make_window(settings, start=False)
    _ready(qtbot, window)
    _key(window, keys)
    page = window._tools.get(tool)
    assert page is not None and page.isVisible() and page.objectName() == name
    _named(page)


def _named(page: Any) -> None:
    """Every visible control of a page has an object name and an accessible name."""
    from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QAbstractSlider

    missing = [
        f"{type(w).__name__} {w.objectName()!r}"
        for cls in (QAbstractButton, QAbstractSlider, QAbstractItemView, QTextBrowser)
        for w in page.findChildren(cls)
        if w.isVisible() and not (w.objectName() and w.accessibleName())
    ]
    assert missing == []


def test_ctrl_q_closes_the_window(qtbot: Any, make_window: Any, settings: Any) -> None:
    window = make_window(settings, start=False)
    _ready(qtbot, window)
    _key(window, "Ctrl+Q")
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)


def test_decision_keys_work_from_the_window(qtbot: Any, reading: Any) -> None:
    window = reading
    got: list[tuple[str, str]] = []
    window.decision.decision_requested.connect(lambda m, r: got.append((m, r)))
    window.decision.reset("finding")
    window.decision.set_decision_enabled(True)
    _key(window.view, "Ctrl+Return")
    window.decision.reason.setEditText("artefact")
    _key(window.view, "Ctrl+Shift+Return")
    assert got == [("confirmed", ""), ("overrode", "artefact")]
    window.decision.set_saved("overrode", "artefact", "10:42")
    with qtbot.waitSignal(window.decision.amend_requested, timeout=WAIT_MS):
        _key(window.view, "Ctrl+Shift+A")


def test_annotation_keys_pick_the_tools_and_delete_removes_the_selected(
    qtbot: Any, reading: Any
) -> None:
    window = reading
    view = window.view
    for key, tool in (("D", "distance"), ("A", "angle"), ("B", "rect"), ("E", "ellipse")):
        _key(view, key)
        assert view.tool == tool and window.annotation_tools[tool].isChecked()
    for key, tool in (("C", "ctr"), ("W", "arrow"), ("T", "text")):
        _key(view, key)
        assert view.tool == tool and window.annotation_tools[tool].isChecked()
    from viewer.dicom.annotations import Annotation

    view.annotations.set_items([Annotation("arrow", ((1, 1), (20, 20)))])
    view.annotations.selected = 0
    _key(view, "Del")
    assert view.annotations.items == []


# ------------------------------------------------------------------ not while typing
PLAIN_KEYS = ["Right", "Left", "Down", "Up", "PgDown", "PgUp", "Home", "End", "Space", "+", "-"]
PLAIN_KEYS += ["=", "2", "F", "I", "R", "H", "P", "M", "Esc", "D", "A", "C", "T", "Del"]


def test_no_plain_key_acts_while_typing_the_override_reason(qtbot: Any, reading: Any) -> None:
    window = reading
    view = window.view
    window.decision.reset("finding")
    window.decision.set_decision_enabled(True)
    edit = window.decision.reason.lineEdit()
    assert edit is not None
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus, timeout=WAIT_MS)
    before: Callable[[], tuple[Any, ...]] = lambda: (  # noqa: E731
        _on_screen(window),
        view.zoom,
        view.invert,
        view.rotation,
        view.flip_h,
        view.tool,
        view.voi,
        window.isFullScreen(),
    )
    state = before()
    for keys in PLAIN_KEYS:
        _key(edit, keys)
        assert before() == state, f"{keys} acted while typing"
    qtbot.keyClicks(edit, "rib 2 overlap")
    assert "rib 2 overlap" in edit.text()
    assert before() == state
    # Ctrl keys still work from the reason box: override with the reason typed
    got: list[tuple[str, str]] = []
    window.decision.decision_requested.connect(lambda m, r: got.append((m, r)))
    _key(edit, "Ctrl+Shift+Return")
    assert got and got[0][0] == "overrode" and "rib 2 overlap" in got[0][1]


def test_typing_guard_keeps_slider_arrows_and_lets_function_keys_through(reading: Any) -> None:
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QKeyEvent

    def event(key: Qt.Key, mods: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> Any:
        return QKeyEvent(QEvent.Type.ShortcutOverride, key, mods)

    slider = reading.ai_panel.heatmap_opacity
    edit = reading.decision.reason.lineEdit()
    assert shortcuts.typing_key(slider, event(Qt.Key.Key_Right))
    assert not shortcuts.typing_key(slider, event(Qt.Key.Key_Space))
    assert shortcuts.typing_key(edit, event(Qt.Key.Key_Space))
    assert not shortcuts.typing_key(edit, event(Qt.Key.Key_F11))
    assert not shortcuts.typing_key(
        edit, event(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    )
    assert not shortcuts.typing_key(reading.view, event(Qt.Key.Key_Right))
    # a keyboard user's focused button and list choice keep Space and the arrows
    button = reading.decision.confirm
    assert shortcuts.typing_key(button, event(Qt.Key.Key_Space))
    assert not shortcuts.typing_key(button, event(Qt.Key.Key_Right))
    choice = reading.presets
    assert shortcuts.typing_key(choice, event(Qt.Key.Key_Down))
    assert shortcuts.typing_key(choice, event(Qt.Key.Key_Space))
    assert not shortcuts.typing_key(choice, event(Qt.Key.Key_F))


def test_space_presses_a_focused_button_instead_of_moving_on(qtbot: Any, reading: Any) -> None:
    window = reading
    here = _on_screen(window)
    window.decision.reset("finding")
    window.decision.set_decision_enabled(True)
    got: list[str] = []
    window.decision.decision_requested.connect(lambda m, _r: got.append(m))
    window.decision.confirm.setFocus()
    qtbot.waitUntil(window.decision.confirm.hasFocus, timeout=WAIT_MS)
    _key(window.decision.confirm, "Space")
    assert got == ["confirmed"] and _on_screen(window) == here


# ------------------------------------------------------------------ left drag setting
def _drag(qtbot: Any, view: Any, button: Qt.MouseButton) -> None:
    start = QPoint(view.width() // 2, view.height() // 2)
    qtbot.mousePress(view, button, pos=start)
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QMouseEvent

    move = QMouseEvent(
        QMouseEvent.Type.MouseMove,
        QPointF(start + QPoint(40, 30)),
        QPointF(view.mapToGlobal(start + QPoint(40, 30))),
        Qt.MouseButton.NoButton,
        button,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(view, move)
    qtbot.mouseRelease(view, button, pos=start + QPoint(40, 30))


def test_left_drag_does_window_level_when_set(qtbot: Any, reading: Any, settings: Any) -> None:
    window = reading
    view = window.view
    voi, pan = view.voi, view.pan
    _drag(qtbot, view, Qt.MouseButton.LeftButton)  # default: pan
    assert view.voi == voi and view.pan != pan
    new = save_user_settings(window.settings, {"ui.left_drag": "window"})
    window.apply_settings(new)
    assert view.left_drag == "window"
    pan = view.pan
    _drag(qtbot, view, Qt.MouseButton.LeftButton)
    assert view.voi != voi and view.pan == pan
    voi = view.voi
    _drag(qtbot, view, Qt.MouseButton.RightButton)  # right drag pans now
    assert view.voi == voi and view.pan != pan
    view.set_tool("measure")  # the measure tool keeps the left button
    _drag(qtbot, view, Qt.MouseButton.LeftButton)
    assert view.measurement is not None and view.voi == voi


def test_settings_dialog_offers_and_saves_the_left_drag(qtbot: Any, settings: Any) -> None:
    from PySide6.QtWidgets import QComboBox

    from viewer.ui.qt_settings import QtSettingsDialog

    dialog = QtSettingsDialog(settings)
    qtbot.addWidget(dialog)
    combo = find(dialog, QComboBox, "leftDrag")
    assert combo.accessibleName() and combo.currentData() == "pan"
    combo.setCurrentIndex(combo.findData("window"))
    assert dialog.changes() == {"ui.left_drag": "window"}
    dialog._on_save()
    assert dialog.settings.values.ui.left_drag == "window"


def test_a_site_can_lock_the_left_drag(qtbot: Any, settings: Any) -> None:
    from PySide6.QtWidgets import QComboBox

    from viewer.config import load_settings
    from viewer.ui.qt_settings import QtSettingsDialog

    assert settings.site_file is not None
    settings.site_file.write_text('locked = ["ui.left_drag"]\n[ui]\nleft_drag = "window"\n')
    site = load_settings()
    assert site.values.ui.left_drag == "window" and site.is_locked("ui.left_drag")
    dialog = QtSettingsDialog(site)
    qtbot.addWidget(dialog)
    combo = find(dialog, QComboBox, "leftDrag")
    assert not combo.isEnabled() and combo.currentData() == "window"


# ------------------------------------------------------------------ help pages
def test_user_guide_follows_the_language(qtbot: Any, make_window: Any, settings: Any) -> None:
    from viewer.ui.i18n import install_translator

    window = make_window(settings, start=False)
    page = window.show_user_guide()
    text = find(page, QTextBrowser, "userGuideText").toPlainText()
    assert "user guide" in text and "Keyboard shortcuts" in text
    app = QApplication.instance()
    try:
        install_translator(app, "ja")
        qtbot.waitUntil(
            lambda: "利用者ガイド" in find(page, QTextBrowser, "userGuideText").toPlainText(),
            timeout=WAIT_MS,
        )
    finally:
        install_translator(app, "en")


def test_intended_use_without_a_model_says_why(make_window: Any, settings: Any) -> None:
    window = make_window(settings, start=False)
    window.model_error = "No model is installed and active."
    page = window.show_intended_use()
    text = find(page, QTextBrowser, "intendedUseText").toPlainText()
    assert "No model is loaded" in text and "installed and active" in text
    page.show()
    _named(page)


def test_intended_use_shows_the_loaded_models_card(
    make_window: Any, demo_settings: Any, demo_bundle: Path
) -> None:
    from types import SimpleNamespace

    from viewer.bundle import TrustStore, verify_bundle

    manifest = verify_bundle(demo_bundle, TrustStore.from_settings(demo_settings)).manifest
    window = make_window(demo_settings, start=False)
    window.model = SimpleNamespace(loaded=SimpleNamespace(manifest=manifest), source="demo")
    page = window.show_intended_use()
    text = find(page, QTextBrowser, "intendedUseText").toPlainText()
    for heading in ("Intended use", "Out of scope", "Accepted inputs", "NOT for clinical use"):
        assert heading in text
    assert " ".join(str(manifest.intended_use).split())[:40] in " ".join(text.split())
    assert "Performance" not in text  # the reader's page, not the whole card


def test_layout_sync_and_prior_keys(qtbot: Any, reading: Any) -> None:
    window = reading
    grid = window.grid
    _key(window.view, "Alt+2")
    assert grid.layout_name == "1x2" and window.act_sync.isChecked()
    _key(window.view, "S")
    assert not grid.sync and not window.act_sync.isChecked()
    _key(window.view, "S")
    assert grid.sync
    _key(window.view, "Alt+4")
    assert grid.layout_name == "2x2"
    _key(window.view, "Alt+1")
    assert grid.layout_name == "1x1"
    _key(window.view, "Shift+P")  # four generated patients, one study each: no prior
    assert "No prior study" in window.statusBar().currentMessage()


# every key the table binds is pressed by a test above: a new row needs a test of its own
PRESSED = {
    *("Right", "Down", "Left", "Up", "PgDown", "PgUp", "End", "Home", "Space"),
    *("+", "=", "-", "F", "Ctrl+1", "I", "R", "H", "Esc", "M", "P", "Ctrl+H", "Ctrl+T", "F11"),
    *(str(k) for k in range(1, 10)),
    *("Ctrl+Return", "Ctrl+Shift+Return", "Ctrl+Shift+A"),
    *("Ctrl+O", "Ctrl+Shift+O", "Ctrl+,", "F1", "Ctrl+/", "Ctrl+Q"),
    *("Ctrl+E", "Ctrl+P"),  # tests/ui/test_export.py
    *("D", "A", "B", "E", "C", "W", "T", "Del"),
    *("Alt+1", "Alt+2", "Alt+4", "S", "Shift+P"),  # comparison (test_layouts.py too)
}


def test_every_key_in_the_table_is_tested() -> None:
    bound = {k for b in table() for k in b.keys}
    assert bound - PRESSED == set()
