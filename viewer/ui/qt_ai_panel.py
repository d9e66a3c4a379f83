"""The AI panel: the second reader's result, presented so it cannot be mistaken for the first.

What it shows and why (issue 7, human-factors evidence on AI decision support): the score per
label beside the threshold and what the threshold means (the operating point from the manifest),
the finding in words, which model said it (name, version, creator; intended use on hover), input
warnings in plain language, and an optional heatmap that is explicitly not a localisation. While
the model runs it says so; when the bundle or the image was refused it says why and shows no score.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from viewer.ui.check_text import checks_text
from viewer.ui.plain_text import plain_tooltip

if TYPE_CHECKING:
    from viewer.bundle import Manifest
    from viewer.inference import CheckResult, LabelResult, Prediction


def manifest_field(manifest: object, *names: str, default: str = "") -> str:
    """First present, non-empty attribute (or dict key) of the manifest, as text."""
    for name in names:
        node: Any = manifest
        for part in name.split("."):
            if node is None:
                break
            node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
        if node not in (None, "", [], {}):
            if isinstance(node, list | tuple):
                return "; ".join(str(x) for x in node)
            return str(node)
    return default


class QtAiPanel(QGroupBox):
    """Shows a :class:`viewer.inference.Prediction` and the model that made it."""

    heatmap_toggled = Signal(bool)
    heatmap_label_changed = Signal(str)  # the label whose heatmap is asked for (a table row)
    heatmap_opacity_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aiPanel")
        self._state = "idle"  # idle | loading | no_model | running | result | refused | hidden
        self._reason = ""
        self._prediction: Prediction | None = None
        self._manifest: Manifest | None = None
        self._model_refusal = ""
        self._refused_checks: list[CheckResult] = []

        # the demo model's warning, on screen whenever it scores (not only in a tooltip)
        self.demo_warning = QLabel(self)
        self.demo_warning.setObjectName("aiDemoWarning")
        self.demo_warning.setWordWrap(True)
        self.demo_warning.setTextFormat(Qt.TextFormat.PlainText)
        self.demo_warning.setStyleSheet(
            "background: #b71c1c; color: white; font-weight: bold; padding: 4px;"
        )
        self.demo_warning.setVisible(False)
        self._demo = False
        self.state_label = QLabel(self)
        self.state_label.setObjectName("aiState")
        self.state_label.setWordWrap(True)
        self.probability = QLabel(self)
        self.probability.setObjectName("aiProbability")
        self.probability.setWordWrap(True)  # a long label name wraps, never widens the column
        self.probability.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        big = self.probability.font()
        big.setPointSizeF(big.pointSizeF() * 1.5)
        big.setBold(True)
        self.probability.setFont(big)
        self.threshold = QLabel(self)
        self.threshold.setObjectName("aiThreshold")
        self.threshold.setWordWrap(True)
        self.finding = QLabel(self)
        self.finding.setObjectName("aiFinding")
        self.finding.setWordWrap(True)
        ff = self.finding.font()
        ff.setBold(True)
        self.finding.setFont(ff)
        self.labels_table = QTableWidget(0, 4, self)
        self.labels_table.setObjectName("aiLabels")
        self.labels_table.verticalHeader().setVisible(False)
        header = self.labels_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # names are not cut
        self.labels_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.labels_table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.labels_table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.labels_table.setMinimumHeight(170)  # a few rows always in view
        self.labels_table.setMaximumHeight(330)  # ~10 rows in view, the rest by scrolling
        self.labels_table.itemSelectionChanged.connect(self._label_selected)
        self.heatmap_label = ""
        self.warnings = QLabel(self)
        self.warnings.setObjectName("aiWarnings")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color: #b36b00;")
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        self.model = QLabel(self)
        self.model.setObjectName("aiModel")
        self.model.setWordWrap(True)
        self.heatmap_toggle = QCheckBox(self)
        self.heatmap_toggle.setObjectName("heatmapToggle")
        self.heatmap_toggle.setChecked(False)  # off by default (issue 7)
        self.heatmap_opacity = QSlider(Qt.Orientation.Horizontal, self)
        self.heatmap_opacity.setObjectName("heatmapOpacity")
        self.heatmap_opacity.setRange(0, 100)
        self.heatmap_opacity.setValue(45)
        # calibrated bundles show the authors' calibrated scores (threshold at 0.5); the model's
        # raw scores are one click away
        self.raw_toggle = QCheckBox(self)
        self.raw_toggle.setObjectName("aiShowRaw")
        self.raw_toggle.setVisible(False)
        self.raw_toggle.toggled.connect(lambda _on: self._render())
        self.heatmap_caption = QLabel(self)
        self.heatmap_caption.setObjectName("heatmapCaption")
        self.heatmap_caption.setWordWrap(True)
        self.heatmap_caption.setStyleSheet("font-style: italic;")

        lay = QVBoxLayout(self)
        lay.addWidget(self.demo_warning)
        lay.addWidget(self.state_label)
        lay.addWidget(self.probability)
        lay.addWidget(self.threshold)
        lay.addWidget(self.finding)
        lay.addWidget(self.raw_toggle)
        lay.addWidget(self.labels_table)
        lay.addWidget(self.warnings)
        lay.addWidget(line)
        lay.addWidget(self.model)
        hm = QHBoxLayout()
        hm.addWidget(self.heatmap_toggle)
        hm.addWidget(self.heatmap_opacity, 1)
        lay.addLayout(hm)
        lay.addWidget(self.heatmap_caption)
        lay.addStretch(1)

        self.heatmap_toggle.toggled.connect(self.heatmap_toggled)
        self.heatmap_opacity.valueChanged.connect(
            lambda v: self.heatmap_opacity_changed.emit(v / 100)
        )
        self.retranslate()

    # ----------------------------------------------------------------- state setters
    def set_loading_model(self) -> None:
        self._state = "loading"
        self._prediction = None
        self._render()

    def set_model(
        self, manifest: Manifest | None, refusal: str = "", *, demo: bool = False
    ) -> None:
        """The verified model (or why none is usable); ``demo``: the shipped demo model, whose
        warning then stays on screen above every result."""
        self._manifest = manifest
        self._model_refusal = refusal
        self._demo = demo and manifest is not None
        self.demo_warning.setVisible(self._demo)
        if refusal:
            self._state = "no_model"
            self._reason = refusal
            self._prediction = None
        elif self._state in ("loading", "no_model"):
            self._state = "idle"
        self._render()

    def set_running(self) -> None:
        self._state = "running"
        self._prediction = None
        self._render()

    def set_result(self, prediction: Prediction) -> None:
        self._state = "result"
        self._prediction = prediction
        self._render()

    def set_refused(self, reason: str, checks: Sequence[CheckResult] = ()) -> None:
        """The image was refused (input checks) or scoring failed: no score is shown.

        ``checks`` are the refusing checks when the input checks refused it: their messages are
        shown in the current language (re-rendered on a language switch); ``reason`` otherwise.
        """
        self._state = "refused"
        self._reason = reason
        self._refused_checks = list(checks)
        self._prediction = None
        self._render()

    def set_hidden(self) -> None:
        """Read-first mode: a result exists but stays hidden until the reader's own read."""
        self._state = "hidden"
        self._render()

    def set_idle(self) -> None:
        self._state = "idle" if not self._model_refusal else "no_model"
        self._prediction = None
        self._render()

    def state(self) -> str:
        return self._state

    # ----------------------------------------------------------------- rendering
    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.setTitle(self.tr("AI second reader"))
        self.setAccessibleName(self.tr("AI second reader result"))
        self.probability.setAccessibleName(self.tr("AI probability"))
        self.threshold.setAccessibleName(self.tr("AI threshold and operating point"))
        self.finding.setAccessibleName(self.tr("AI finding"))
        self.model.setAccessibleName(self.tr("AI model"))
        self.raw_toggle.setText(self.tr("Show the model's raw scores (not calibrated)"))
        self.raw_toggle.setAccessibleName(self.tr("Show raw model scores"))
        self.demo_warning.setText(
            self.tr(
                "DEMO MODEL — NOT FOR CLINICAL USE: it was trained on synthetic images, so its "
                "output on real X-rays is meaningless."
            )
        )
        self.demo_warning.setAccessibleName(self.tr("Demo model warning"))
        self.warnings.setAccessibleName(self.tr("Input warnings"))
        self.labels_table.setAccessibleName(self.tr("AI result per label"))
        self.labels_table.setHorizontalHeaderLabels(
            [self.tr("Label"), self.tr("Score"), self.tr("Threshold"), self.tr("Finding")]
        )
        self.heatmap_toggle.setText(self.tr("Show heatmap"))
        self.heatmap_toggle.setAccessibleName(self.tr("Show heatmap overlay"))
        self.heatmap_opacity.setAccessibleName(self.tr("Heatmap opacity"))
        self.heatmap_opacity.setToolTip(self.tr("Heatmap opacity"))
        self.heatmap_caption.setText(
            self.tr(
                "Heatmap (Grad-CAM): the regions of the image that most raised this label's "
                "score in the model. It is not a localisation of the finding and must not be "
                "used to locate, measure or rule out a lesion."
            )
        )
        self._render()

    @staticmethod
    def _pair(res: LabelResult, raw: bool) -> tuple[str, str]:
        """Score and threshold as shown (calibrated where declared: the authors' numbers), or
        the model's raw pair when the reader asks for it."""
        return res.raw_text if raw and res.calibrated else res.shown_text

    def _label_selected(self) -> None:
        """A row chosen in the label table: its heatmap is the one shown on demand."""
        items = self.labels_table.selectedItems()
        label = str(items[0].data(Qt.ItemDataRole.UserRole) or "") if items else ""
        if label and label != self.heatmap_label:
            self.heatmap_label = label
            self.heatmap_label_changed.emit(label)

    def _finding_words(self, res: LabelResult) -> str:
        label = str(res.label)
        if res.positive:
            return self.tr("AI finding: {0} suggested (score at or above the threshold)").format(
                label
            )
        return self.tr("AI finding: no {0} suggested (score below the threshold)").format(label)

    def _render(self) -> None:
        m = self._manifest
        if m is not None:
            name = manifest_field(m, "name", "title", "id")
            version = manifest_field(m, "version")
            creator = ", ".join(
                x
                for x in (
                    manifest_field(m, "creator.name", "author"),
                    manifest_field(m, "creator.organisation"),
                )
                if x
            )
            self.model.setText(
                self.tr("Model: {0} {1}\nCreator: {2}").format(name, version, creator or "—")
            )
            intended = manifest_field(m, "intended_use", "intended_use.description")
            out_scope = manifest_field(m, "out_of_scope_use", "out_of_scope_uses", "out_of_scope")
            tip = self.tr("Intended use: {0}").format(intended or self.tr("(not stated)"))
            if out_scope:
                tip += "\n" + self.tr("Not for: {0}").format(out_scope)
            self.model.setToolTip(plain_tooltip(tip))
        elif self._state == "no_model":
            self.model.setText(self.tr("Model: none"))
            self.model.setToolTip("")
        else:
            self.model.setText(self.tr("Model: loading…"))
            self.model.setToolTip("")

        pred = self._prediction if self._state == "result" else None
        self.probability.setText("")
        self.threshold.setText("")
        self.finding.setText("")
        self.warnings.setText("")
        self.labels_table.setRowCount(0)
        self.labels_table.setVisible(False)
        show_heatmap_controls = False
        if self._state == "loading":
            self.state_label.setText(self.tr("Verifying and loading the model…"))
        elif self._state == "no_model":
            self.state_label.setText(self.tr("No AI result: {0}").format(self._reason))
        elif self._state == "running":
            self.state_label.setText(self.tr("The model is running on this image…"))
        elif self._state == "refused":
            reason = " ".join(checks_text(self._refused_checks)) or self._reason
            self.state_label.setText(self.tr("No AI score for this image: {0}").format(reason))
        elif self._state == "hidden":
            self.state_label.setText(
                self.tr(
                    "Read first: the AI result is hidden until you record your own provisional "
                    "finding below."
                )
            )
        elif self._state == "idle":
            self.state_label.setText(self.tr("No image scored yet."))
        elif pred is not None:
            # one rule for scores and thresholds everywhere (imported here: the package loads
            # numpy and pydantic, which the window does not need before a result exists)
            from viewer.inference.postprocess import threshold_text as stored_threshold

            self.state_label.setText(self.tr("AI result (a second opinion, not a diagnosis)"))
            from viewer.session.reading import headline, ranked

            first = headline(pred)  # the highest positive finding leads
            self.heatmap_label = first.label
            calibrated = any(r.calibrated for r in pred.labels)
            self.raw_toggle.setVisible(calibrated)
            raw = calibrated and self.raw_toggle.isChecked()
            score_text, threshold_text = self._pair(first, raw)
            self.probability.setText(self.tr("{0}: {1}").format(first.label, score_text))
            op = str(first.operating_point or "")
            thr = self.tr("Threshold {0}").format(threshold_text)
            site = first.site
            if site is not None:  # a site amendment replaced the manifest's threshold
                thr = self.tr("Site threshold {0}, set {1} by {2}, from {3} local cases").format(
                    stored_threshold(float(site.threshold)),
                    site.set_at[:10],
                    site.set_by,
                    site.cases,
                )
            elif op:
                thr += " — " + op
            self.threshold.setText(thr)
            self.finding.setText(self._finding_words(first))
            self.finding.setStyleSheet("color: #c62828;" if first.positive else "color: #2e7d32;")
            if len(pred.labels) > 1:
                # every shown label, positive findings first, each group by score
                self.labels_table.setVisible(True)
                self.labels_table.blockSignals(True)
                self.labels_table.setRowCount(len(pred.labels))
                for row, res in enumerate(ranked(pred)):
                    cells = [
                        str(res.label),
                        *self._pair(res, raw),
                        self.tr("positive") if res.positive else self.tr("negative"),
                    ]
                    for col, text in enumerate(cells):
                        item = QTableWidgetItem(text)
                        item.setData(Qt.ItemDataRole.UserRole, res.label)
                        if col == 3:
                            item.setToolTip(plain_tooltip(str(res.operating_point or "")))
                        if res.positive:
                            item.setForeground(Qt.GlobalColor.darkRed)
                        self.labels_table.setItem(row, col, item)
                self.labels_table.selectRow(0)
                self.labels_table.blockSignals(False)
            warn = checks_text(pred.checks, level="warning")
            if warn:
                self.warnings.setText(
                    self.tr("Input warnings:") + "\n" + "\n".join(f"⚠ {w}" for w in warn)
                )
            show_heatmap_controls = True
        self.heatmap_toggle.setEnabled(show_heatmap_controls)
        self.heatmap_opacity.setEnabled(show_heatmap_controls)
        self.heatmap_caption.setVisible(show_heatmap_controls)
