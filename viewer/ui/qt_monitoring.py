"""Monitoring window: is the model still working here? (issue 15, item 4)

Why: no ground truth reaches a workstation, so the quality lead watches what the log holds: are
the scores, the input mix and the rates (AI-positive, refusals, overrides, own-read
disagreement) still what they were? The window shows the report of
:class:`viewer.session.monitoring_view.MonitoringSource`, the same one ``bedside monitor report``
prints and writes as PDF or JSON: a plain-language summary at the top, the alerts, and per model
version the score histograms against the bundle's reference, each rate over time on its p-chart
(centre line and 3-sigma limits) and the DICOM category mix. A model version whose bundle carries
no reference profile says that monitoring is unavailable (its rate charts still show).

The summary sentences are the report's own (:data:`viewer.monitoring.monitor.MESSAGES`, by
code, with the same numbers): :func:`sentence_text` words them in the reader's language, and a
code this table does not know falls back to the report's English. Reading the log, the
statistics and the exports run in a worker; only the GUI thread touches widgets; a result for
an older request is dropped. Charts: :mod:`viewer.ui.qt_plot` (QPainter; why not a library is
said there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from viewer.monitoring import WindowSpec
from viewer.monitoring.monitor import Sentence
from viewer.session.monitoring_view import (
    WINDOW_CHOICES,
    ModelView,
    MonitoringSource,
    MonitoringView,
    Plot,
    monitoring_view,
    write_report,
)
from viewer.ui.i18n import local_time_text
from viewer.ui.plain_text import plain_labels, plain_tooltip
from viewer.ui.qt_plot import QtPlot
from viewer.ui.save_dialog import ask_save_path
from viewer.ui.workers import JobRunner, error_text

__all__ = ["QtMonitoringWindow", "monitoring_templates", "sentence_text"]


def monitoring_templates() -> dict[str, str]:
    """Every summary code -> its template in the current language (the English source strings
    are ``viewer.monitoring.monitor.MESSAGES``; a test checks they are identical)."""
    return {
        "scores_up": QCoreApplication.translate(
            "Monitoring",
            "Scores of '{label}' have shifted upward since {since} (mean {shift:+.2f}, KS D = {d:.3f}, p = {p:.2g}).",  # noqa: E501
        ),
        "scores_down": QCoreApplication.translate(
            "Monitoring",
            "Scores of '{label}' have shifted downward since {since} (mean {shift:+.2f}, KS D = {d:.3f}, p = {p:.2g}).",  # noqa: E501
        ),
        "numeric_changed": QCoreApplication.translate(
            "Monitoring",
            "{tag} of the images differ from the reference since {since} (KS D = {d:.3f}).",
        ),
        "new_manufacturer": QCoreApplication.translate(
            "Monitoring",
            "{share:.0f} % of images now come from a new manufacturer ('{name}'), unseen in the reference.",  # noqa: E501
        ),
        "new_category": QCoreApplication.translate(
            "Monitoring",
            "{share:.0f} % of images now carry a new {tag} value ('{name}'), unseen in the reference.",  # noqa: E501
        ),
        "mix_changed": QCoreApplication.translate(
            "Monitoring",
            "The {tag} mix has changed since {since}: '{name}' is {share:.0f} % of images (reference {reference:.0f} %; chi-square p = {p:.2g}).",  # noqa: E501
        ),
        "rate_up": QCoreApplication.translate(
            "Monitoring",
            "The {rate} has risen to {rate_pct:.0f} % over {n} cases (expected {center:.0f} %, control limits {lower:.0f} %-{upper:.0f} %).",  # noqa: E501
        ),
        "rate_down": QCoreApplication.translate(
            "Monitoring",
            "The {rate} has fallen to {rate_pct:.0f} % over {n} cases (expected {center:.0f} %, control limits {lower:.0f} %-{upper:.0f} %).",  # noqa: E501
        ),
        "no_drift_days": QCoreApplication.translate(
            "Monitoring",
            "No drift detected in the last {days:g} days.",
        ),
        "no_drift_cases": QCoreApplication.translate(
            "Monitoring",
            "No drift detected in the last {cases} cases.",
        ),
        "unavailable": QCoreApplication.translate(
            "Monitoring",
            "Monitoring unavailable: this model version's bundle carries no reference profile (score distribution or input mix), so scores and inputs cannot be compared; the rate charts use the site's own history.",  # noqa: E501
        ),
    }


def tag_names() -> dict[str, str]:
    """DICOM attributes the monitor compares (``viewer.monitoring.profile``), translated."""
    return {
        "view": QCoreApplication.translate("Monitoring", "View Position"),
        "manufacturer": QCoreApplication.translate("Monitoring", "Manufacturer"),
        "photometric": QCoreApplication.translate("Monitoring", "Photometric Interpretation"),
        "patient_sex": QCoreApplication.translate("Monitoring", "Patient Sex"),
        "bits_stored": QCoreApplication.translate("Monitoring", "Bits Stored"),
        "rows": QCoreApplication.translate("Monitoring", "Rows"),
        "columns": QCoreApplication.translate("Monitoring", "Columns"),
        "pixel_spacing_mm": QCoreApplication.translate("Monitoring", "Pixel Spacing (row, mm)"),
    }


def rate_names() -> dict[str, str]:
    """The p-charts (``viewer.monitoring.monitor.RATES``), translated."""
    return {
        "positive_rate": QCoreApplication.translate("Monitoring", "AI-positive rate"),
        "refusal_rate": QCoreApplication.translate("Monitoring", "refusal rate"),
        "ood_rate": QCoreApplication.translate("Monitoring", "out-of-distribution refusal rate"),
        "override_rate": QCoreApplication.translate("Monitoring", "override rate"),
        "disagreement_rate": QCoreApplication.translate("Monitoring", "own-read / AI disagreement"),
    }


def sentence_text(sentence: Sentence, templates: dict[str, str] | None = None) -> str:
    """The sentence in the reader's language; the report's English for an unknown code."""
    template = (templates or monitoring_templates()).get(sentence.code)
    if template is None:
        return sentence.text
    params = dict(sentence.params)
    if "tag_key" in params:
        params["tag"] = tag_names().get(str(params["tag_key"]), params.get("tag", ""))
    if "rate_key" in params:
        params["rate"] = rate_names().get(str(params["rate_key"]), params.get("rate", ""))
    try:
        return template.format(**params)
    except (KeyError, ValueError, IndexError):  # a translation with a broken placeholder
        return sentence.text


class QtMonitoringWindow(QDialog):
    """The drift monitor's report, per model version, with its plots (module doc)."""

    def __init__(self, source: MonitoringSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("monitoringWindow")
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.source = source
        self._runner = JobRunner(1, self, name="monitoring-window")
        self._request = 0
        self._report_job: Any = None
        self._loading = False
        self._rows_read = 0
        self._error = ""
        self._view: MonitoringView | None = None
        self._exporting = False
        self._export_state: tuple[str, dict[str, str]] = ("", {})
        self._plots: list[QtPlot] = []

        self.model_selector = QComboBox(self)
        self.model_selector.setObjectName("monitorModelSelector")
        self.model_selector.setMinimumContentsLength(24)
        self.model_selector.currentIndexChanged.connect(lambda _i: self._render_model())
        self.window_selector = QComboBox(self)
        self.window_selector.setObjectName("monitorWindowSelector")
        self.window_selector.currentIndexChanged.connect(lambda _i: self.refresh())
        self.refresh_button = QPushButton(self)
        self.refresh_button.setObjectName("monitorRefreshButton")
        self.refresh_button.clicked.connect(self.refresh)
        self.export_pdf_button = QPushButton(self)
        self.export_pdf_button.setObjectName("monitorExportPdfButton")
        self.export_pdf_button.clicked.connect(lambda: self.choose_and_export("pdf"))
        self.export_json_button = QPushButton(self)
        self.export_json_button.setObjectName("monitorExportJsonButton")
        self.export_json_button.clicked.connect(lambda: self.choose_and_export("json"))
        self.close_button = QPushButton(self)
        self.close_button.setObjectName("monitorCloseButton")
        self.close_button.clicked.connect(self.close)
        self._model_label = QLabel(self)
        self._model_label.setBuddy(self.model_selector)
        self._window_label = QLabel(self)
        self._window_label.setBuddy(self.window_selector)

        self.status = QLabel(self)
        self.status.setObjectName("monitorStatus")
        self.status.setWordWrap(True)
        self.unavailable = QLabel(self)
        self.unavailable.setObjectName("monitorUnavailable")
        self.unavailable.setWordWrap(True)
        self.unavailable.setStyleSheet(
            "color: #5d4037; background: #fff3cd; border: 1px solid #e0c36c; padding: 6px;"
        )
        self.unavailable.hide()
        self.summary = QLabel(self)
        self.summary.setObjectName("monitorSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_status = QLabel(self)
        self.export_status.setObjectName("monitorExportStatus")
        self.export_status.setWordWrap(True)

        self.alerts = QTableWidget(0, 4, self)
        self.alerts.setObjectName("monitorAlerts")
        self.alerts.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.alerts.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.alerts.verticalHeader().setVisible(False)
        self.alerts.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.alerts.horizontalHeader().setStretchLastSection(True)
        self.alerts.setWordWrap(True)
        self._alerts_box = QGroupBox(self)
        QVBoxLayout(self._alerts_box).addWidget(self.alerts)

        self._plots_host = QWidget(self)
        self._plots_layout = QVBoxLayout(self._plots_host)
        self._sections: dict[str, tuple[QGroupBox, QGridLayout]] = {}
        for key in ("scores", "rates", "inputs"):
            box = QGroupBox(self._plots_host)
            box.setObjectName(f"monitorSection_{key}")
            grid = QGridLayout(box)
            self._sections[key] = (box, grid)
            self._plots_layout.addWidget(box)
        self._plots_layout.addStretch(1)
        self.plots_area = QScrollArea(self)
        self.plots_area.setObjectName("monitorPlots")
        self.plots_area.setWidgetResizable(True)
        self.plots_area.setWidget(self._plots_host)
        self.notes = QLabel(self._plots_host)
        self.notes.setObjectName("monitorNotes")
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: #555;")
        self._plots_layout.insertWidget(0, self.notes)

        top = QHBoxLayout()
        top.addWidget(self._model_label)
        top.addWidget(self.model_selector)
        top.addSpacing(12)
        top.addWidget(self._window_label)
        top.addWidget(self.window_selector)
        top.addWidget(self.refresh_button)
        top.addStretch(1)
        top.addWidget(self.export_pdf_button)
        top.addWidget(self.export_json_button)
        top.addWidget(self.close_button)
        self._summary_box = QGroupBox(self)
        summary_layout = QVBoxLayout(self._summary_box)
        summary_layout.addWidget(self.summary)
        self._splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self._splitter.addWidget(self._alerts_box)
        self._splitter.addWidget(self.plots_area)
        self._splitter.setStretchFactor(0, 2)
        self._splitter.setStretchFactor(1, 5)
        self._splitter.setSizes([420, 1000])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.unavailable)
        layout.addWidget(self._summary_box)
        layout.addWidget(self._splitter, 1)
        layout.addWidget(self.export_status)
        self.resize(1400, 900)

        plain_labels(self)  # model names and manufacturers come from files: shown as text
        self.retranslate()
        self.refresh()

    # -- texts ---------------------------------------------------------------------------------
    def retranslate(self) -> None:
        """Every visible string; called again on QEvent.LanguageChange."""
        self.setWindowTitle(self.tr("Monitoring"))
        self._model_label.setText(self.tr("Model version:"))
        self.model_selector.setAccessibleName(self.tr("Model version to show"))
        self._window_label.setText(self.tr("Window:"))
        self.window_selector.setAccessibleName(self.tr("Monitoring window"))
        current = self.window_selector.currentIndex()
        self.window_selector.blockSignals(True)
        self.window_selector.clear()
        for spec in WINDOW_CHOICES:
            self.window_selector.addItem(self._window_text(spec))
        self.window_selector.setCurrentIndex(max(0, current))
        self.window_selector.blockSignals(False)
        self.refresh_button.setText(self.tr("Refresh"))
        self.refresh_button.setAccessibleName(self.tr("Read the audit log again"))
        self.export_pdf_button.setText(self.tr("Export PDF…"))
        self.export_pdf_button.setAccessibleName(self.tr("Export the monitoring report as PDF"))
        self.export_json_button.setText(self.tr("Export JSON…"))
        self.export_json_button.setAccessibleName(self.tr("Export the monitoring report as JSON"))
        self.close_button.setText(self.tr("Close"))
        self.close_button.setAccessibleName(self.tr("Close the monitoring window"))
        self.status.setAccessibleName(self.tr("Monitoring status"))
        self.unavailable.setAccessibleName(self.tr("Monitoring unavailable"))
        self.summary.setAccessibleName(self.tr("Summary"))
        self._summary_box.setTitle(self.tr("Summary"))
        self._alerts_box.setTitle(self.tr("Alerts"))
        self.alerts.setAccessibleName(self.tr("Alerts in this window"))
        self.alerts.setHorizontalHeaderLabels(
            [self.tr("What"), self.tr("Test"), self.tr("Value"), self.tr("Threshold")]
        )
        self.plots_area.setAccessibleName(self.tr("Monitoring charts"))
        self._sections["scores"][0].setTitle(self.tr("Scores against the reference"))
        self._sections["rates"][0].setTitle(
            self.tr("Rates over time (centre line: the site's earlier rate; 3-sigma limits)")
        )
        self._sections["inputs"][0].setTitle(
            self.tr("Inputs against the reference (DICOM categories and image sizes)")
        )
        self._render()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _window_text(self, spec: WindowSpec) -> str:
        if spec.cases is not None:
            return self.tr("last {n} cases").format(n=spec.cases)
        return self.tr("last {n} days").format(n=f"{spec.days:g}")

    # -- reading -------------------------------------------------------------------------------
    def spec(self) -> WindowSpec:
        return WINDOW_CHOICES[max(0, self.window_selector.currentIndex())]

    def refresh(self) -> None:
        """Read the log and run the monitor in the worker; an older request's result is dropped."""
        self._request += 1
        request, spec, source = self._request, self.spec(), self.source
        self._loading, self._error, self._rows_read = True, "", 0
        if self._report_job is not None:
            self._report_job.cancel()  # its result would be dropped anyway

        def job(progress: Any, cancelled: Any) -> MonitoringView:
            return monitoring_view(source.report(spec, progress=progress, cancelled=cancelled))

        self._report_job = self._runner.submit(
            job,
            on_result=lambda view: self._on_view(request, view),
            on_error=lambda exc: self._on_failed(request, exc),
            on_progress=lambda rows: self._on_progress(request, rows),
            name="monitoring-report",
        )
        self._render_status()
        self._update_buttons()

    def _on_progress(self, request: int, rows: object) -> None:
        if request == self._request and isinstance(rows, int):
            self._rows_read = rows
            self._render_status()

    def _on_view(self, request: int, view: MonitoringView) -> None:
        if request != self._request:
            return
        self._loading, self._report_job = False, None
        self._view = view
        selected = self.model_selector.currentData()
        self.model_selector.blockSignals(True)
        self.model_selector.clear()
        for model in view.models:
            self.model_selector.addItem(model.key, model.key)
        index = self.model_selector.findData(selected) if selected else -1
        if index < 0:  # first the version with alerts, else the last (newest id sorts last)
            alerting = [i for i, m in enumerate(view.models) if m.alerts]
            index = alerting[0] if alerting else len(view.models) - 1
        self.model_selector.setCurrentIndex(index)
        self.model_selector.blockSignals(False)
        self._render()

    def _on_failed(self, request: int, exc: BaseException) -> None:
        if request != self._request:
            return
        self._loading, self._report_job = False, None
        self._error = error_text(exc)
        self._render()

    def view(self) -> MonitoringView | None:
        return self._view

    def current_model(self) -> ModelView | None:
        if self._view is None:
            return None
        return self._view.model(str(self.model_selector.currentData() or ""))

    def is_busy(self) -> bool:
        return self._loading or self._exporting

    def plots(self) -> dict[str, QtPlot]:
        """The charts shown now, by their plot key (``scores:effusion``, ``rate:...``)."""
        return {p.plot().key: p for p in self._plots}

    # -- rendering -----------------------------------------------------------------------------
    def _render(self) -> None:
        self._render_status()
        self._render_model()
        self._render_export()
        self._update_buttons()

    def _render_status(self) -> None:
        view = self._view
        if self._loading:
            text = self.tr("Reading the audit log…")
            if self._rows_read:
                text += " " + self.tr("{n} rows read").format(n=self._rows_read)
            style = ""
        elif self._error:
            text = self.tr("The monitoring report could not be made: {reason}").format(
                reason=self._error
            )
            style = "color: #b00020;"
        elif view is None:
            text, style = "", ""
        else:
            text = self.tr(
                "Report made {time}; {window}; {alerts} alert(s) in all model versions."
            ).format(
                time=local_time_text(view.generated),
                window=self._window_text(self.spec()),
                alerts=view.alerts,
            )
            style = "color: #b00020; font-weight: bold;" if view.alerts else ""
        self.status.setText(text)
        self.status.setStyleSheet(style)

    def _render_model(self) -> None:
        model = self.current_model()
        self.unavailable.setVisible(model is not None and not model.available)
        self.unavailable.setText(
            self.tr(
                "Monitoring unavailable: this model's bundle carries no reference profile. "
                "Only the rates over time are shown."
            )
        )
        if model is None:
            no_log = self._view is not None and not self._view.models
            self.summary.setText(
                self.tr("The audit log holds no AI results yet: nothing to monitor.")
                if no_log
                else ""
            )
            self.summary.setStyleSheet("")
            self._fill_alerts(None)
            self._fill_plots(None)
            return
        templates = monitoring_templates()
        lines = [sentence_text(s, templates) for s in model.sentences]
        window = model.window
        lines.append(
            self.tr(
                "Window {start} to {end}: {results} AI results, {openings} images opened, "
                "{reads} reads."
            ).format(
                start=local_time_text(window.get("start")) if window.get("start") else "-",
                end=local_time_text(window.get("end")) if window.get("end") else "-",
                results=window.get("results", 0),
                openings=window.get("openings", 0),
                reads=window.get("reads", 0),
            )
        )
        self.summary.setText("\n".join(("• " + t) for t in lines))
        colours = {"alert": "#fdecea", "ok": "#e8f5e9", "unavailable": "#f5f5f5"}
        self.summary.setStyleSheet(f"background: {colours[model.status]}; padding: 6px;")
        self._fill_alerts(model)
        self._fill_plots(model)

    def _test_name(self, test: str) -> str:
        kind, _, name = test.partition(":")
        if not name:
            return rate_names().get(kind, kind)
        if kind == "scores":
            return self.tr("Scores: {label}").format(label=name)
        if kind == "category":
            return self.tr("{tag} mix").format(tag=tag_names().get(name, name))
        return tag_names().get(name, name)

    def _fill_alerts(self, model: ModelView | None) -> None:
        alerts = model.alerts if model is not None else ()
        self.alerts.setRowCount(len(alerts))
        templates = monitoring_templates()
        statistic = {"ks": "KS D", "chi2": "χ²", "p_chart": self.tr("p-chart")}
        for row, alert in enumerate(alerts):
            what = QTableWidgetItem(self._test_name(alert.test))
            what.setData(Qt.ItemDataRole.UserRole, alert.test)
            what.setToolTip(plain_tooltip(sentence_text(alert.sentence, templates)))
            if alert.statistic == "p_chart":
                value, limit = f"{100 * alert.value:.1f} %", f"{100 * alert.threshold:.1f} %"
            else:
                value = f"{alert.value:.3g}"
                limit = f"p < {alert.threshold:.2g}"
            cells = [what, QTableWidgetItem(statistic.get(alert.statistic, alert.statistic))]
            cells += [QTableWidgetItem(value), QTableWidgetItem(limit)]
            for col, item in enumerate(cells):
                if col:
                    item.setToolTip(what.toolTip())
                self.alerts.setItem(row, col, item)

    def _fill_plots(self, model: ModelView | None) -> None:
        for widget in self._plots:
            widget.setParent(None)
            widget.deleteLater()
        self._plots = []
        groups: dict[str, tuple[Plot, ...]] = {
            "scores": tuple(p for p in model.histograms if p.kind == "scores") if model else (),
            "rates": model.rates if model else (),
            "inputs": (
                model.mixes + tuple(p for p in model.histograms if p.kind == "numeric")
                if model
                else ()
            ),
        }
        legend = {
            "reference": self.tr("reference"),
            "window": self.tr("this window"),
            "rate": self.tr("rate"),
            "center": self.tr("centre"),
            "upper": self.tr("3-sigma limits"),
        }
        rates = rate_names()
        tags = tag_names()
        for key, plots in groups.items():
            box, grid = self._sections[key]
            box.setVisible(bool(plots))
            for i, plot in enumerate(plots):
                widget = QtPlot(plot, box)
                if plot.kind == "scores":
                    title = self.tr("Scores of '{label}' ({n} in the window)")
                elif plot.kind == "rate":
                    title = self.tr("{rate} ({n} cases in the window)")
                else:
                    title = self.tr("{tag} ({n} images in the window)")
                title = title.format(
                    label=plot.name,
                    n=plot.n,
                    rate=rates.get(plot.name, plot.wording),
                    tag=tags.get(plot.name, plot.wording),
                )
                widget.set_texts(
                    title[:1].upper() + title[1:],  # a rate's wording starts in lower case
                    legend,
                    self.tr("No data in this window."),
                )
                grid.addWidget(widget, i // 2, i % 2)
                self._plots.append(widget)
        notes = list(model.notes) if model is not None and model.available else []
        self.notes.setText("\n".join(notes))
        self.notes.setVisible(bool(notes))

    # -- export --------------------------------------------------------------------------------
    def choose_and_export(self, fmt: str) -> None:
        filters = {"pdf": self.tr("PDF files (*.pdf)"), "json": self.tr("JSON files (*.json)")}
        title = self.tr("Export the monitoring report")
        target = ask_save_path(self, title, "bedside-monitoring", fmt, filters[fmt])
        if target is not None:
            self.export_to(target, fmt)

    def export_to(self, path: Path, fmt: str) -> None:
        """Write the report shown (all model versions, as ``bedside monitor report``)."""
        view = self._view
        if view is None or self._exporting:
            return
        self._exporting = True
        self._export_state = ("running", {"file": path.name})
        settings, report = self.source.settings, view.report
        self._runner.submit(
            # the file dialog already asked before replacing a file
            lambda _p, _c: write_report(report, fmt, path, settings=settings, overwrite=True),
            on_result=self._on_exported,
            on_error=self._on_export_failed,
            name="monitoring-export",
        )
        self._render_export()
        self._update_buttons()

    def _on_exported(self, path: Path) -> None:
        self._exporting = False
        self._export_state = ("done", {"path": str(path)})
        self._render_export()
        self._update_buttons()

    def _on_export_failed(self, exc: BaseException) -> None:
        self._exporting = False
        self._export_state = ("failed", {"reason": error_text(exc)})
        self._render_export()
        self._update_buttons()

    def _render_export(self) -> None:
        key, fields = self._export_state
        texts = {
            "": "",
            "running": self.tr("Exporting {file}…"),
            "done": self.tr("Monitoring report written: {path}"),
            "failed": self.tr("Export failed: {reason}"),
        }
        self.export_status.setText(texts[key].format(**fields))
        self.export_status.setStyleSheet("color: #b00020;" if key == "failed" else "")
        self.export_status.setVisible(bool(key))

    # -- state ---------------------------------------------------------------------------------
    def _update_buttons(self) -> None:
        ready = self._view is not None and not self._loading
        self.refresh_button.setEnabled(not self._loading)
        self.export_pdf_button.setEnabled(ready and not self._exporting)
        self.export_json_button.setEnabled(ready and not self._exporting)
        self.model_selector.setEnabled(ready and self.model_selector.count() > 1)

    def shutdown(self) -> None:
        """Cancel and wait for the worker (window closing, tests' teardown)."""
        self._runner.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def reject(self) -> None:
        self.shutdown()
        super().reject()
