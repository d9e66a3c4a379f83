"""The clinician's decision on the AI finding: confirm or override (with a reason), amend later.

Why it looks like this (21 CFR Part 11 and DESIGN.md "what the physician must never see"): the
panel says "Saved" only after the audit row committed — the main window calls :meth:`set_saved`
after ``AuditLog.append`` returned, and :meth:`set_failed` on ``AuditWriteError`` keeps the decision
on screen for a retry. An override needs a reason (a short list plus free text). A saved decision is
never edited: "Amend" records a new row pointing at the old one.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from viewer.ui.shortcuts import keys_of

# from the one shortcut table (Help > Keyboard shortcuts lists the same keys)
CONFIRM_KEYS = keys_of("decisionConfirm")
OVERRIDE_KEYS = keys_of("decisionOverride")
AMEND_KEYS = keys_of("decisionAmend")


class QtDecisionPanel(QGroupBox):
    """Provisional read, Confirm / Override with reason, saved state, amendment."""

    decision_requested = Signal(str, str)  # meaning ("confirmed" | "overrode"), reason
    provisional_recorded = Signal(str)  # "present" | "absent" | "uncertain"
    amend_requested = Signal()
    # several findings: [(label, agree, reason), ...], [missed label, ...]
    findings_requested = Signal(object, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("decisionPanel")
        self._label = "finding"
        self._status_kind = "none"  # none | need_reason | saved | failed | amending
        self._status_args: tuple[str, ...] = ()
        self.provisional_value = ""

        self.provisional = QComboBox(self)
        self.provisional.setObjectName("provisionalFinding")
        self.provisional_button = QPushButton(self)
        self.provisional_button.setObjectName("provisionalButton")
        self.confirm = QPushButton(self)
        self.confirm.setObjectName("confirmButton")
        self.override = QPushButton(self)
        self.override.setObjectName("overrideButton")
        self.reason = QComboBox(self)
        self.reason.setObjectName("overrideReason")
        self.reason.setEditable(True)  # the short list plus free text
        self.reason.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.status = QLabel(self)
        self.status.setObjectName("decisionStatus")
        self.status.setWordWrap(True)
        self.amend = QPushButton(self)
        self.amend.setObjectName("amendButton")
        self.amend.setEnabled(False)
        self.provisional_label = QLabel(self)
        self.reason_label = QLabel(self)
        # several findings (a multi-label model): agree or reject each, add what the AI missed
        self.findings_label = QLabel(self)
        self.findings_table = QTableWidget(0, 3, self)
        self.findings_table.setObjectName("findingDecisions")
        self.findings_table.verticalHeader().setVisible(False)
        fh = self.findings_table.horizontalHeader()
        fh.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        fh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        fh.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.findings_table.setMaximumHeight(180)
        self.missed = QLineEdit(self)
        self.missed.setObjectName("missedFindings")
        self.save_findings = QPushButton(self)
        self.save_findings.setObjectName("saveFindingsButton")
        self._finding_labels: list[str] = []

        lay = QVBoxLayout(self)
        lay.addWidget(self.provisional_label)
        row = QHBoxLayout()
        row.addWidget(self.provisional, 1)
        row.addWidget(self.provisional_button)
        lay.addLayout(row)
        lay.addWidget(self.reason_label)
        lay.addWidget(self.reason)
        row2 = QHBoxLayout()
        row2.addWidget(self.confirm)
        row2.addWidget(self.override)
        lay.addLayout(row2)
        lay.addWidget(self.findings_label)
        lay.addWidget(self.findings_table)
        lay.addWidget(self.missed)
        lay.addWidget(self.save_findings)
        lay.addWidget(self.status)
        lay.addWidget(self.amend)

        self.confirm.clicked.connect(self.request_confirm)
        self.override.clicked.connect(self.request_override)
        self.amend.clicked.connect(self.amend_requested)
        self.save_findings.clicked.connect(self.request_findings)
        self.set_findings([], multi=False)
        self.provisional_button.clicked.connect(self._record_provisional)
        for keys, slot in (
            (CONFIRM_KEYS, self.request_confirm),
            (OVERRIDE_KEYS, self.request_override),
            (AMEND_KEYS, self._amend_shortcut),
        ):
            sc = QShortcut(QKeySequence(keys), self)
            sc.activated.connect(slot)
            sc.setObjectName(f"shortcut{keys.replace('+', '')}")
        self.set_decision_enabled(False)
        self.retranslate()

    # ----------------------------------------------------------------- actions
    def request_confirm(self) -> None:
        if self.confirm.isEnabled() and self.confirm.isVisible():
            self.decision_requested.emit("confirmed", "")

    def request_override(self) -> None:
        if not (self.override.isEnabled() and self.override.isVisible()):
            return
        reason = self.reason.currentText().strip()
        if not reason:
            self._set_status("need_reason")
            self.reason.setFocus()
            return
        self.decision_requested.emit("overrode", reason)

    def request_findings(self) -> None:
        """Each positive finding agreed or rejected (a rejection needs its reason), plus the
        findings the AI missed (comma-separated names)."""
        if not self.save_findings.isEnabled():
            return
        choices: list[tuple[str, bool, str]] = []
        for row, label in enumerate(self._finding_labels):
            combo = self.findings_table.cellWidget(row, 1)
            edit = self.findings_table.cellWidget(row, 2)
            agree = isinstance(combo, QComboBox) and combo.currentData() == "agree"
            reason = edit.text().strip() if isinstance(edit, QLineEdit) else ""
            if not agree and not reason:
                self._set_status("need_reason")
                if isinstance(edit, QLineEdit):
                    edit.setFocus()
                return
            choices.append((label, agree, reason))
        missed = [m.strip() for m in self.missed.text().split(",") if m.strip()]
        if not choices and not missed:
            return
        self.findings_requested.emit(choices, missed)

    def set_findings(self, positive: list[str], *, multi: bool) -> None:
        """The positive findings to decide one by one (shown for a multi-label model only)."""
        self._finding_labels = list(positive)
        table = self.findings_table
        table.setRowCount(len(positive))
        for row, label in enumerate(positive):
            item = QTableWidgetItem(label)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            table.setItem(row, 0, item)
            combo = QComboBox(table)
            combo.setObjectName(f"findingChoice{row}")
            combo.addItem(self.tr("agree"), "agree")
            combo.addItem(self.tr("reject"), "reject")
            combo.setAccessibleName(self.tr("Agree or reject {0}").format(label))
            table.setCellWidget(row, 1, combo)
            edit = QLineEdit(table)
            edit.setObjectName(f"findingReason{row}")
            edit.setPlaceholderText(self.tr("reason, if rejected"))
            edit.setAccessibleName(self.tr("Reason for rejecting {0}").format(label))
            table.setCellWidget(row, 2, edit)
        for w in (self.findings_label, self.findings_table, self.missed, self.save_findings):
            w.setVisible(multi)
        self.findings_table.setVisible(multi and bool(positive))
        self.missed.clear()

    def _amend_shortcut(self) -> None:
        if self.amend.isEnabled() and self.amend.isVisible():
            self.amend_requested.emit()

    def _record_provisional(self) -> None:
        value = self.provisional.currentData()
        if not value:
            return
        self.provisional_value = str(value)
        self.provisional.setEnabled(False)
        self.provisional_button.setEnabled(False)
        self.provisional_recorded.emit(self.provisional_value)

    # ----------------------------------------------------------------- state
    def reset(self, label: str = "finding") -> None:
        """A new image: nothing decided, nothing recorded."""
        relabel = label != self._label
        self._label = label
        self.provisional_value = ""
        self.provisional.setEnabled(True)
        self.provisional_button.setEnabled(True)
        self.reason.setCurrentIndex(-1)
        self.reason.setEditText("")
        self.amend.setEnabled(False)
        self._set_status("none")
        self.set_decision_enabled(False)
        if relabel:
            self._fill_provisional()
        self.provisional.setCurrentIndex(0)

    def set_decision_enabled(self, on: bool) -> None:
        for w in (
            self.confirm,
            self.override,
            self.reason,
            self.findings_table,
            self.missed,
            self.save_findings,
        ):
            w.setEnabled(on)

    def set_saved(self, meaning: str, reason: str, hhmm: str, *, amendment: bool = False) -> None:
        """Only called after the audit row committed."""
        self._set_status("saved", meaning, reason, hhmm, "1" if amendment else "")
        self.set_decision_enabled(False)
        self.amend.setEnabled(True)

    def set_failed(self, error: str) -> None:
        """The audit write failed: say so, keep the decision (reason included) for a retry."""
        self._set_status("failed", error)
        self.set_decision_enabled(True)

    def start_amendment(self, hhmm: str) -> None:
        self._set_status("amending", hhmm)
        self.set_decision_enabled(True)
        self.amend.setEnabled(False)

    def status_kind(self) -> str:
        return self._status_kind

    def _set_status(self, kind: str, *args: str) -> None:
        self._status_kind = kind
        self._status_args = args
        self._render_status()

    def _meaning_text(self, meaning: str) -> str:
        return self.tr("Confirmed") if meaning == "confirmed" else self.tr("Overridden")

    def _render_status(self) -> None:
        kind, a = self._status_kind, self._status_args
        style = ""
        if kind == "none":
            text = self.tr("Not decided yet.")
        elif kind == "need_reason":
            text = self.tr("An override needs a reason: choose one from the list or type it.")
            style = "color: #c62828;"
        elif kind == "saved":
            meaning, reason, hhmm, amendment = a
            what = self._meaning_text(meaning)
            if reason:
                what += " (" + reason + ")"
            if amendment:
                text = self.tr("Saved {0} — Amended: {1}").format(hhmm, what)
            else:
                text = self.tr("Saved {0} — {1}").format(hhmm, what)
            style = "color: #2e7d32; font-weight: bold;"
        elif kind == "failed":
            text = self.tr(
                "NOT saved: {0}\nYour decision is still here; press the button again to retry."
            ).format(a[0])
            style = "color: #c62828; font-weight: bold;"
        else:  # amending
            text = self.tr(
                "Amending the decision saved at {0}: choose the corrected decision. The earlier "
                "one stays in the log."
            ).format(a[0])
            style = "color: #b36b00;"
        self.status.setText(text)
        self.status.setStyleSheet(style)

    def _fill_provisional(self) -> None:
        current = self.provisional.currentData()
        self.provisional.blockSignals(True)
        self.provisional.clear()
        self.provisional.addItem(self.tr("— choose —"), "")
        self.provisional.addItem(self.tr("{0} present").format(self._label), "present")
        self.provisional.addItem(self.tr("{0} absent").format(self._label), "absent")
        self.provisional.addItem(self.tr("Uncertain"), "uncertain")
        idx = self.provisional.findData(current) if current else 0
        self.provisional.setCurrentIndex(max(0, idx))
        self.provisional.blockSignals(False)

    # ----------------------------------------------------------------- translation
    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.setTitle(self.tr("Your decision"))
        self.findings_label.setText(
            self.tr("Or decide each positive finding (Confirm / Override act on all of them):")
        )
        self.findings_label.setWordWrap(True)
        self.findings_table.setHorizontalHeaderLabels(
            [self.tr("Finding"), self.tr("Your call"), self.tr("Reason")]
        )
        self.findings_table.setAccessibleName(self.tr("Decision per finding"))
        self.missed.setPlaceholderText(self.tr("Findings the AI missed (names, comma-separated)"))
        self.missed.setAccessibleName(self.tr("Findings the AI missed"))
        self.save_findings.setText(self.tr("Save decisions per finding"))
        self.save_findings.setAccessibleName(self.tr("Save the decision for each finding"))
        self._fill_provisional()
        self.provisional_label.setText(self.tr("Your own read (provisional finding):"))
        self.provisional.setAccessibleName(self.tr("Provisional finding"))
        self.provisional_button.setText(self.tr("Record my read"))
        self.provisional_button.setAccessibleName(self.tr("Record my provisional finding"))
        self.confirm.setText(self.tr("Confirm AI finding"))
        self.confirm.setAccessibleName(self.tr("Confirm the AI finding"))
        self.confirm.setToolTip(self.tr("Agree with the AI finding ({0})").format(CONFIRM_KEYS))
        self.override.setText(self.tr("Override"))
        self.override.setAccessibleName(self.tr("Override the AI finding"))
        self.override.setToolTip(
            self.tr("Disagree with the AI finding; a reason is required ({0})").format(
                OVERRIDE_KEYS
            )
        )
        self.reason_label.setText(self.tr("Reason for an override:"))
        self.reason.setAccessibleName(self.tr("Override reason"))
        text = self.reason.currentText()
        self.reason.blockSignals(True)
        self.reason.clear()
        self.reason.addItems(
            [
                self.tr("Finding not present on my read"),
                self.tr("Finding present but missed by the AI"),
                self.tr("Image quality or positioning"),
                self.tr("Artefact, device or line"),
                self.tr("Prior imaging or clinical context"),
                self.tr("Outside the model's intended use"),
            ]
        )
        self.reason.setCurrentIndex(-1)
        self.reason.setEditText(text)
        self.reason.blockSignals(False)
        edit = self.reason.lineEdit()
        if edit is not None:
            edit.setPlaceholderText(self.tr("Choose or type a reason"))
        self.amend.setText(self.tr("Amend decision…"))
        self.amend.setAccessibleName(self.tr("Amend the saved decision"))
        self.amend.setToolTip(
            self.tr("Record a corrected decision; the earlier one stays in the log ({0})").format(
                AMEND_KEYS
            )
        )
        self.status.setAccessibleName(self.tr("Decision status"))
        self._render_status()
