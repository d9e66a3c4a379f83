"""File > Search PACS…: find a study by patient ID, accession, date and modality, and retrieve it.

Why (issue 17 item 4): hospitals read studies from PACS, not only from CDs. The search
(``viewer.pacs.query.search``: QIDO-RS or C-FIND, as the site chose) and the retrieval
(``query.retrieve``: WADO-RS or C-GET) run in a worker with a timeout, progress and Cancel; the
retrieved files land in a cache folder under the data folder (one folder per study), and the
window opens that folder exactly as if the reader had opened it from disk
(:attr:`QtPacsSearch.retrieved`), so the same reader decodes it and the same model scores it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from viewer.config import Settings
from viewer.errors import printable
from viewer.ui.plain_text import plain_labels
from viewer.ui.workers import Job, JobRunner, error_text

SEARCH_TIMEOUT_S = 10.0
MODALITIES = ("CR", "DX", "CT", "MR", "US", "SR", "OT")
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def cache_dir(settings: Settings, study_uid: str) -> Path:
    """Where a retrieved study is kept: ``<data dir>/pacs-cache/<Study Instance UID>`` (a UID
    is digits and dots; anything else is replaced, so the name never leaves the cache)."""
    name = _SAFE.sub("_", study_uid)[:64] or "study"
    return settings.data_dir / "pacs-cache" / name


def _date_text(value: str) -> str:
    """``YYYYMMDD`` (DA, PS3.5 6.2) as ``YYYY-MM-DD``; anything else as it is."""
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}" if re.fullmatch(r"\d{8}", value) else value


class QtPacsSearch(QDialog):
    """The PACS search and retrieve dialog (not modal: the reader may keep reading)."""

    retrieved = Signal(object)  # the folder the study was retrieved into (Path)

    COLUMNS = 7

    def __init__(
        self,
        settings: Settings,
        parent: QWidget | None = None,
        *,
        audit: Callable[[], Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("pacsSearchDialog")
        self.settings = settings
        # the open audit log, asked for on the worker's thread (it may still be opening): each
        # retrieval is a pacs_retrieved row
        self.audit = audit
        self.runner = JobRunner(1, self, name="pacs-search", nice=5)
        self.hits: list[Any] = []
        self._job: Job | None = None
        self._busy = ""  # "search" | "retrieve" | ""

        self.patient_id = QLineEdit(self)
        self.patient_id.setObjectName("pacsPatientId")
        self.patient_id.setMaxLength(64)
        self.accession = QLineEdit(self)
        self.accession.setObjectName("pacsAccession")
        self.accession.setMaxLength(16)
        self.use_from = QCheckBox(self)
        self.use_from.setObjectName("pacsUseDateFrom")
        self.date_from = self._date_edit("pacsDateFrom", QDate.currentDate().addMonths(-1))
        self.use_to = QCheckBox(self)
        self.use_to.setObjectName("pacsUseDateTo")
        self.date_to = self._date_edit("pacsDateTo", QDate.currentDate())
        self.modality = QComboBox(self)
        self.modality.setObjectName("pacsModality")
        self.search_button = QPushButton(self)
        self.search_button.setObjectName("pacsSearchButton")
        self.search_button.setDefault(True)
        self.table = QTableWidget(0, self.COLUMNS, self)
        self.table.setObjectName("pacsResults")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.retrieve_button = QPushButton(self)
        self.retrieve_button.setObjectName("pacsRetrieveButton")
        self.cancel_button = QPushButton(self)
        self.cancel_button.setObjectName("pacsCancelButton")
        self.close_button = QPushButton(self)
        self.close_button.setObjectName("pacsCloseButton")
        self.progress = QProgressBar(self)
        self.progress.setObjectName("pacsProgress")
        self.progress.hide()
        self.message = QLabel(self)
        self.message.setObjectName("pacsSearchMessage")
        self.message.setWordWrap(True)

        self._labels = {key: QLabel(self) for key in ("patient", "accession", "from", "to", "mod")}
        form = QFormLayout()
        form.addRow(self._labels["patient"], self.patient_id)
        form.addRow(self._labels["accession"], self.accession)
        for key, check, edit in (
            ("from", self.use_from, self.date_from),
            ("to", self.use_to, self.date_to),
        ):
            row = QHBoxLayout()
            row.addWidget(check)
            row.addWidget(edit, 1)
            form.addRow(self._labels[key], row)
            self._labels[key].setBuddy(edit)
            check.toggled.connect(edit.setEnabled)
        form.addRow(self._labels["mod"], self.modality)
        self._labels["patient"].setBuddy(self.patient_id)
        self._labels["accession"].setBuddy(self.accession)
        self._labels["mod"].setBuddy(self.modality)

        buttons = QHBoxLayout()
        buttons.addWidget(self.retrieve_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addLayout(form, 1)
        top.addWidget(self.search_button, 0, Qt.AlignmentFlag.AlignBottom)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.progress)
        lay.addWidget(self.message)
        lay.addLayout(buttons)

        self.search_button.clicked.connect(self.search)
        self.retrieve_button.clicked.connect(self.retrieve)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.close)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.retrieve())
        self.resize(820, 520)
        plain_labels(self)  # names and descriptions from PACS are text, never HTML
        self.retranslate()
        self._update_buttons()

    def _date_edit(self, name: str, date: QDate) -> QDateEdit:
        edit = QDateEdit(date, self)
        edit.setObjectName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setEnabled(False)
        return edit

    # -------------------------------------------------------------- texts
    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Search PACS"))
        texts = {
            "patient": self.tr("&Patient ID:"),
            "accession": self.tr("&Accession number:"),
            "from": self.tr("Study date &from:"),
            "to": self.tr("Study date &to:"),
            "mod": self.tr("&Modality:"),
        }
        for key, text in texts.items():
            self._labels[key].setText(text)
        self.patient_id.setAccessibleName(self.tr("Patient ID"))
        self.accession.setAccessibleName(self.tr("Accession number"))
        self.use_from.setAccessibleName(self.tr("Limit the study date from"))
        self.use_to.setAccessibleName(self.tr("Limit the study date to"))
        self.date_from.setAccessibleName(self.tr("Study date from"))
        self.date_to.setAccessibleName(self.tr("Study date to"))
        self.modality.setAccessibleName(self.tr("Modality"))
        self.patient_id.setPlaceholderText(self.tr("any; * matches any characters"))
        self.accession.setPlaceholderText(self.tr("any"))
        current = self.modality.currentData()
        self.modality.clear()
        self.modality.addItem(self.tr("Any"), "")
        for code in MODALITIES:
            self.modality.addItem(code, code)
        self.modality.setCurrentIndex(max(0, self.modality.findData(current)))
        self.search_button.setText(self.tr("Search"))
        self.search_button.setAccessibleName(self.tr("Search PACS"))
        self.retrieve_button.setText(self.tr("Retrieve and open"))
        self.retrieve_button.setAccessibleName(self.tr("Retrieve the selected study and open it"))
        self.cancel_button.setText(self.tr("Cancel"))
        self.cancel_button.setAccessibleName(self.tr("Cancel the search or retrieval"))
        self.close_button.setText(self.tr("Close"))
        self.close_button.setAccessibleName(self.tr("Close"))
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Patient ID"),
                self.tr("Patient name"),
                self.tr("Study date"),
                self.tr("Accession"),
                self.tr("Modality"),
                self.tr("Images"),
                self.tr("Description"),
            ]
        )
        self.table.setAccessibleName(self.tr("Studies found in PACS"))
        self.progress.setAccessibleName(self.tr("Retrieval progress"))
        self.message.setAccessibleName(self.tr("Search status"))

    # -------------------------------------------------------------- state
    def _update_buttons(self) -> None:
        busy = bool(self._busy)
        self.search_button.setEnabled(not busy)
        self.retrieve_button.setEnabled(not busy and self.selected() is not None)
        self.cancel_button.setEnabled(busy)

    def selected(self) -> Any:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.hits):
            return None
        return self.hits[rows[0].row()]

    def _say(self, text: str, *, bad: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #b00020;" if bad else "")

    # -------------------------------------------------------------- search
    def criteria(self) -> dict[str, Any]:
        """The search's keyword arguments for ``viewer.pacs.query.search``."""

        def day(check: QCheckBox, edit: QDateEdit) -> dt.date | None:
            if not check.isChecked():
                return None
            q = edit.date()
            return dt.date(q.year(), q.month(), q.day())

        return {
            "patient_id": self.patient_id.text().strip() or None,
            "accession": self.accession.text().strip() or None,
            "date_from": day(self.use_from, self.date_from),
            "date_to": day(self.use_to, self.date_to),
            "modality": str(self.modality.currentData() or "") or None,
        }

    def search(self) -> None:
        if self._busy:
            return
        if not self.settings.values.pacs.enabled:
            self._say(self.tr("PACS is not set up on this workstation (ask IT)."), bad=True)
            return
        criteria, settings = self.criteria(), self.settings
        if (
            criteria["date_from"]
            and criteria["date_to"]
            and criteria["date_from"] > criteria["date_to"]
        ):
            self._say(self.tr("The first date is after the last date."), bad=True)
            return

        def job(_p: Any, cancelled: Any) -> list[Any]:
            from viewer.pacs import query

            return list(
                query.search(settings, timeout_s=SEARCH_TIMEOUT_S, cancel=cancelled, **criteria)
            )

        self._start("search", self.tr("Searching PACS…"))
        self._job = self.runner.submit(
            job, on_result=self._found, on_error=self._failed, name="pacs-search"
        )

    def _found(self, hits: list[Any]) -> None:
        self._stop()
        self.hits = list(hits)
        self.table.setRowCount(len(self.hits))
        for row, hit in enumerate(self.hits):
            values = (
                hit.patient_id,
                hit.patient_name,
                _date_text(hit.study_date),
                hit.accession,
                ", ".join(hit.modalities),
                "" if hit.instances is None else str(hit.instances),
                hit.description,
            )
            for col, value in enumerate(values):
                # names and descriptions come from PACS: a bidirectional override or a control
                # character would reorder or hide what the reader sees (viewer.errors.printable)
                self.table.setItem(row, col, QTableWidgetItem(printable(value or "")))
        if self.hits:
            self.table.selectRow(0)
            self._say(self.tr("Studies found: {0}.").format(len(self.hits)))
        else:
            self._say(self.tr("No study matches."))
        self._update_buttons()

    # -------------------------------------------------------------- retrieve
    def retrieve(self) -> None:
        hit = self.selected()
        if self._busy or hit is None:
            return
        settings, uid, audit_log = self.settings, str(hit.study_uid), self.audit
        dest = cache_dir(settings, uid)

        def job(progress: Any, cancelled: Any) -> Path:
            from viewer.pacs import query

            audit = audit_log() if audit_log is not None else None
            dest.mkdir(parents=True, exist_ok=True)
            query.retrieve(
                settings,
                uid,
                dest,
                progress=lambda done, total: progress((done, total)),
                cancel=cancelled,
                audit=audit,
            )
            return dest

        self._start("retrieve", self.tr("Retrieving the study…"))
        self.progress.setRange(0, 0)  # busy until the first count arrives
        self.progress.show()
        self._job = self.runner.submit(
            job,
            on_result=self._retrieved,
            on_error=self._failed,
            on_progress=self._progress,
            name="pacs-retrieve",
        )

    def _progress(self, value: Any) -> None:
        """``(done, total)`` images; a total of 0 or None: not known yet."""
        try:
            done, total = int(value[0]), int(value[1] or 0)
        except (TypeError, ValueError, IndexError):
            return
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
        self._say(self.tr("Retrieving the study… {0} images").format(done))

    def _retrieved(self, folder: Path) -> None:
        cancelled = self._job is not None and self._job.cancelled()
        self._stop()
        if cancelled:  # finished before it saw the request: nothing is opened
            self._say(self.tr("Cancelled."))
            return
        self._say(self.tr("Retrieved into {0}; opened in the study browser.").format(folder))
        self.retrieved.emit(folder)

    # -------------------------------------------------------------- common
    def _start(self, what: str, text: str) -> None:
        self._busy = what
        self._say(text)
        self._update_buttons()

    def _stop(self) -> None:
        self._busy = ""
        self._job = None
        self.progress.hide()
        self._update_buttons()

    def _failed(self, exc: BaseException) -> None:
        cancelled = self._job is not None and self._job.cancelled()
        self._stop()
        if cancelled:
            self._say(self.tr("Cancelled."))
        else:
            self._say(error_text(exc), bad=True)

    def cancel(self) -> None:
        """Stop the search or retrieval (the core checks between requests and images)."""
        if self._job is not None:
            self._job.cancel()
            self._say(self.tr("Cancelling…"))

    def closeEvent(self, event: Any) -> None:
        self.runner.shutdown(5_000)
        super().closeEvent(event)
