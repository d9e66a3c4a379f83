"""Model manager (for IT): installed bundles, their model card, install / activate / roll back.

Why: which model scores a patient's image is a clinical-safety decision, so every change is an
explicit, confirmed act that the core records in the audit log (``viewer.bundle.ModelStore`` with
the audit log attached: the same code path as ``bedside bundle install/activate/rollback``). A
refused bundle shows the core's reason as written (signature, untrusted key, schema, weights,
self-test ...), never a traceback. Verification, loading and the self-test import torch and take
seconds, so they run in a worker; only the GUI thread touches widgets.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from viewer.config import Settings
from viewer.errors import BedsideError
from viewer.ui.check_text import bundle_refusal_text
from viewer.ui.i18n import local_time_text
from viewer.ui.workers import JobRunner, error_text


@dataclass(frozen=True)
class BundleRow:
    """One installed bundle as the table shows it (plain data, built off the GUI thread)."""

    model_id: str
    version: str
    name: str
    creator: str
    key_fingerprint: str
    installed_at: str  # UTC, from the store
    active: bool
    path: Path | None
    # "passed" (at install, or re-run now), "failed" (re-run failed), "refused" (the stored file
    # no longer verifies: changed, or its key is no longer trusted)
    selftest: str = "passed"
    checked_now: bool = False
    problem: str = ""
    card: dict[str, Any] = field(default_factory=dict)  # the manifest as JSON-able data


def _creator_text(creator: Any) -> str:
    if isinstance(creator, dict):
        name, org = str(creator.get("name", "")), str(creator.get("organisation", ""))
        return f"{name} ({org})" if name and org else name or org
    return str(creator or "")


def _row(entry: Any, trust: Any) -> BundleRow:
    """A store entry plus its manifest, re-verified (signature + schema, no torch)."""
    from viewer.bundle.loader import verify_bundle

    base = BundleRow(
        model_id=entry.id,
        version=entry.version,
        name=entry.name,
        creator="",
        key_fingerprint=entry.key_fingerprint,
        installed_at=entry.installed_at,
        active=entry.active,
        path=entry.path,
    )
    try:
        verified = verify_bundle(entry.path, trust)
    except BedsideError as exc:
        return replace(base, selftest="refused", problem=str(exc))
    card = verified.manifest.model_dump(mode="json")
    problem = ""
    selftest = "passed"
    if verified.digest != entry.digest:
        selftest, problem = "refused", "The stored file changed since it was installed."
    return replace(
        base,
        creator=_creator_text(card.get("creator")),
        key_fingerprint=verified.key_fingerprint,
        selftest=selftest,
        problem=problem,
        card=card,
    )


@dataclass(frozen=True)
class StoreView:
    """What the window shows: the rows plus the trust store it verified them against."""

    rows: list[BundleRow]
    keys: list[tuple[str, str, str]]  # (source, fingerprint, file) of each trusted key
    problems: list[str]  # key files that could not be read


def list_bundles(settings: Settings) -> StoreView:
    """The store's bundles as rows (runs in a worker: every stored file is re-verified)."""
    from viewer.bundle.store import ModelStore

    store = ModelStore(settings)
    trust = store.trust
    keys = [(k.source, k.fingerprint, k.path) for k in trust.keys]
    rows = [_row(entry, trust) for entry in store.list()]
    return StoreView(rows=rows, keys=keys, problems=list(trust.problems))


def _with_store(settings: Settings, act: Callable[[Any], Any]) -> Any:
    """Run one store action with the audit log attached, so the core records it."""
    from viewer.audit import AuditLog
    from viewer.bundle.store import ModelStore

    audit = AuditLog.open(settings)
    try:
        return act(ModelStore(settings, audit=audit))
    finally:
        audit.close()


def install_bundle(
    settings: Settings, path: Path, *, allow_downgrade: bool
) -> tuple[str, str, bool]:
    """Install (verify, load, self-test, copy, audit); returns (id, version, now active)."""

    def act(store: Any) -> tuple[str, str, bool]:
        loaded = store.install(path, allow_downgrade=allow_downgrade)
        m = loaded.manifest
        active = any(e.id == m.id and e.version == m.version and e.active for e in store.list())
        return m.id, m.version, active

    result: tuple[str, str, bool] = _with_store(settings, act)
    return result


def run_selftest(settings: Settings, row: BundleRow) -> tuple[bool, str]:
    """Load the stored bundle again (signature, weights, self-test), recorded in the audit log.

    Through the store, so the file's digest, id and version are checked against the store's
    record in the same read that loads it: a file swapped in the store is refused.
    """
    from viewer.bundle.store import ModelStore

    if row.path is None:
        return False, ""
    from viewer.audit import AuditLog

    audit = AuditLog.open(settings)
    try:
        loaded = ModelStore(settings, audit=audit).load(row.model_id, row.version)
    finally:
        audit.close()
    result = loaded.selftest
    return bool(result.passed), f"{result.max_abs_diff_output:.2g}"


class QtModelManager(QDialog):
    """Installed bundles, model card, and the confirmed install / activate / roll-back actions."""

    store_changed = Signal()  # emitted after an install, activation or roll-back succeeded

    COLUMNS = 6

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelManager")
        self.settings = settings
        self._rows: list[BundleRow] = []
        self._pending_select: tuple[str, str] | None = None
        self._keys: list[tuple[str, str, str]] = []
        self._key_problems: list[str] = []
        self._busy = False
        self._busy_kind = ""
        # The last status, kept as data so a language change can re-render it.
        self._status: tuple[str, str, dict[str, str]] = ("", "idle", {})
        # Its thread ends as soon as a job is done: a live thread that has run the self-test
        # keeps an OpenMP team of its own, and with more OpenMP threads than cores the main
        # window's forward passes ran at half speed (benchmarked in bench/bench_inference.py).
        self._runner = JobRunner(1, self, name="model-manager", expiry_ms=0)

        self._heading = QLabel(self)
        self._heading.setObjectName("modelManagerHeading")
        self._demo_note = QLabel(self)
        self._demo_note.setObjectName("demoNote")
        self._demo_note.setWordWrap(True)
        self._demo_note.setStyleSheet("color: #8a4b00; font-weight: bold;")
        self._demo_note.setVisible(settings.demo)
        self.trust_label = QLabel(self)
        self.trust_label.setObjectName("trustedKeys")
        self.trust_label.setWordWrap(True)
        self.trust_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.table = QTableWidget(0, self.COLUMNS, self)
        self.table.setObjectName("modelTable")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_selection)

        self.card = QTextBrowser(self)
        self.card.setObjectName("modelCard")
        self.card.setOpenLinks(False)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.table)
        splitter.addWidget(self.card)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([170, 480])

        self.install_button = QPushButton(self)
        self.install_button.setObjectName("installBundleButton")
        self.install_button.clicked.connect(self.choose_and_install)
        self.activate_button = QPushButton(self)
        self.activate_button.setObjectName("activateButton")
        self.activate_button.clicked.connect(self.activate_selected)
        self.rollback_button = QPushButton(self)
        self.rollback_button.setObjectName("rollbackButton")
        self.rollback_button.clicked.connect(self.rollback_selected)
        self.selftest_button = QPushButton(self)
        self.selftest_button.setObjectName("selftestButton")
        self.selftest_button.clicked.connect(self.selftest_selected)
        self.refresh_button = QPushButton(self)
        self.refresh_button.setObjectName("refreshModelsButton")
        self.refresh_button.clicked.connect(self.refresh)
        self.close_button = QPushButton(self)
        self.close_button.setObjectName("closeModelManagerButton")
        self.close_button.clicked.connect(self.close)

        self.progress = QProgressBar(self)
        self.progress.setObjectName("modelProgress")
        self.progress.setRange(0, 0)  # busy indicator: the core reports steps, not a fraction
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(160)
        self.progress.hide()
        self.status = QLabel(self)
        self.status.setObjectName("modelStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        buttons = QHBoxLayout()
        for button in (self.install_button, self.activate_button, self.rollback_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.selftest_button)
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.close_button)
        status_row = QHBoxLayout()
        status_row.addWidget(self.progress)
        status_row.addWidget(self.status, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(self._heading)
        layout.addWidget(self._demo_note)
        layout.addWidget(self.trust_label)
        layout.addWidget(splitter, 1)
        layout.addLayout(status_row)
        layout.addLayout(buttons)
        self.resize(900, 640)

        self.retranslate()
        self._update_buttons()
        self.refresh()

    # -- texts ---------------------------------------------------------------------------------
    def retranslate(self) -> None:
        """Every visible string; called again on QEvent.LanguageChange."""
        self.setWindowTitle(self.tr("Model manager"))
        self._heading.setText(self.tr("Installed model bundles"))
        self._demo_note.setText(
            self.tr(
                "Demo mode: the demo signing key is trusted. Demo models are NOT for clinical use."
            )
        )
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Model"),
                self.tr("Version"),
                self.tr("Creator"),
                self.tr("Key fingerprint"),
                self.tr("Self-test"),
                self.tr("Active"),
            ]
        )
        self.table.setAccessibleName(self.tr("Installed model bundles"))
        self.card.setAccessibleName(self.tr("Model card"))
        self.install_button.setText(self.tr("Install from file…"))
        self.install_button.setAccessibleName(self.tr("Install a model bundle from a file"))
        self.activate_button.setText(self.tr("Activate"))
        self.activate_button.setAccessibleName(self.tr("Activate the selected version"))
        self.rollback_button.setText(self.tr("Roll back"))
        self.rollback_button.setAccessibleName(
            self.tr("Roll back to the previously active version")
        )
        self.selftest_button.setText(self.tr("Run self-test"))
        self.selftest_button.setAccessibleName(
            self.tr("Load the selected bundle again and run its self-test")
        )
        self.refresh_button.setText(self.tr("Refresh"))
        self.refresh_button.setAccessibleName(self.tr("Refresh the list"))
        self.close_button.setText(self.tr("Close"))
        self.close_button.setAccessibleName(self.tr("Close the model manager"))
        self.trust_label.setAccessibleName(self.tr("Trusted signing keys"))
        self._render_trust()
        self.progress.setAccessibleName(self.tr("Working"))
        self.status.setAccessibleName(self.tr("Status"))
        self._fill_table()
        self._show_card()
        self._render_status()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _render_trust(self) -> None:
        """How many keys this site trusts, by source; unreadable key files in red."""
        counts: dict[str, int] = {}
        for source, _fp, _path in self._keys:
            counts[source] = counts.get(source, 0) + 1
        names = {"site": self.tr("site"), "user": self.tr("user"), "demo": self.tr("demo")}
        parts = ", ".join(f"{names.get(k, k)} {n}" for k, n in sorted(counts.items()))
        if self._keys:
            text = self.tr("Trusted signing keys: {count} ({sources}).").format(
                count=len(self._keys), sources=parts
            )
        else:
            text = self.tr(
                "No trusted signing keys: no bundle can be installed. IT places public keys "
                "(PEM) in the site's trusted-keys folder."
            )
        style = "" if self._keys else "color: #b00020;"
        if self._key_problems:
            text += " " + self.tr("Key files that could not be read: {problems}").format(
                problems="; ".join(self._key_problems)
            )
            style = "color: #b00020;"
        self.trust_label.setText(text)
        self.trust_label.setStyleSheet(style)
        self.trust_label.setToolTip(
            "\n".join(f"{source}: {_grouped(fp)}  {path}" for source, fp, path in self._keys)
        )

    def _selftest_text(self, row: BundleRow) -> str:
        if row.selftest == "refused":
            return self.tr("REFUSED")
        if row.selftest == "failed":
            return self.tr("FAILED")
        if row.checked_now:
            return self.tr("Passed (just now)")
        return self.tr("Passed at install")

    # -- status line ---------------------------------------------------------------------------
    def _set_status(self, key: str, level: str = "info", **fields: str) -> None:
        self._status = (key, level, fields)
        self._render_status()

    def status_key(self) -> str:
        return self._status[0]

    def _render_status(self) -> None:
        key, level, fields = self._status
        texts = {
            "": "",
            "loading": self.tr("Reading the model store…"),
            "verifying": self.tr("Checking {file}: signature, manifest, weights and self-test…"),
            "installed": self.tr(
                "Installed {model} {version}. It is not active until you activate it."
            ),
            "installed_active": self.tr(
                "Installed {model} {version}; it is now the active version."
            ),
            "refused": self.tr("Bundle refused: {reason}"),
            "downgrade_cancelled": self.tr("Not installed: {reason}"),
            "activating": self.tr("Activating {model} {version}…"),
            "activated": self.tr("{model} {version} is now active."),
            "rolling_back": self.tr("Rolling back {model}…"),
            "rolled_back": self.tr("Rolled back {model}; the active version is now {version}."),
            "testing": self.tr("Running the self-test of {model} {version}…"),
            "tested": self.tr(
                "Self-test of {model} {version} passed (largest output difference {diff})."
            ),
            "test_failed": self.tr("Self-test of {model} {version} FAILED: {reason}"),
            "failed": self.tr("The action failed: {reason}"),
            "wait": self.tr(
                "Please wait: the current action must finish before this window closes."
            ),
            "list_failed": self.tr("The model store cannot be read: {reason}"),
            "empty": self.tr("No model bundle is installed. Use “Install from file…”."),
        }
        text = texts.get(key, "").format(**fields) if key else ""
        colour = {"error": "#b00020", "ok": "#1b5e20"}.get(level, "")
        self.status.setStyleSheet(f"color: {colour}; font-weight: bold;" if colour else "")
        self.status.setText(text)

    # -- the table -----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the list of installed bundles in a worker."""
        if self._busy:
            return
        self._start("loading")
        settings = self.settings
        self._runner.submit(
            lambda _progress, _cancelled: list_bundles(settings),
            on_result=self._on_list,
            on_error=self._on_list_failed,
            name="list-bundles",
        )

    def _on_list(self, view: StoreView) -> None:
        self._finish()
        rows = view.rows
        self._keys, self._key_problems = view.keys, view.problems
        self._render_trust()
        selected = self.selected_row()
        want = self._pending_select or (
            (selected.model_id, selected.version) if selected is not None else None
        )
        self._pending_select = None
        tested = {(r.model_id, r.version): r for r in self._rows if r.checked_now}
        merged = []
        for row in rows:
            before = tested.get((row.model_id, row.version))
            if before is not None and row.selftest != "refused":
                row = replace(row, selftest=before.selftest, checked_now=True)
            merged.append(row)
        self._rows = sorted(merged, key=lambda r: (r.model_id, _version_key(r.version)))
        self._fill_table()
        if not (want is not None and self.select(*want)) and self._rows:
            active = next((i for i, r in enumerate(self._rows) if r.active), 0)
            self.table.selectRow(active)
        if self._status[0] == "loading":
            self._set_status("empty" if not self._rows else "")
        self._show_card()
        self._update_buttons()

    def _on_list_failed(self, exc: BaseException) -> None:
        # Stale rows would show a store state that may no longer be true: show none.
        self._rows = []
        self._fill_table()
        self._show_card()
        self._on_failed("list_failed", exc)

    def _fill_table(self) -> None:
        self.table.setRowCount(len(self._rows))
        for i, row in enumerate(self._rows):
            fingerprint = row.key_fingerprint
            short = fingerprint if len(fingerprint) <= 23 else fingerprint[:23] + "…"
            values = [
                row.model_id,
                row.version,
                row.creator,
                short,
                self._selftest_text(row),
                self.tr("Active") if row.active else "",
            ]
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                if col == 3:
                    item.setToolTip(_grouped(fingerprint))
                if col == 4 and row.problem:
                    item.setToolTip(row.problem)
                if col == 4 and row.selftest in ("failed", "refused"):
                    item.setForeground(Qt.GlobalColor.red)
                if row.active:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(i, col, item)

    def rows(self) -> list[BundleRow]:
        return list(self._rows)

    def selected_row(self) -> BundleRow | None:
        model = self.table.selectionModel()
        indexes = model.selectedRows() if model is not None else []
        if not indexes:
            return None
        i = indexes[0].row()
        return self._rows[i] if 0 <= i < len(self._rows) else None

    def select(self, model_id: str, version: str) -> bool:
        for i, row in enumerate(self._rows):
            if row.model_id == model_id and row.version == version:
                self.table.selectRow(i)
                return True
        return False

    def _on_selection(self) -> None:
        self._show_card()
        self._update_buttons()

    def _update_buttons(self) -> None:
        row = self.selected_row()
        idle = not self._busy
        self.install_button.setEnabled(idle)
        self.refresh_button.setEnabled(idle)
        usable = row is not None and row.selftest != "refused"
        self.activate_button.setEnabled(idle and usable and row is not None and not row.active)
        self.rollback_button.setEnabled(idle and row is not None and row.active)
        self.selftest_button.setEnabled(idle and row is not None)

    def _show_card(self) -> None:
        row = self.selected_row()
        if row is None:
            self.card.setHtml(
                "<p>" + html.escape(self.tr("Select a bundle to see its model card.")) + "</p>"
            )
            return
        self.card.setHtml(self.card_html(row))

    # -- the model card ------------------------------------------------------------------------
    def card_html(self, row: BundleRow) -> str:
        """The manifest as a readable model card; everything escaped (a manifest is input)."""
        data = dict(row.card)
        esc = html.escape
        title = str(data.get("name") or row.name or row.model_id)
        parts = [f"<h2>{esc(title)} <small>({esc(row.model_id)} {esc(row.version)})</small></h2>"]
        if row.problem:
            parts.append(
                "<p style='color:#b00020'><b>"
                + esc(self.tr("This bundle is refused: {reason}").format(reason=row.problem))
                + "</b></p>"
            )
        if self.settings.demo or "demo" in row.model_id.lower():
            parts.append(
                "<p style='color:#8a4b00'><b>"
                + esc(self.tr("Demo model — NOT for clinical use."))
                + "</b></p>"
            )
        facts = [
            (self.tr("Regulatory status"), str(data.get("regulatory_status", ""))),
            (self.tr("Creator"), row.creator),
            (self.tr("Created"), local_time_text(str(data.get("created", "")))),
            (self.tr("Installed"), local_time_text(row.installed_at)),
            (self.tr("Licence"), str(data.get("licence", ""))),
            (self.tr("Architecture"), _plain((data.get("architecture") or {}).get("id", ""))),
            (self.tr("Signing key fingerprint"), _grouped(row.key_fingerprint)),
            (self.tr("Self-test"), self._selftest_text(row)),
        ]
        parts.append("<table cellspacing='0' cellpadding='2'>")
        for name, value in facts:
            if value:
                parts.append(
                    f"<tr><td><b>{esc(name)}</b>&nbsp;</td><td>{esc(str(value))}</td></tr>"
                )
        parts.append("</table>")

        if data.get("intended_use"):
            parts.append(_h3(self.tr("Intended use")))
            parts.append(f"<p>{esc(str(data['intended_use']))}</p>")
        if data.get("out_of_scope_uses"):
            parts.append(_h3(self.tr("Out of scope (do not use for)")))
            parts.append(_value_html(data["out_of_scope_uses"]))
        if data.get("labels"):
            parts.append(_h3(self.tr("Findings, thresholds and operating points")))
            parts.append(self._labels_html(data["labels"]))
        if data.get("metrics"):
            parts.append(_h3(self.tr("Performance (with confidence intervals)")))
            parts.append(self._metrics_html(data["metrics"]))
        for key, title in (
            ("training_data", self.tr("Training data")),
            ("validation_data", self.tr("Validation data")),
        ):
            if data.get(key):
                parts.append(f"<h3>{esc(title)}</h3>")
                parts.append(self._dataset_html(data[key]))
        if data.get("accepted_inputs"):
            parts.append(_h3(self.tr("Accepted inputs")))
            parts.append(_value_html(data["accepted_inputs"]))
        if data.get("changelog"):
            parts.append(_h3(self.tr("Changelog")))
            items = []
            for entry in data["changelog"]:
                if isinstance(entry, dict):
                    items.append(
                        f"<li><b>{esc(str(entry.get('version', '')))}</b> "
                        f"({esc(str(entry.get('date', '')))}): "
                        f"{esc(str(entry.get('changes', '')))}</li>"
                    )
            parts.append("<ul>" + "".join(items) + "</ul>")
        return "\n".join(parts)

    def _labels_html(self, labels: Any) -> str:
        if not isinstance(labels, list):
            return _value_html(labels)
        esc = html.escape
        out = [_table_head(self.tr("Finding"), self.tr("Threshold"), self.tr("Operating point"))]
        for label in labels:
            if not isinstance(label, dict):
                continue
            name = label.get("display_name") or label.get("name", "")
            out.append(
                f"<tr><td>{esc(str(name))}</td>"
                f"<td>{esc(_num(label.get('threshold', '')))}</td>"
                f"<td>{esc(_plain(label.get('operating_point', '')))}</td></tr>"
            )
        out.append("</table>")
        return "".join(out)

    def _metrics_html(self, metrics: Any) -> str:
        """Each metric as ``value (95% CI low–high, method; dataset)``."""
        if not isinstance(metrics, list):
            return _value_html(metrics)
        esc = html.escape
        out = [
            _table_head(
                self.tr("Metric"),
                self.tr("Finding"),
                self.tr("Value"),
                self.tr("Confidence interval"),
                self.tr("Data set"),
            )
        ]
        for m in metrics:
            if not isinstance(m, dict):
                continue
            level = m.get("ci_level", 0.95)
            ci = ""
            if m.get("ci_low") is not None and m.get("ci_high") is not None:
                pct = f"{float(level) * 100:.0f}%" if isinstance(level, int | float) else ""
                ci = f"{pct} {_num(m['ci_low'])}–{_num(m['ci_high'])}"
                if m.get("ci_method"):
                    ci += f" ({m['ci_method']})"
            out.append(
                f"<tr><td>{esc(str(m.get('name', '')))}</td><td>{esc(str(m.get('label', '')))}</td>"
                f"<td>{esc(_num(m.get('value', '')))}</td><td>{esc(ci)}</td>"
                f"<td>{esc(str(m.get('dataset', '')))}</td></tr>"
            )
        out.append("</table>")
        return "".join(out)

    def _dataset_html(self, data: Any) -> str:
        if not isinstance(data, dict):
            return _value_html(data)
        esc = html.escape
        out = []
        if data.get("description"):
            out.append(f"<p>{esc(str(data['description']))}</p>")
        facts = [
            (self.tr("Sources"), _plain(data.get("sources", ""))),
            (self.tr("Dates"), _plain(data.get("dates", ""))),
            (self.tr("Images"), _plain(data.get("count", ""))),
            (self.tr("Positives"), _plain(data.get("positives", ""))),
            (self.tr("Devices"), _plain(data.get("devices", ""))),
        ]
        out.append("<ul>")
        for name, value in facts:
            if value:
                out.append(f"<li><b>{esc(name)}</b>: {esc(value)}</li>")
        out.append("</ul>")
        return "".join(out)

    # -- actions -------------------------------------------------------------------------------
    def _confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(
            self,
            title,
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def choose_and_install(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Install a model bundle"),
            str(Path.home()),
            self.tr("Model bundles (*.bundle);;All files (*)"),
        )
        if path:
            self.install(Path(path))

    def install(self, path: Path, *, allow_downgrade: bool = False) -> None:
        """Install ``path`` after confirmation; the core verifies, self-tests and audits it."""
        if self._busy:
            return
        if not allow_downgrade and not self._confirm(
            self.tr("Install model bundle"),
            self.tr(
                "Install the model bundle {file}?\n\nIts signature, manifest, weights and "
                "self-test are checked first; a bundle that fails any check is refused. "
                "The installation is recorded in the audit log."
            ).format(file=path.name),
        ):
            return
        self._start("verifying", file=path.name)
        settings = self.settings
        self._runner.submit(
            lambda _p, _c: install_bundle(settings, path, allow_downgrade=allow_downgrade),
            on_result=self._on_installed,
            on_error=lambda exc: self._on_refused(path, exc),
            name="install-bundle",
        )

    def _on_installed(self, result: tuple[str, str, bool]) -> None:
        self._finish()
        model_id, version, active = result
        key = "installed_active" if active else "installed"
        self._set_status(key, "ok", model=model_id, version=version)
        self._pending_select = (model_id, version)
        self.store_changed.emit()
        self.refresh()

    def _on_refused(self, path: Path, exc: BaseException) -> None:
        self._finish()
        reason = error_text(exc)
        if getattr(exc, "code", "") == "downgrade":
            # The core refused (and recorded) an implicit downgrade; installing an older version
            # is allowed only as a second, explicit decision.
            if self._confirm(
                self.tr("Install an older version?"),
                self.tr(
                    "{reason}\n\nInstall this older version anyway? It will not become active "
                    "by itself, and the downgrade is recorded in the audit log."
                ).format(reason=reason),
            ):
                self.install(path, allow_downgrade=True)
                return
            self._set_status("downgrade_cancelled", "error", reason=reason)
            return
        self._set_status("refused", "error", reason=self.refusal_text(exc))
        self.refresh()

    def refusal_text(self, exc: BaseException) -> str:
        """The failed check in the reader's language, then the core's own sentence."""
        return bundle_refusal_text(exc)

    def activate_selected(self) -> None:
        row = self.selected_row()
        if row is None or self._busy:
            return
        if not self._confirm(
            self.tr("Activate model"),
            self.tr(
                "Make {model} {version} the active version?\n\nImages scored from now on use "
                "this version. The change is recorded in the audit log."
            ).format(model=row.model_id, version=row.version),
        ):
            return
        self._start("activating", model=row.model_id, version=row.version)
        settings = self.settings
        self._runner.submit(
            lambda _p, _c: _with_store(settings, lambda s: s.activate(row.model_id, row.version)),
            on_result=lambda _r: self._on_done(
                "activated", model=row.model_id, version=row.version
            ),
            on_error=lambda exc: self._on_failed("failed", exc),
            name="activate-bundle",
        )

    def rollback_selected(self) -> None:
        row = self.selected_row()
        if row is None or self._busy:
            return
        if not self._confirm(
            self.tr("Roll back model"),
            self.tr(
                "Roll back {model} from {version} to the version that was active before it?"
                "\n\nImages scored from now on use that version. The change is recorded in the "
                "audit log."
            ).format(model=row.model_id, version=row.version),
        ):
            return
        self._start("rolling_back", model=row.model_id)
        settings = self.settings
        self._runner.submit(
            lambda _p, _c: str(_with_store(settings, lambda s: s.rollback(row.model_id))),
            on_result=lambda version: self._on_done(
                "rolled_back", model=row.model_id, version=version, select=version
            ),
            on_error=lambda exc: self._on_failed("failed", exc),
            name="rollback-bundle",
        )

    def selftest_selected(self) -> None:
        row = self.selected_row()
        if row is None or self._busy:
            return
        self._start("testing", model=row.model_id, version=row.version)
        settings = self.settings
        self._runner.submit(
            lambda _p, _c: run_selftest(settings, row),
            on_result=lambda result: self._on_tested(row, result),
            on_error=lambda exc: self._on_test_failed(row, exc),
            name="selftest-bundle",
        )

    def _on_tested(self, row: BundleRow, result: tuple[bool, str]) -> None:
        self._finish()
        passed, diff = result
        self._replace_row(row, selftest="passed" if passed else "failed")
        if passed:
            self._set_status("tested", "ok", model=row.model_id, version=row.version, diff=diff)
        else:
            self._set_status(
                "test_failed", "error", model=row.model_id, version=row.version, reason=diff
            )

    def _on_test_failed(self, row: BundleRow, exc: BaseException) -> None:
        self._finish()
        reason = error_text(exc)
        self._replace_row(row, selftest="failed", problem=reason)
        self._set_status(
            "test_failed", "error", model=row.model_id, version=row.version, reason=reason
        )

    def _replace_row(self, row: BundleRow, **changes: Any) -> None:
        for i, existing in enumerate(self._rows):
            if existing.model_id == row.model_id and existing.version == row.version:
                self._rows[i] = replace(existing, checked_now=True, **changes)
        self._fill_table()
        self._show_card()
        self._update_buttons()

    def _on_done(self, key: str, *, select: str = "", **fields: str) -> None:
        self._finish()
        self._set_status(key, "ok", **fields)
        if select and "model" in fields:
            self._pending_select = (fields["model"], select)
        self.store_changed.emit()
        self.refresh()

    def _on_failed(self, key: str, exc: BaseException) -> None:
        self._finish()
        self._set_status(key, "error", reason=error_text(exc))

    # -- busy state ----------------------------------------------------------------------------
    def is_busy(self) -> bool:
        return self._busy

    def _start(self, key: str, **fields: str) -> None:
        self._busy = True
        self._busy_kind = "list" if key == "loading" else "action"
        self.progress.show()
        # A refresh after an action keeps the action's result on screen.
        if key != "loading" or self._status[0] in ("", "loading", "empty"):
            self._set_status(key, "info", **fields)
        self._update_buttons()

    def _finish(self) -> None:
        self._busy = False
        self.progress.hide()
        self._update_buttons()

    def shutdown(self) -> None:
        """Cancel and wait for the worker (window closing, tests' teardown)."""
        self._runner.shutdown()

    def _action_running(self) -> bool:
        return self._busy and self._busy_kind == "action"

    def closeEvent(self, event: Any) -> None:
        # An install, activation or roll-back cannot be interrupted half-way (the store and the
        # audit log must agree), and waiting here would freeze the window: stay open instead.
        if self._action_running():
            self._set_status("wait", "error", **self._status[2])
            event.ignore()
            return
        self.shutdown()
        super().closeEvent(event)

    def reject(self) -> None:
        """Esc / Close: the same rule as closing the window."""
        if self._action_running():
            self._set_status("wait", "error", **self._status[2])
            return
        self.shutdown()
        super().reject()


def _grouped(fingerprint: str) -> str:
    """Groups of four hex digits, as ``bedside keys list`` prints them (read aloud to IT)."""
    return " ".join(fingerprint[i : i + 4] for i in range(0, len(fingerprint), 4))


def _h3(title: str) -> str:
    return f"<h3>{html.escape(title)}</h3>"


def _table_head(*titles: str) -> str:
    cells = "".join(f"<th>{html.escape(t)}</th>" for t in titles)
    return f"<table border='1' cellspacing='0' cellpadding='3'><tr>{cells}</tr>"


def _version_key(version: str) -> tuple[int, ...]:
    parts: list[int] = []
    for piece in version.split("+")[0].split("-")[0].split("."):
        parts.append(int(piece) if piece.isdigit() else 0)
    return tuple(parts)


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_num(v)}" for k, v in value.items() if v not in (None, ""))
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    return _num(value)


def _value_html(value: Any) -> str:
    """Generic, escaped rendering of a manifest value (text, list or nested mapping)."""
    esc = html.escape
    if isinstance(value, dict):
        rows = "".join(
            f"<li><b>{esc(str(k).replace('_', ' '))}</b>: {_value_inline(v)}</li>"
            for k, v in value.items()
            if v not in (None, "", [], {})
        )
        return f"<ul>{rows}</ul>"
    if isinstance(value, list):
        return "<ul>" + "".join(f"<li>{_value_inline(v)}</li>" for v in value) + "</ul>"
    return f"<p>{esc(_num(value))}</p>"


def _value_inline(value: Any) -> str:
    if isinstance(value, dict | list):
        return _value_html(value)
    return html.escape(_num(value))


__all__ = ["BundleRow", "QtModelManager", "list_bundles"]
