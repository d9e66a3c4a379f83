"""Text from files is shown as text in the windows, never rendered as Qt rich text (issue 12
item 18): a file name, a manifest string or a DICOM value that looks like HTML stays visible as
the characters it is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from tests.ui.mainwin import WAIT_MS, make_window  # noqa: F401  (fixture)
from viewer.ui.plain_text import plain_tooltip

HOSTILE = '<span style="color:white">NOT </span><b>VERIFIED</b><img src="x">'


def test_every_label_of_the_windows_is_plain_text(
    qtbot: Any,
    make_window: Any,  # noqa: F811
    settings: Any,
    tmp_path: Path,
) -> None:
    from viewer.ui.qt_audit_window import QtAuditWindow
    from viewer.ui.qt_model_manager import QtModelManager

    window = make_window(settings, start=False)
    tools = [QtModelManager(settings, parent=window), QtAuditWindow(settings, parent=window)]
    for widget in [window, *tools]:
        labels = widget.findChildren(QLabel)
        assert labels
        rich = [lb.objectName() for lb in labels if lb.textFormat() != Qt.TextFormat.PlainText]
        assert rich == [], f"{type(widget).__name__}: {rich}"
    for tool in tools:
        tool.close()


def test_a_hostile_file_name_is_shown_as_written(
    qtbot: Any,
    make_window: Any,  # noqa: F811
    settings: Any,
    tmp_path: Path,
) -> None:
    bad = tmp_path / f"{HOSTILE.replace('/', '_')}.dcm"
    bad.write_bytes(b"not a DICOM file")
    window = make_window(settings, [bad])
    qtbot.waitUntil(lambda: window.image_error.text() != "", timeout=WAIT_MS)
    assert window.image_error.textFormat() == Qt.TextFormat.PlainText
    assert "<span style=" in window.image_error.text()  # the characters, not a white span


def test_tooltips_from_files_are_escaped() -> None:
    shown = plain_tooltip(HOSTILE)
    assert "&lt;b&gt;VERIFIED&lt;/b&gt;" in shown and "<b>" not in shown
    assert plain_tooltip("/data/study/IM0001.dcm") == "/data/study/IM0001.dcm"  # plain stays
