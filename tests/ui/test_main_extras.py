"""Main window: tool windows from the menus, settings changes, batch pause, named-user rule,
tag browser, and no torch import on the GUI side before the model loads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton

from tests.ui.mainwin import (
    WAIT_MS,
    decision_rows,
    demo_bundle,
    find,
    make_window,
    wait_for_result,
)
from viewer.config import load_settings, save_user_settings

__all__ = ["demo_bundle", "make_window"]


def test_tool_windows_open_from_the_tools_menu(qtbot: Any, make_window: Any, settings: Any) -> None:
    window = make_window(settings)
    with qtbot.waitSignal(window.model_ready, timeout=WAIT_MS):
        pass
    for action, key in (
        (window.act_model_manager, "models"),
        (window.act_audit, "audit"),
    ):
        action.trigger()
        tool = window._tools.get(key)
        assert tool is not None and tool.isVisible(), key
        action.trigger()
        assert window._tools[key] is tool  # raised, not opened twice
        tool.close()
        qtbot.waitUntil(lambda k=key: k not in window._tools, timeout=WAIT_MS)


def test_settings_change_reading_order_and_language(
    qtbot: Any, make_window: Any, settings: Any
) -> None:
    window = make_window(settings)
    assert window.menu_file.title() == "&File"
    assert not window.worklist.hide_scores
    new = save_user_settings(
        settings, {"ui.language": "ja", "reading.order": "read_first", "user.name": "Dr Sato"}
    )
    try:
        window.apply_settings(new)
        qtbot.waitUntil(lambda: window.menu_file.title() != "&File", timeout=WAIT_MS)
        assert "ファイル" in window.menu_file.title()
        assert window.worklist.hide_scores
        assert "Dr Sato" in find(window, QLabel, "userStatus").text()
    finally:
        window.apply_settings(save_user_settings(new, {"ui.language": "en"}))
    qtbot.waitUntil(lambda: window.menu_file.title() == "&File", timeout=WAIT_MS)


def test_paused_batch_scores_nothing_until_resumed(
    qtbot: Any, make_window: Any, demo_settings: Any, demo_bundle: Path, cxr_dir: Path
) -> None:
    window = make_window(demo_settings, start=False)
    window.worklist.set_paused(True)
    window.start([cxr_dir])
    wait_for_result(qtbot, window)
    others = [p for p in window.browser.paths() if p != window.current.path]
    assert len(others) == 3
    assert all(window.worklist.status(p) == "pending" for p in others)
    assert window._batch_job is None
    window.worklist.set_paused(False)
    qtbot.waitUntil(
        lambda: all(window.worklist.status(p) == "scored" for p in others), timeout=WAIT_MS
    )


def test_site_requiring_a_named_user_refuses_the_decision(
    qtbot: Any, make_window: Any, demo_bundle: Path, cxr_path: Path, site_file: Path
) -> None:
    site_file.parent.mkdir(parents=True, exist_ok=True)
    site_file.write_text("[user]\nrequire_named_user = true\n", encoding="utf-8")
    settings = load_settings(demo=True)
    window = make_window(settings, [cxr_path])
    wait_for_result(qtbot, window)
    qtbot.mouseClick(find(window, QPushButton, "confirmButton"), Qt.MouseButton.LeftButton)
    status = find(window, QLabel, "decisionStatus").text()
    assert "NOT saved" in status and "printed name" in status
    window.close()
    assert decision_rows(settings) == []


def test_tag_browser_opens_for_the_current_image(
    qtbot: Any, make_window: Any, settings: Any, cxr_path: Path
) -> None:
    window = make_window(settings, [cxr_path])
    qtbot.waitUntil(lambda: window.view.image is not None, timeout=WAIT_MS)
    window.act_tags.trigger()
    assert len(window._tag_browsers) == 1
    browser = window._tag_browsers[0]
    assert browser.filter("PatientName") >= 1
    assert find(window, QComboBox, "windowPresets").count() >= 2


def test_gui_modules_do_not_import_torch(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text("", encoding="utf-8")
    code = (
        "import sys;from PySide6.QtWidgets import QApplication;"
        "from viewer.config import load_settings;import viewer.ui.app;"
        "from viewer.ui.qt_main_window import QtMainWindow;a=QApplication([]);"
        "w=QtMainWindow(load_settings(demo=True));w.show();a.processEvents();"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "QT_QPA_PLATFORM": "offscreen",
            "BEDSIDE_DATA_DIR": str(tmp_path),
            "BEDSIDE_SITE_CONFIG": str(tmp_path / "site.toml"),
            "PATH": "/usr/bin:/bin",
        },
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_every_visible_control_has_an_object_and_accessible_name(
    qtbot: Any, make_window: Any, demo_settings: Any
) -> None:
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QAbstractSlider,
        QLineEdit,
        QTabBar,
    )

    window = make_window(demo_settings, start=False)
    missing = []
    for cls in (QAbstractButton, QComboBox, QAbstractSlider, QLineEdit, QAbstractItemView, QTabBar):
        for widget in window.findChildren(cls):
            parent = widget.parent()
            inside_combo = isinstance(parent, QComboBox) or (
                parent is not None and isinstance(parent.parent(), QComboBox)
            )
            if inside_combo or not widget.isVisible():
                continue
            if not widget.objectName() or not widget.accessibleName():
                missing.append(f"{type(widget).__name__} {widget.objectName()!r}")
    assert missing == []
