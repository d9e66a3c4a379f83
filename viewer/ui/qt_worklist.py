"""Worklist: every opened image with its AI status, sortable by score for triage.

Why: with a stack of images, the reader may want the ones the model scores highest first. The
scores come from a background batch run (one image at a time, behind any image the reader opens)
that the reader can pause. In read-first mode the scores are not shown here (that would reveal
the AI result before the reader's own read); the list then shows only that a result exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QMimeData, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from viewer.ui.check_text import checks_text
from viewer.ui.image_drag import image_mime
from viewer.ui.plain_text import plain_tooltip

if TYPE_CHECKING:
    from viewer.dicom import ImageMetadata
    from viewer.inference import CheckResult

PATH_ROLE = Qt.ItemDataRole.UserRole
# status and score first: the columns a reader triages by stay visible in the narrow left pane
COL_STATUS, COL_SCORE, COL_PATIENT, COL_DATE, COL_VIEW = range(5)

CHUNK = 50  # rows added per event-loop turn (a few ms each)


class _ScoreItem(QTableWidgetItem):
    """Sorts numerically; items without a score sort below every score."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        a = self.data(Qt.ItemDataRole.UserRole + 1)
        b = other.data(Qt.ItemDataRole.UserRole + 1)
        a = -1.0 if a is None else float(a)
        b = -1.0 if b is None else float(b)
        return a < b


class _DragTable(QTableWidget):
    """The worklist table; a row dragged out carries its image for a comparison viewport."""

    def __init__(self, rows: int, columns: int, parent: QWidget | None = None) -> None:
        super().__init__(rows, columns, parent)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)

    def mimeData(self, items: Sequence[QTableWidgetItem]) -> QMimeData:
        for item in items:
            path = item.data(PATH_ROLE)
            if path:
                return image_mime(str(path))
        return QMimeData()


class QtWorklist(QWidget):
    """Table of images with AI status; emits :attr:`image_activated` and pause changes."""

    image_activated = Signal(str)
    paused_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None, *, hide_scores: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("worklistPanel")
        self.hide_scores = hide_scores
        self._rows: dict[str, dict[str, Any]] = {}
        self._first_items: dict[str, QTableWidgetItem] = {}
        self.table = _DragTable(0, 5, self)
        self.table.setObjectName("worklist")
        # Sorted on demand (header click, triage button), not on every status change: with
        # dynamic sorting each score update of a 1,000-row list would re-sort on the GUI thread.
        self.table.setSortingEnabled(False)
        header = self.table.horizontalHeader()
        header.setSortIndicatorShown(True)
        header.sectionClicked.connect(self._header_clicked)
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in ((COL_STATUS, 105), (COL_SCORE, 60), (COL_PATIENT, 180),
                           (COL_DATE, 90), (COL_VIEW, 80)):  # fmt: skip
            self.table.setColumnWidth(col, width)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.pause_button = QPushButton(self)
        self.pause_button.setObjectName("worklistPause")
        self.pause_button.setCheckable(True)
        self.sort_button = QPushButton(self)
        self.sort_button.setObjectName("worklistTriage")
        self.progress = QLabel(self)
        self.progress.setObjectName("worklistProgress")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addWidget(self.pause_button)
        row.addWidget(self.sort_button)
        lay.addLayout(row)
        lay.addWidget(self.progress)
        self.table.cellActivated.connect(self._activated)
        self.table.cellDoubleClicked.connect(self._activated)
        self.pause_button.toggled.connect(self._pause_toggled)
        self.sort_button.clicked.connect(self.sort_by_score)
        self.retranslate()

    @property
    def paused(self) -> bool:
        return self.pause_button.isChecked()

    def set_paused(self, on: bool) -> None:
        self.pause_button.setChecked(on)

    def _pause_toggled(self, on: bool) -> None:
        self._render_texts()
        self.paused_changed.emit(on)

    def set_hide_scores(self, on: bool) -> None:
        self.hide_scores = on
        for path in self._rows:
            self._render_row(path)

    # ----------------------------------------------------------------- content
    def set_images(self, metas: list[ImageMetadata]) -> None:
        """Add images not yet listed (keeps the status of those already there)."""
        new: list[ImageMetadata] = []
        seen: set[str] = set()
        for meta in metas:
            if meta.path not in self._rows and meta.path not in seen:
                seen.add(meta.path)
                new.append(meta)
        if not new:
            return
        if len(new) > CHUNK:
            # a CD's worth of images: add them a chunk per event-loop turn, GUI stays responsive
            self._add_rows(new[:CHUNK])
            QTimer.singleShot(1, lambda rest=new[CHUNK:]: self.set_images(rest))
            return
        self._add_rows(new)

    def _add_rows(self, new: list[ImageMetadata]) -> None:
        r0 = self.table.rowCount()
        self.table.setUpdatesEnabled(False)
        self.table.setRowCount(r0 + len(new))  # one resize, not one insertRow per image
        for i, meta in enumerate(new):
            self._rows[meta.path] = {
                "meta": meta,
                "status": "pending",
                "score": None,
                "pos": None,
                "done": "",
            }
            for c in range(self.table.columnCount()):
                item = _ScoreItem() if c == COL_SCORE else QTableWidgetItem()
                item.setData(PATH_ROLE, meta.path)
                self.table.setItem(r0 + i, c, item)
                if c == 0:
                    self._first_items[meta.path] = item
            self._render_row(meta.path)
        self.table.setUpdatesEnabled(True)
        self._render_texts()

    def _row_of(self, path: str) -> int:
        item = self._first_items.get(path)
        return item.row() if item is not None else -1

    def set_status(
        self,
        path: str,
        status: str,
        score: float | None = None,
        positive: bool | None = None,
        *,
        checks: Sequence[CheckResult] = (),
        reason: str = "",
    ) -> None:
        """``checks`` (a score's warnings, or the refusing checks) and ``reason`` (why it
        failed, when no check says) become the status cell's tooltip, in the reader's
        language (re-rendered on a language change)."""
        row = self._rows.get(path)
        if row is None:
            return
        row["status"] = status
        row["checks"] = list(checks)
        row["reason"] = reason
        if score is not None:
            row["score"] = score
            row["pos"] = positive
        self._render_row(path)
        self._render_texts()

    def set_done(self, path: str, done: str) -> None:
        """Mark a case ``"decided"`` or ``"amended"`` (or ``""``): what is done shows at once."""
        row = self._rows.get(path)
        if row is None or row.get("done") == done:
            return
        row["done"] = done
        self._render_row(path)

    def done(self, path: str) -> str:
        row = self._rows.get(path)
        return str(row.get("done", "")) if row else ""

    def select_path(self, path: str) -> None:
        """Select the row of the image on screen (the selection follows PgUp/PgDn and the tree)."""
        r = self._row_of(path)
        if r < 0 or self.table.currentRow() == r:
            return
        self.table.blockSignals(True)
        self.table.setCurrentCell(
            r, self.table.currentColumn() if self.table.currentColumn() >= 0 else 0
        )
        self.table.blockSignals(False)
        item = self.table.item(r, 0)
        if item is not None:
            self.table.scrollToItem(item)

    def status(self, path: str) -> str:
        row = self._rows.get(path)
        return str(row["status"]) if row else ""

    def next_pending(self, skip: set[str] | None = None) -> str | None:
        """The first pending image in the table's current order."""
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 0)
            path = item.data(PATH_ROLE) if item is not None else None
            if path and self._rows[path]["status"] == "pending" and path not in (skip or set()):
                return str(path)
        return None

    def reset_scores(self) -> None:
        """A new model: every image must be scored again."""
        for path, row in self._rows.items():
            row.update(status="pending", score=None, pos=None, checks=[], reason="")
            self._render_row(path)
        self._render_texts()

    def order(self) -> list[str]:
        out = []
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 0)
            if item is not None:
                out.append(str(item.data(PATH_ROLE)))
        return out

    def sort_by_score(self) -> None:
        """Triage: highest score first (no-op while scores are hidden)."""
        if not self.hide_scores:
            self._sort_by(COL_SCORE, Qt.SortOrder.DescendingOrder)

    def _sort_by(self, col: int, order: Qt.SortOrder) -> None:
        self._sort = (col, order)
        self.table.sortItems(col, order)
        self.table.horizontalHeader().setSortIndicator(col, order)

    def _header_clicked(self, col: int) -> None:
        if col == COL_SCORE and self.hide_scores:
            return
        same = self._sort is not None and self._sort[0] == col
        ascending = Qt.SortOrder.AscendingOrder
        descending = Qt.SortOrder.DescendingOrder
        order = descending if same and self._sort and self._sort[1] == ascending else ascending
        self._sort_by(col, order)

    def _activated(self, r: int, _c: int) -> None:
        item = self.table.item(r, 0)
        if item is not None:
            self.image_activated.emit(str(item.data(PATH_ROLE)))

    def _status_text(self, status: str) -> str:
        return {
            "pending": self.tr("waiting"),
            "running": self.tr("model running"),
            "scored": self.tr("scored"),
            "refused": self.tr("refused"),
            "error": self.tr("error"),
        }.get(status, status)

    def _render_row(self, path: str) -> None:
        r = self._row_of(path)
        if r < 0:
            return
        row = self._rows[path]
        m = row["meta"]
        date = m.study_date
        if len(date) == 8 and date.isdigit():
            date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
        status = self._status_text(row["status"])
        done = {"decided": self.tr("decided"), "amended": self.tr("amended")}.get(
            row.get("done", "")
        )
        texts = {
            COL_PATIENT: f"{m.patient_name} [{m.patient_id}]",
            COL_DATE: date,
            COL_VIEW: " ".join(x for x in (m.modality, m.view_position, m.laterality) if x),
            COL_STATUS: f"✓ {done} · {status}" if done else status,
        }
        for c, text in texts.items():
            cell = self.table.item(r, c)
            if cell is not None:
                cell.setText(text)
                cell.setToolTip(plain_tooltip(m.path))
        status_item = self.table.item(r, COL_STATUS)
        explained = checks_text(row.get("checks") or ()) or (
            [row["reason"]] if row.get("reason") else []
        )
        if status_item is not None and explained:
            status_item.setToolTip(plain_tooltip("\n".join(f"⚠ {text}" for text in explained)))
        score_item = self.table.item(r, COL_SCORE)
        if score_item is None:
            return
        if row["score"] is None:
            score_item.setText("")
            score_item.setData(Qt.ItemDataRole.UserRole + 1, None)
        elif self.hide_scores:
            score_item.setText(self.tr("hidden (read first)"))
            score_item.setData(Qt.ItemDataRole.UserRole + 1, None)
        else:
            flag = " ▲" if row["pos"] else ""
            score_item.setText(f"{row['score']:.2f}{flag}")
            score_item.setData(Qt.ItemDataRole.UserRole + 1, float(row["score"]))

    def _render_texts(self) -> None:
        total = len(self._rows)
        done = sum(1 for r in self._rows.values() if r["status"] in ("scored", "refused", "error"))
        text = self.tr("AI batch: {0} of {1} done").format(done, total)
        if self.paused:
            text += " · " + self.tr("paused")
        self.progress.setText(text)
        self.pause_button.setText(
            self.tr("Resume AI batch") if self.paused else self.tr("Pause AI batch")
        )

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("AI status"),
                self.tr("Score"),
                self.tr("Patient"),
                self.tr("Study date"),
                self.tr("View"),
            ]
        )
        self.table.setAccessibleName(self.tr("Worklist of opened images"))
        self.pause_button.setAccessibleName(self.tr("Pause or resume the AI batch run"))
        self.sort_button.setText(self.tr("Highest score first"))
        self.sort_button.setAccessibleName(self.tr("Sort the worklist by AI score"))
        for path in self._rows:
            self._render_row(path)
        self._render_texts()
