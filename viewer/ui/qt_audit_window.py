"""Audit window: browse and filter the log, verify its chain, export a report.

Why: the quality lead must be able to see what was decided, by whom and with which model, and to
prove the log is intact, without a command line. The window reads, verifies and exports through
:mod:`viewer.session.audit_view` (over the same core functions as ``bedside audit ...``) and shows
the rows with :mod:`viewer.ui.qt_audit_table`; a patient ID typed as a filter is turned into its
keyed pseudonym by the core and never stored or shown. Times are stored in UTC and shown in the
local zone. Loading, verifying and exporting run in a worker with progress and cancel; only the
GUI thread touches widgets.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, QEvent, Qt, QUrl
from PySide6.QtGui import QCloseEvent, QDesktopServices, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from viewer.config import Settings
from viewer.errors import AuditError
from viewer.session.audit_view import (
    EXPORT_FORMATS,
    MAX_ROWS_SHOWN,
    AuditFilters,
    CentralVerifyOutcome,
    DepartmentRows,
    ExportOutcome,
    VerifyOutcome,
    central_enabled,
    load_central_records,
    load_records,
    run_export,
    verify_central,
    verify_log,
)
from viewer.session.forwarding_status import ForwardingStatus
from viewer.ui.plain_text import plain_labels
from viewer.ui.qt_audit_table import AuditTableModel, record_text
from viewer.ui.qt_forwarding_status import QtForwardingStatus
from viewer.ui.save_dialog import ask_save_path
from viewer.ui.workers import JobRunner, error_text

if TYPE_CHECKING:
    from viewer.audit import AuditRecord
    from viewer.session.forwarding_status import RunningForwarding

# how long closing the window waits for its worker: a cancelled export cleans up within it; a
# department-store request to a server that stopped answering (no client-side read timeout in
# libpq) is left to end on its own instead of freezing the window and the app's closing
SHUTDOWN_WAIT_MS = 5_000


class QtAuditWindow(QDialog):
    """Browse, filter, verify and export the audit log."""

    def __init__(
        self,
        settings: Settings,
        parent: QWidget | None = None,
        *,
        trail: RunningForwarding | None = None,
    ) -> None:
        """``trail``: the running app's audit trail, so the forwarding status says what its
        forwarders know (forwarding that never started), as the status bar does."""
        super().__init__(parent)
        self.setObjectName("auditWindow")
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.settings = settings
        self._runner = JobRunner(1, self, name="audit-window")
        self._loading = False
        self._verifying = False
        self._export_job: Any = None
        self._verify_outcome: VerifyOutcome | None = None
        self._verify_error = ""
        self._export_state: tuple[str, dict[str, str]] = ("", {})
        self._last_export: Path | None = None
        self._load_error = ""
        self._total = 0
        self.max_rows = MAX_ROWS_SHOWN
        self._central_outcome: CentralVerifyOutcome | None = None

        # filters
        self._filter_box = QGroupBox(self)
        self._filter_box.setObjectName("auditFilters")
        self.date_enabled = QCheckBox(self)
        self.date_enabled.setObjectName("dateFilterEnabled")
        today = QDate.currentDate()
        self.date_from = QDateEdit(today.addDays(-30), self)
        self.date_from.setObjectName("dateFrom")
        self.date_to = QDateEdit(today, self)
        self.date_to.setObjectName("dateTo")
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
        self.date_enabled.toggled.connect(self.date_from.setEnabled)
        self.date_enabled.toggled.connect(self.date_to.setEnabled)
        self.user_filter = QLineEdit(self)
        self.user_filter.setObjectName("userFilter")
        self.model_filter = QLineEdit(self)
        self.model_filter.setObjectName("modelFilter")
        self.patient_filter = QLineEdit(self)
        self.patient_filter.setObjectName("patientFilter")
        self.event_filter = QComboBox(self)
        self.event_filter.setObjectName("eventFilter")
        self.apply_button = QPushButton(self)
        self.apply_button.setObjectName("applyFilterButton")
        self.apply_button.clicked.connect(self.reload)
        self.clear_button = QPushButton(self)
        self.clear_button.setObjectName("clearFilterButton")
        self.clear_button.clicked.connect(self.clear_filters)
        for line in (self.user_filter, self.model_filter, self.patient_filter):
            line.returnPressed.connect(self.reload)
            line.setClearButtonEnabled(True)
        # source: this workstation's log, or the department audit store ([audit_central])
        self.source = QComboBox(self)
        self.source.setObjectName("auditSource")
        self.workstation_filter = QComboBox(self)
        self.workstation_filter.setObjectName("workstationFilter")
        self.workstation_filter.setEnabled(False)
        for combo in (self.source, self.workstation_filter):
            combo.setVisible(central_enabled(settings))
        self.source.currentIndexChanged.connect(self._source_changed)
        self.workstation_filter.activated.connect(lambda _i: self.reload())

        self._labels: dict[str, QLabel] = {k: QLabel(self) for k in ("from", "to", "user")}
        self._labels.update({k: QLabel(self) for k in ("model", "patient", "event")})
        self._labels.update({k: QLabel(self) for k in ("source", "workstation")})
        for key in ("source", "workstation"):
            self._labels[key].setVisible(central_enabled(settings))
        grid = QGridLayout(self._filter_box)
        grid.addWidget(self.date_enabled, 0, 0)
        grid.addWidget(self._labels["from"], 0, 1)
        grid.addWidget(self.date_from, 0, 2)
        grid.addWidget(self._labels["to"], 0, 3)
        grid.addWidget(self.date_to, 0, 4)
        grid.addWidget(self._labels["event"], 0, 5)
        grid.addWidget(self.event_filter, 0, 6)
        grid.addWidget(self._labels["user"], 1, 1)
        grid.addWidget(self.user_filter, 1, 2)
        grid.addWidget(self._labels["model"], 1, 3)
        grid.addWidget(self.model_filter, 1, 4)
        grid.addWidget(self._labels["patient"], 1, 5)
        grid.addWidget(self.patient_filter, 1, 6)
        grid.addWidget(self.apply_button, 0, 7)
        grid.addWidget(self.clear_button, 1, 7)
        grid.addWidget(self._labels["source"], 2, 1)
        grid.addWidget(self.source, 2, 2)
        grid.addWidget(self._labels["workstation"], 2, 3)
        grid.addWidget(self.workstation_filter, 2, 4)
        for key, widget in (
            ("from", self.date_from),
            ("to", self.date_to),
            ("user", self.user_filter),
            ("model", self.model_filter),
            ("patient", self.patient_filter),
            ("event", self.event_filter),
            ("source", self.source),
            ("workstation", self.workstation_filter),
        ):
            self._labels[key].setBuddy(widget)

        # table
        self.model = AuditTableModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("auditTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._show_detail)
        self.detail = QPlainTextEdit(self)
        self.detail.setObjectName("recordDetail")
        self.detail.setReadOnly(True)
        self.detail.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self._splitter = QSplitter(Qt.Orientation.Vertical, self)
        self._splitter.addWidget(self.table)
        self._splitter.addWidget(self.detail)
        self._splitter.setStretchFactor(0, 4)
        self._splitter.setStretchFactor(1, 1)
        self._splitter.setSizes([440, 110])
        self.row_count = QLabel(self)
        self.row_count.setObjectName("auditRowCount")

        # verify
        self.verify_button = QPushButton(self)
        self.verify_button.setObjectName("verifyButton")
        self.verify_button.clicked.connect(lambda: self.verify())
        self.verify_checkpoint_button = QPushButton(self)
        self.verify_checkpoint_button.setObjectName("verifyCheckpointButton")
        self.verify_checkpoint_button.clicked.connect(self.choose_checkpoints_and_verify)
        self.verify_result = QLabel(self)
        self.verify_result.setObjectName("verifyResult")
        self.verify_result.setWordWrap(True)
        self.verify_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # export
        self.export_format = QComboBox(self)
        self.export_format.setObjectName("exportFormat")
        self.export_button = QPushButton(self)
        self.export_button.setObjectName("exportButton")
        self.export_button.clicked.connect(self.choose_and_export)
        self.export_progress = QProgressBar(self)
        self.export_progress.setObjectName("exportProgress")
        self.export_progress.setRange(0, 100)
        self.export_progress.setValue(0)
        self.export_progress.hide()
        self.cancel_export_button = QPushButton(self)
        self.cancel_export_button.setObjectName("cancelExportButton")
        self.cancel_export_button.clicked.connect(self.cancel_export)
        self.cancel_export_button.hide()
        self.export_status = QLabel(self)
        self.export_status.setObjectName("exportStatus")
        self.export_status.setWordWrap(True)
        self.open_export_button = QPushButton(self)
        self.open_export_button.setObjectName("openExportButton")
        self.open_export_button.clicked.connect(self.open_export)
        self.open_export_button.setEnabled(False)
        self.close_button = QPushButton(self)
        self.close_button.setObjectName("closeAuditButton")
        self.close_button.clicked.connect(self.close)

        # issue 18: whether this workstation's rows reach the department store and ATNA (what
        # verify --central compares against); nothing when neither is configured
        self.forwarding = QtForwardingStatus(ForwardingStatus(settings, trail), self, vertical=True)

        verify_row = QHBoxLayout()
        verify_row.addWidget(self.verify_button)
        verify_row.addWidget(self.verify_checkpoint_button)
        verify_row.addWidget(self.verify_result, 1)
        export_row = QHBoxLayout()
        self._format_label = QLabel(self)
        self._format_label.setBuddy(self.export_format)
        export_row.addWidget(self._format_label)
        export_row.addWidget(self.export_format)
        export_row.addWidget(self.export_button)
        export_row.addWidget(self.export_progress, 1)
        export_row.addWidget(self.cancel_export_button)
        export_row.addWidget(self.open_export_button)
        export_row.addStretch(0)
        export_row.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self._filter_box)
        layout.addWidget(self._splitter, 1)
        layout.addWidget(self.row_count)
        layout.addLayout(verify_row)
        layout.addWidget(self.forwarding)
        layout.addLayout(export_row)
        layout.addWidget(self.export_status)
        self.resize(1100, 680)

        plain_labels(self)  # text from files is shown as text, never as HTML
        self.retranslate()
        self._update_buttons()
        self.reload()

    # -- texts ---------------------------------------------------------------------------------
    def retranslate(self) -> None:
        """Every visible string; called again on QEvent.LanguageChange."""
        self.setWindowTitle(self.tr("Audit log"))
        self._filter_box.setTitle(self.tr("Filter"))
        self.date_enabled.setText(self.tr("Dates"))
        self.date_enabled.setAccessibleName(self.tr("Filter by date"))
        self._labels["from"].setText(self.tr("From:"))
        self._labels["to"].setText(self.tr("To:"))
        self._labels["user"].setText(self.tr("User:"))
        self._labels["model"].setText(self.tr("Model:"))
        self._labels["patient"].setText(self.tr("Patient ID:"))
        self._labels["event"].setText(self.tr("Event:"))
        self.date_from.setAccessibleName(self.tr("From date (local)"))
        self.date_to.setAccessibleName(self.tr("To date (local)"))
        self.user_filter.setAccessibleName(self.tr("User filter"))
        self.user_filter.setPlaceholderText(self.tr("name or account"))
        self.model_filter.setAccessibleName(self.tr("Model filter"))
        self.model_filter.setPlaceholderText(self.tr("model id"))
        self.patient_filter.setAccessibleName(self.tr("Patient ID filter"))
        self.patient_filter.setPlaceholderText(self.tr("searched by pseudonym"))
        self.patient_filter.setToolTip(
            self.tr(
                "The log never stores patient IDs. The ID you type is turned into its "
                "pseudonym, which is what is searched."
            )
        )
        current_event = self.event_filter.currentData()
        self.event_filter.clear()
        self.event_filter.addItem(self.tr("All events"), "")
        for value, name in self.model.event_names().items():
            self.event_filter.addItem(name, value)
        self.event_filter.setCurrentIndex(max(0, self.event_filter.findData(current_event or "")))
        self.event_filter.setAccessibleName(self.tr("Event type filter"))
        self._labels["source"].setText(self.tr("Source:"))
        self._labels["workstation"].setText(self.tr("Workstation:"))
        current_source = self.source.currentData()
        self.source.blockSignals(True)
        self.source.clear()
        self.source.addItem(self.tr("This workstation"), "local")
        self.source.addItem(self.tr("Department store (all workstations)"), "central")
        self.source.setCurrentIndex(max(0, self.source.findData(current_source or "local")))
        self.source.blockSignals(False)
        self.source.setAccessibleName(self.tr("Audit records source"))
        self.source.setToolTip(
            self.tr(
                "The department audit store holds a copy of every workstation's log that its "
                "writers cannot change."
            )
        )
        self.workstation_filter.setAccessibleName(self.tr("Workstation filter"))
        if self.workstation_filter.count():
            self.workstation_filter.setItemText(0, self.tr("All workstations"))
        else:
            self.workstation_filter.addItem(self.tr("All workstations"), "")
        self.apply_button.setText(self.tr("Apply"))
        self.apply_button.setAccessibleName(self.tr("Apply the filter"))
        self.clear_button.setText(self.tr("Clear"))
        self.clear_button.setAccessibleName(self.tr("Clear the filter"))
        self.table.setAccessibleName(self.tr("Audit records"))
        self.model.retranslate()
        self.verify_button.setText(self.tr("Verify log"))
        self.verify_button.setAccessibleName(self.tr("Verify the audit log's hash chain"))
        self.verify_result.setAccessibleName(self.tr("Verification result"))
        self.verify_checkpoint_button.setText(self.tr("Verify with checkpoint files…"))
        self.verify_checkpoint_button.setAccessibleName(
            self.tr("Verify the log against checkpoints saved with earlier reports")
        )
        self.verify_checkpoint_button.setToolTip(
            self.tr(
                "Each exported report saves a signed checkpoint (row count and last hash). "
                "Checking against earlier checkpoints detects rows removed from the end."
            )
        )
        self.detail.setAccessibleName(self.tr("Selected record"))
        self.detail.setPlaceholderText(self.tr("Select a row to see the whole record."))
        self._format_label.setText(self.tr("Export as:"))
        current_fmt = self.export_format.currentData()
        self.export_format.clear()
        self.export_format.addItem(self.tr("PDF report"), "pdf")
        self.export_format.addItem(self.tr("CSV (spreadsheet)"), "csv")
        self.export_format.addItem(self.tr("JSON (machine-readable)"), "json")
        self.export_format.setCurrentIndex(max(0, self.export_format.findData(current_fmt)))
        self.export_format.setAccessibleName(self.tr("Export format"))
        self.export_button.setText(self.tr("Export…"))
        self.export_button.setAccessibleName(self.tr("Export the audit report"))
        self.export_progress.setAccessibleName(self.tr("Export progress"))
        self.cancel_export_button.setText(self.tr("Cancel"))
        self.cancel_export_button.setAccessibleName(self.tr("Cancel the export"))
        self.open_export_button.setText(self.tr("Open exported file"))
        self.open_export_button.setAccessibleName(self.tr("Open the exported file"))
        self.close_button.setText(self.tr("Close"))
        self.close_button.setAccessibleName(self.tr("Close the audit window"))
        self._render_row_count()
        self._render_verify()
        self._render_export()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # -- browsing ------------------------------------------------------------------------------
    def filters(self) -> AuditFilters:
        date_from = date_to = None
        if self.date_enabled.isChecked():
            # QDate.toPython is stubbed as returning object; for a QDate it is a datetime.date.
            start: date = self.date_from.date().toPython()  # type: ignore[assignment]
            end: date = self.date_to.date().toPython()  # type: ignore[assignment]
            if end < start:
                start, end = end, start
            # Naive local midnights: astimezone() applies the zone's rules for that very date
            # (daylight saving), not today's offset.
            date_from = datetime.combine(start, time.min).astimezone(UTC)
            date_to = datetime.combine(end + timedelta(days=1), time.min).astimezone(UTC)
        return AuditFilters(
            date_from=date_from,
            date_to=date_to,
            user=self.user_filter.text().strip(),
            model=self.model_filter.text().strip(),
            patient_id=self.patient_filter.text().strip(),
            event_type=str(self.event_filter.currentData() or ""),
        )

    def clear_filters(self) -> None:
        self.date_enabled.setChecked(False)
        for edit in (self.user_filter, self.model_filter, self.patient_filter):
            edit.clear()
        self.event_filter.setCurrentIndex(0)
        self.reload()

    def reload(self) -> None:
        """Read the records matching the filters in a worker."""
        if self._loading:
            return
        self._loading = True
        self._load_error = ""
        self._render_row_count()
        self._update_buttons()
        settings, filters, limit = self.settings, self.filters(), self.max_rows
        if self.is_central():
            workstation = str(self.workstation_filter.currentData() or "")
            self._runner.submit(
                lambda _p, _c: load_central_records(settings, filters, workstation, limit),
                on_result=self._on_records,
                on_error=self._on_records_failed,
                name="audit-records",
            )
            return
        self._runner.submit(
            lambda _p, _c: load_records(settings, filters, limit),
            on_result=self._on_records,
            on_error=self._on_records_failed,
            name="audit-records",
        )

    def is_central(self) -> bool:
        """Whether the window shows the department audit store instead of the local log."""
        return bool(self.source.currentData() == "central")

    def _source_changed(self) -> None:
        self.workstation_filter.setEnabled(self.is_central())
        self._verify_outcome = None
        self._central_outcome = None
        self._verify_error = ""
        self._render_verify()
        self._update_buttons()
        self.reload()

    def _set_workstations(self, known: list[str]) -> None:
        current = self.workstation_filter.currentData() or ""
        self.workstation_filter.clear()
        self.workstation_filter.addItem(self.tr("All workstations"), "")
        for name in known:
            self.workstation_filter.addItem(name, name)
        self.workstation_filter.setCurrentIndex(max(0, self.workstation_filter.findData(current)))

    def _on_records(self, result: tuple[list[AuditRecord], int] | DepartmentRows) -> None:
        self._loading = False
        if isinstance(result, DepartmentRows):
            self._total = result.total
            self.model.set_records(result.records, result.workstations)
            self._set_workstations(result.known)
        else:
            records, self._total = result
            self.model.set_records(records)
        self.table.resizeColumnsToContents()
        self._render_row_count()
        self._update_buttons()

    def _on_records_failed(self, exc: BaseException) -> None:
        self._loading = False
        self._load_error = error_text(exc)
        self.model.set_records([])
        self._render_row_count()
        self._update_buttons()

    def _render_row_count(self) -> None:
        if self._loading:
            text, style = self.tr("Reading the audit log…"), ""
        elif self._load_error and self.is_central():
            text = self.tr("The department audit store cannot be read: {reason}").format(
                reason=self._load_error
            )
            style = "color: #b00020;"
        elif self._load_error:
            text = self.tr("The audit log cannot be read: {reason}").format(reason=self._load_error)
            style = "color: #b00020;"
        elif self._total > self.model.rowCount():
            text = self.tr(
                "Showing the latest {count} of {total} matching records; narrow the filter "
                "(dates, user, model) to see older ones. Exports include all of them."
            ).format(count=self.model.rowCount(), total=self._total)
            style = "color: #8a4b00;"
        else:
            text, style = self.tr("{count} records shown").format(count=self.model.rowCount()), ""
        self.row_count.setText(text)
        self.row_count.setStyleSheet(style)

    def _show_detail(self) -> None:
        indexes = self.table.selectionModel().selectedRows()
        if not indexes:
            self.detail.clear()
            return
        row = indexes[0].row()
        self.detail.setPlainText(record_text(self.model.record(row), self.model.workstation(row)))

    # -- verification --------------------------------------------------------------------------
    def choose_checkpoints_and_verify(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self,
            self.tr("Checkpoint files from earlier reports"),
            str(Path.home()),
            self.tr("Checkpoints (*.json);;All files (*)"),
        )
        if paths:
            self.verify(tuple(Path(p) for p in paths))

    def verify(self, checkpoint_files: tuple[Path, ...] = ()) -> None:
        """Verify in a worker; ``checkpoint_files`` are checkpoints saved with earlier reports."""
        if self._verifying:
            return
        self._verifying = True
        self._verify_outcome = None
        self._central_outcome = None
        self._verify_error = ""
        self._render_verify()
        self._update_buttons()
        settings = self.settings
        if self.is_central():
            self._runner.submit(
                lambda _p, _c: verify_central(settings),
                on_result=self._on_central_verified,
                on_error=self._on_verify_failed,
                name="audit-verify-central",
            )
            return
        self._runner.submit(
            lambda _p, _c: verify_log(settings, checkpoint_files),
            on_result=self._on_verified,
            on_error=self._on_verify_failed,
            name="audit-verify",
        )

    def _on_verified(self, outcome: VerifyOutcome) -> None:
        self._verifying = False
        self._verify_outcome = outcome
        self._render_verify()
        self._update_buttons()
        self.reload()  # the verification itself is a new row

    def _on_central_verified(self, outcome: CentralVerifyOutcome) -> None:
        self._verifying = False
        self._central_outcome = outcome
        self._render_verify()
        self._update_buttons()

    def central_outcome(self) -> CentralVerifyOutcome | None:
        return self._central_outcome

    def _on_verify_failed(self, exc: BaseException) -> None:
        self._verifying = False
        self._verify_error = error_text(exc)
        self._render_verify()
        self._update_buttons()

    def verify_outcome(self) -> VerifyOutcome | None:
        return self._verify_outcome

    def _render_verify(self) -> None:
        outcome = self._verify_outcome
        if self._verifying:
            text, style = self.tr("Verifying…"), ""
        elif self._verify_error:
            text = self.tr("✘ Verification could not run: {reason}").format(
                reason=self._verify_error
            )
            style = "color: white; background: #b00020; padding: 4px; font-weight: bold;"
        elif self._central_outcome is not None and self._central_outcome.ok:
            central = self._central_outcome
            text = self.tr(
                "✔ This workstation's log ({local} rows) matches the department store; "
                "{chains} workstation chain(s) in the store verified."
            ).format(local=central.local_rows, chains=central.chains)
            text = " ".join([text, *central.notes])
            style = "color: white; background: #1b5e20; padding: 4px; font-weight: bold;"
        elif self._central_outcome is not None:
            text = self.tr("✘ THE LOG DOES NOT MATCH THE DEPARTMENT STORE. {findings}").format(
                findings=" ".join(self._central_outcome.findings)
            )
            style = "color: white; background: #b00020; padding: 4px; font-weight: bold;"
        elif outcome is None:
            text, style = self.tr("Not verified yet."), "color: #555;"
        elif outcome.ok:
            text = self.tr("✔ Log intact: {count} rows verified, hash chain unbroken.").format(
                count=outcome.count
            )
            if outcome.files:
                text += " " + self.tr("{n} checkpoint file(s) matched.").format(n=outcome.files)
            style = "color: white; background: #1b5e20; padding: 4px; font-weight: bold;"
        else:
            where = (
                self.tr("first bad row: #{row}").format(row=outcome.first_bad)
                if outcome.first_bad is not None
                else self.tr("rows are missing")
            )
            text = self.tr("✘ LOG ALTERED ({where}). {message}").format(
                where=where, message=outcome.message
            )
            style = "color: white; background: #b00020; padding: 4px; font-weight: bold;"
        if outcome is not None and not outcome.recorded and not self._verifying:
            text += " " + self.tr("(This verification could not be recorded in the log.)")
        self.verify_result.setText(text.strip())
        self.verify_result.setStyleSheet(style)

    # -- export --------------------------------------------------------------------------------
    def choose_and_export(self) -> None:
        fmt = str(self.export_format.currentData() or "pdf")
        filters = {
            "pdf": self.tr("PDF files (*.pdf)"),
            "csv": self.tr("CSV files (*.csv)"),
            "json": self.tr("JSON files (*.json)"),
        }
        title = self.tr("Export the audit report")
        target = ask_save_path(self, title, "bedside-audit", fmt, filters[fmt])
        if target is not None:
            self.export_to(target, fmt)

    def export_to(self, path: Path, fmt: str | None = None) -> None:
        """Export the records matching the current filters to ``path`` in a worker."""
        if self._export_job is not None:
            return
        fmt = fmt or str(self.export_format.currentData() or "pdf")
        if fmt not in EXPORT_FORMATS:
            raise AuditError(f"Unknown export format '{fmt}' (allowed: pdf, csv, json).")
        self._last_export = None
        self._export_state = ("running", {"file": path.name})
        self.export_progress.setValue(0)
        self.export_progress.setRange(0, 0)
        self._render_export()
        settings, filters = self.settings, self.filters()

        self._export_job = self._runner.submit(
            lambda progress, cancelled: run_export(
                settings, fmt, path, filters, progress, cancelled
            ),
            on_result=self._on_exported,
            on_error=self._on_export_failed,
            on_progress=self._on_export_progress,
            name="audit-export",
        )
        self._update_buttons()

    def _on_export_progress(self, value: object) -> None:
        if not isinstance(value, tuple) or len(value) != 2:
            return
        done, total = value
        if total and total > 0:
            self.export_progress.setRange(0, int(total))
            self.export_progress.setValue(min(int(done), int(total)))

    def cancel_export(self) -> None:
        if self._export_job is not None:
            self._export_job.cancel()
            self._export_state = ("cancelling", {})
            self._render_export()

    def _on_exported(self, outcome: ExportOutcome | None) -> None:
        self._export_job = None
        if outcome is None:
            self._export_state = ("cancelled", {})
        else:
            self._last_export = outcome.path
            fields = {
                "path": str(outcome.path),
                "rows": str(outcome.rows),
                "checkpoint": outcome.checkpoint_path.name,
            }
            self._export_state = ("done" if outcome.log_ok else "done_broken", fields)
            self.export_progress.setRange(0, 1)
            self.export_progress.setValue(1)
        self._render_export()
        self._update_buttons()
        self.reload()  # the export is recorded in the log

    def _on_export_failed(self, exc: BaseException) -> None:
        self._export_job = None
        self._export_state = ("failed", {"reason": error_text(exc)})
        self._render_export()
        self._update_buttons()

    def is_exporting(self) -> bool:
        return self._export_job is not None

    def _render_export(self) -> None:
        key, fields = self._export_state
        running = key in ("running", "cancelling")
        self.export_progress.setVisible(running or key.startswith("done"))
        self.cancel_export_button.setVisible(running)
        texts = {
            "": "",
            "running": self.tr("Exporting {file}…"),
            "cancelling": self.tr("Cancelling…"),
            "cancelled": self.tr("Export cancelled; no file was kept."),
            "done": self.tr(
                "Exported {rows} records to {path}. Its signed checkpoint was saved as "
                "{checkpoint}: keep it to detect later truncation."
            ),
            "done_broken": self.tr(
                "Exported {rows} records to {path}, but the log FAILED verification; the "
                "report says so on every page."
            ),
            "failed": self.tr("Export failed: {reason}"),
        }
        self.export_status.setText(texts[key].format(**fields))
        self.export_status.setStyleSheet(
            "color: #b00020;" if key in ("failed", "done_broken") else ""
        )

    def open_export(self) -> None:
        if self._last_export is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._last_export)))

    # -- state ---------------------------------------------------------------------------------
    def is_busy(self) -> bool:
        return self._loading or self._verifying or self._export_job is not None

    def _update_buttons(self) -> None:
        exporting = self._export_job is not None
        self.apply_button.setEnabled(not self._loading)
        self.clear_button.setEnabled(not self._loading)
        self.verify_button.setEnabled(not self._verifying)
        central = self.is_central()
        self.verify_checkpoint_button.setEnabled(not self._verifying and not central)
        # an export signs a checkpoint into this workstation's log: it is of the local log only
        self.export_button.setEnabled(not exporting and not central)
        self.export_format.setEnabled(not exporting)
        self.cancel_export_button.setEnabled(exporting)
        self.open_export_button.setEnabled(self._last_export is not None and not exporting)

    def shutdown(self) -> None:
        """Cancel and wait for the worker, ``SHUTDOWN_WAIT_MS`` at most (window closing, tests'
        teardown)."""
        self._runner.shutdown(SHUTDOWN_WAIT_MS)
        self.forwarding.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()  # cancels an export (no file is left) and waits for the worker
        super().closeEvent(event)

    def reject(self) -> None:
        self.shutdown()
        super().reject()
