"""Text from files shown as text: never as Qt rich text.

Why: a QLabel or tooltip in Qt's default mode renders any string that *looks* like HTML as
HTML. A DICOM file name, a manifest's operating point or a stored override reason is the
author's text, not ours: ``<img src=...>`` or a ``<span style=...>`` hiding "NOT" must reach
the reader as the characters it is (issue 12 item 18; the CLI escapes control characters with
``viewer.errors.printable``, which core messages already pass through).
"""

from __future__ import annotations

from PySide6 import QtGui
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

__all__ = ["plain_labels", "plain_tooltip"]


def plain_labels(root: QWidget) -> None:
    """Every QLabel under ``root`` shows its text as plain text (none of ours is rich)."""
    for label in root.findChildren(QLabel):
        label.setTextFormat(Qt.TextFormat.PlainText)


def plain_tooltip(text: str) -> str:
    """A tooltip that shows ``text`` literally (Qt would render HTML-looking text as HTML)."""
    if not QtGui.Qt.mightBeRichText(text):
        return text
    return QtGui.Qt.convertFromPlainText(text, Qt.WhiteSpaceMode.WhiteSpaceNormal)
