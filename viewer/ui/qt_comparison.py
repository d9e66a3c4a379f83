"""Comparison window: a candidate version against the active one on this site's own decisions.

Why: before a site activates a new version it needs to see how it did *here* (issue 16 item 2),
and the evidence is what shadow mode recorded: the candidate's ``shadow_result`` rows beside
the active's results on images a clinician decided. The window shows exactly what ``bedside
model compare`` prints, from the same session function (``viewer.session.comparison``), read
from the audit log read-only in a worker; it writes nothing. It says plainly, above the figures,
that the clinicians' decisions are a reference standard with errors of their own.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtGui import QCloseEvent, QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from viewer.config import Settings
from viewer.session.comparison import (
    ComparisonChoices,
    ComparisonReport,
    comparison_choices,
    run_comparison,
)
from viewer.ui.plain_text import plain_labels
from viewer.ui.workers import JobRunner, error_text


class QtComparisonWindow(QDialog):
    """Choose the candidate (the shadow candidate first) and the reference (the active
    version), optionally a label and a non-inferiority margin; read the comparison."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("comparisonWindow")
        self.settings = settings
        self.report: ComparisonReport | None = None
        self._busy = False
        self._status: tuple[str, str] = ("", "")  # (key, detail) re-rendered on a language change
        self._runner = JobRunner(1, self, name="comparison", expiry_ms=0)

        self.heading = QLabel(self)
        self.heading.setObjectName("comparisonHeading")
        self.heading.setWordWrap(True)
        self.caveat = QLabel(self)
        self.caveat.setObjectName("referenceCaveat")
        self.caveat.setWordWrap(True)
        self.caveat.setStyleSheet("color: #8a4b00; font-weight: bold;")
        self.candidate = QComboBox(self)
        self.candidate.setObjectName("comparisonCandidate")
        self.against = QComboBox(self)
        self.against.setObjectName("comparisonAgainst")
        self.label_edit = QLineEdit(self)
        self.label_edit.setObjectName("comparisonLabel")
        self.margin = QDoubleSpinBox(self)
        self.margin.setObjectName("comparisonMargin")
        self.margin.setRange(0.0, 0.5)
        self.margin.setSingleStep(0.01)
        self.margin.setDecimals(2)
        self.compare_button = QPushButton(self)
        self.compare_button.setObjectName("compareButton")
        self.compare_button.clicked.connect(self.compare)
        self.close_button = QPushButton(self)
        self.close_button.setObjectName("closeComparisonButton")
        self.close_button.clicked.connect(self.close)
        self.output = QPlainTextEdit(self)
        self.output.setObjectName("comparisonReport")
        self.output.setReadOnly(True)
        self.output.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.status = QLabel(self)
        self.status.setObjectName("comparisonStatus")
        self.status.setWordWrap(True)

        self.form = QFormLayout()
        self._form_labels = [QLabel(self) for _ in range(4)]
        for text_label, field in zip(
            self._form_labels,
            (self.candidate, self.against, self.label_edit, self.margin),
            strict=True,
        ):
            text_label.setBuddy(field)
            self.form.addRow(text_label, field)
        buttons = QHBoxLayout()
        buttons.addWidget(self.compare_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.caveat)
        layout.addLayout(self.form)
        layout.addWidget(self.output, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.resize(860, 560)
        plain_labels(self)
        self.retranslate()
        self._load_choices()

    # -- texts ---------------------------------------------------------------------------------
    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Compare model versions"))
        self.heading.setText(
            self.tr(
                "A candidate version against the active one, on this site's images that a "
                "clinician decided and both versions scored (the candidate in shadow mode)."
            )
        )
        self.caveat.setText(
            self.tr(
                "The reference standard is the clinicians' final decisions. They have errors of "
                "their own and were made with the active model's result in view: these figures "
                "measure agreement with local practice, not accuracy against the truth."
            )
        )
        texts = (
            self.tr("Candidate"),
            self.tr("Against"),
            self.tr("Label"),
            self.tr("Non-inferiority margin"),
        )
        for text_label, text in zip(self._form_labels, texts, strict=True):
            text_label.setText(text)
        self.candidate.setAccessibleName(self.tr("Candidate version"))
        self.against.setAccessibleName(self.tr("Version to compare against"))
        self.label_edit.setAccessibleName(self.tr("Label to compare"))
        self.label_edit.setPlaceholderText(self.tr("the candidate's first label"))
        self.margin.setAccessibleName(self.tr("Non-inferiority margin in sensitivity"))
        self.margin.setSpecialValueText(self.tr("none"))
        self.compare_button.setText(self.tr("Compare"))
        self.compare_button.setAccessibleName(self.tr("Compare the two versions"))
        self.close_button.setText(self.tr("Close"))
        self.close_button.setAccessibleName(self.tr("Close the comparison window"))
        self.output.setAccessibleName(self.tr("Comparison report"))
        self.status.setAccessibleName(self.tr("Status"))
        self.caveat.setAccessibleName(self.tr("About the reference standard"))
        self._render_status()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _set_status(self, key: str, detail: str = "") -> None:
        self._status = (key, detail)
        self._render_status()

    def _render_status(self) -> None:
        key, detail = self._status
        texts = {
            "": "",
            "loading": self.tr("Reading the model store…"),
            "comparing": self.tr("Reading the audit log and comparing…"),
            "no_pairs": self.tr("Nothing to compare yet (see the report)."),
            "done": self.tr("Compared on {0} paired cases."),
            "failed": self.tr("The comparison failed: {0}"),
            "no_candidate": self.tr(
                "No candidate: install one as shadow in the model manager and let it score."
            ),
        }
        self.status.setText(texts.get(key, "").format(detail))

    # -- work ------------------------------------------------------------------------------------
    def is_busy(self) -> bool:
        return self._busy

    def _start(self, key: str) -> None:
        self._busy = True
        self.compare_button.setEnabled(False)
        self._set_status(key)

    def _finish(self) -> None:
        self._busy = False
        self.compare_button.setEnabled(self.candidate.count() > 0)

    def _load_choices(self) -> None:
        self._start("loading")
        settings = self.settings
        self._runner.submit(
            lambda _p, _c: comparison_choices(settings),
            on_result=self._on_choices,
            on_error=self._on_failed,
            name="comparison-choices",
        )

    def _on_choices(self, choices: ComparisonChoices) -> None:
        for combo, chosen in (
            (self.candidate, choices.candidate),
            (self.against, choices.against),
        ):
            combo.clear()
            for ref, text in choices.versions:
                combo.addItem(text, ref)
            combo.setCurrentIndex(max(0, combo.findData(chosen)))
        self._finish()
        if choices.candidate is None:
            self._set_status("no_candidate")
            return
        self._set_status("")
        self.compare()

    def compare(self) -> None:
        candidate = self.candidate.currentData()
        if self._busy or not candidate:
            return
        against = self.against.currentData()
        label = self.label_edit.text().strip() or None
        margin = self.margin.value() or None
        self._start("comparing")
        settings = self.settings
        self._runner.submit(
            lambda _p, _c: run_comparison(
                settings, candidate=candidate, against=against, label=label, margin=margin
            ),
            on_result=self._on_report,
            on_error=self._on_failed,
            name="compare",
        )

    def _on_report(self, report: ComparisonReport) -> None:
        self._finish()
        self.report = report
        self.output.setPlainText("\n".join(report.lines()))
        if report.result is None:
            self._set_status("no_pairs")
        else:
            self._set_status("done", str(report.result["cases"]))

    def _on_failed(self, exc: BaseException) -> None:
        self._finish()
        self._set_status("failed", error_text(exc))

    def shutdown(self) -> None:
        self._runner.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
