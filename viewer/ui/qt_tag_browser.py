"""DICOM tag browser: every header element of the open image, searchable.

Why: when a grey scale, a spacing or an AI input warning looks wrong, the reader (or IT) checks the
tags the app read it from — Window Center (0028,1050), Pixel Spacing (0028,0030), View Position
(0018,5101) and so on. Pixel Data is not in the header copy; long values are shortened.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from viewer.ui.plain_text import plain_labels, plain_tooltip

MAX_VALUE_CHARS = 200
MAX_DEPTH = 12
KEYWORD_ROLE = Qt.ItemDataRole.UserRole + 1  # the DICOM keyword, e.g. PixelSpacing (searchable)


def _value_text(elem: Any) -> str:
    if elem.VR == "SQ":
        return f"<{len(elem.value)} item(s)>"
    if elem.VR in ("OB", "OW", "OF", "OD", "OL", "OV", "UN"):
        try:
            return f"<{len(elem.value)} bytes>"
        except TypeError:
            return "<binary>"
    try:
        text = str(elem.value)
    except Exception:  # a malformed value must not break the browser
        text = "<unreadable>"
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"


class QtTagBrowser(QDialog):
    """A non-modal window listing a pydicom Dataset's elements with a search field."""

    def __init__(self, header: Any, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tagBrowser")
        self.setModal(False)
        self.resize(760, 620)
        self.header = header
        self._title = title
        self.search = QLineEdit(self)
        self.search.setObjectName("tagSearch")
        self.search.setClearButtonEnabled(True)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("tagTree")
        self.tree.setColumnCount(4)
        self.tree.setUniformRowHeights(True)
        self.count = QLabel(self)
        self.count.setObjectName("tagCount")
        lay = QVBoxLayout(self)
        lay.addWidget(self.search)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.count)
        self._fill()
        self.search.textChanged.connect(self.filter)
        plain_labels(self)
        self.retranslate()

    def _fill(self) -> None:
        self.tree.clear()

        def add(ds: Any, parent: QTreeWidget | QTreeWidgetItem, depth: int) -> None:
            for elem in ds:
                if elem.tag == 0x7FE00010:  # Pixel Data is not shown
                    continue
                tag = f"({elem.tag.group:04X},{elem.tag.element:04X})"
                item = QTreeWidgetItem(
                    parent, [tag, str(elem.name), str(elem.VR), _value_text(elem)]
                )
                item.setToolTip(3, plain_tooltip(_value_text(elem)))
                item.setData(0, KEYWORD_ROLE, str(getattr(elem, "keyword", "") or ""))
                if elem.VR == "SQ" and depth < MAX_DEPTH:
                    for i, sub in enumerate(elem.value):
                        child = QTreeWidgetItem(item, [f"#{i + 1}", "", "", ""])
                        add(sub, child, depth + 1)

        if self.header is not None:
            add(self.header, self.tree, 0)
        self.tree.resizeColumnToContents(0)
        self.tree.setColumnWidth(1, 240)

    def _top(self) -> list[QTreeWidgetItem]:
        items = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [i for i in items if i is not None]

    def filter(self, text: str) -> int:
        """Show elements whose tag, name or value contains ``text``; returns how many match."""
        needle = text.strip().lower().replace(" ", "")
        matches = 0

        def visit(item: QTreeWidgetItem | None) -> bool:
            if item is None:
                return False
            texts = [item.text(c) for c in range(4)] + [str(item.data(0, KEYWORD_ROLE) or "")]
            own = not needle or any(needle in t.lower().replace(" ", "") for t in texts)
            child_hit = False
            for i in range(item.childCount()):
                child_hit = visit(item.child(i)) or child_hit
            visible = own or child_hit
            item.setHidden(not visible)
            if needle and child_hit:
                item.setExpanded(True)
            return visible

        for top in self._top():
            if visit(top):
                matches += 1
        self._matches = matches
        self._render_count()
        return matches

    def visible_tags(self) -> list[str]:
        return [item.text(0) for item in self._top() if not item.isHidden()]

    def _render_count(self) -> None:
        n = getattr(self, "_matches", self.tree.topLevelItemCount())
        self.count.setText(
            self.tr("{0} of {1} elements shown").format(n, self.tree.topLevelItemCount())
        )

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("DICOM tags — {0}").format(self._title))
        self.search.setPlaceholderText(
            self.tr("Search tag, name or value (e.g. 0028,1050 or Window)")
        )
        self.search.setAccessibleName(self.tr("Search DICOM tags"))
        self.tree.setAccessibleName(self.tr("DICOM tags"))
        self.tree.setHeaderLabels(
            [self.tr("Tag"), self.tr("Name"), self.tr("VR"), self.tr("Value")]
        )
        self._render_count()
        self.tree.setAttribute(Qt.WidgetAttribute.WA_AlwaysShowToolTips, True)
