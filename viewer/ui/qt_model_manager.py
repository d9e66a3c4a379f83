"""Model manager (for IT): installed bundles, their model card, install / activate / roll back.

Why: which model scores a patient's image is a clinical-safety decision, so every change is an
explicit, confirmed act that the core records in the audit log (``viewer.session.model_admin``:
the store with the audit log attached, as ``bedside bundle install/activate/rollback``). A
refused bundle shows the core's reason as written (signature, untrusted key, schema, weights,
self-test ...), never a traceback. Verification, loading and the self-test import torch and take
seconds, so they run in a worker; only the GUI thread touches widgets.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QCloseEvent
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
from viewer.keyprint import format_fingerprint
from viewer.session.model_admin import (
    BundleRow,
    ChangeRow,
    SelfTestOutcome,
    StoreView,
    activate_bundle,
    change_history,
    install_bundle,
    list_bundles,
    rollback_bundle,
    run_selftest,
    sort_rows,
    stop_shadow,
)
from viewer.ui.check_text import bundle_refusal_text
from viewer.ui.plain_text import plain_labels, plain_tooltip
from viewer.ui.qt_model_card import card_html, selftest_text
from viewer.ui.workers import JobRunner, error_text

HISTORY_COLUMNS = ("time", "change", "evidence", "approvers", "record")


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

        # The selected model's signed change records (issue 16 item 4), oldest first.
        self._history: list[ChangeRow] = []
        self._history_model: str | None = None
        self._history_failed = ""
        self._history_heading = QLabel(self)
        self._history_heading.setObjectName("changeHistoryHeading")
        self.history = QTableWidget(0, len(HISTORY_COLUMNS), self)
        self.history.setObjectName("changeHistory")
        self.history.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history.verticalHeader().setVisible(False)
        header = self.history.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        history_box = QWidget(self)
        history_layout = QVBoxLayout(history_box)
        history_layout.setContentsMargins(0, 4, 0, 0)
        history_layout.addWidget(self._history_heading)
        history_layout.addWidget(self.history, 1)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.table)
        splitter.addWidget(self.card)
        splitter.addWidget(history_box)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        splitter.setStretchFactor(2, 1)
        splitter.setSizes([150, 380, 140])

        self.install_button = QPushButton(self)
        self.install_button.setObjectName("installBundleButton")
        self.install_button.clicked.connect(self.choose_and_install)
        self.activate_button = QPushButton(self)
        self.activate_button.setObjectName("activateButton")
        self.activate_button.clicked.connect(self.activate_selected)
        self.rollback_button = QPushButton(self)
        self.rollback_button.setObjectName("rollbackButton")
        self.rollback_button.clicked.connect(self.rollback_selected)
        self.install_shadow_button = QPushButton(self)
        self.install_shadow_button.setObjectName("installShadowButton")
        self.install_shadow_button.clicked.connect(self.choose_and_install_shadow)
        self.stop_shadow_button = QPushButton(self)
        self.stop_shadow_button.setObjectName("stopShadowButton")
        self.stop_shadow_button.clicked.connect(self.stop_shadow_selected)
        self.compare_button = QPushButton(self)
        self.compare_button.setObjectName("openComparisonButton")
        self.compare_button.clicked.connect(self.show_comparison)
        self._comparison: QWidget | None = None
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
        for button in (
            self.install_button,
            self.activate_button,
            self.rollback_button,
            self.install_shadow_button,
            self.stop_shadow_button,
            self.compare_button,
        ):
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

        plain_labels(self)  # text from files is shown as text, never as HTML
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
        self.install_shadow_button.setText(self.tr("Install as shadow…"))
        self.install_shadow_button.setAccessibleName(
            self.tr("Install a model bundle as the shadow candidate of its model")
        )
        self.install_shadow_button.setToolTip(self._shadow_note())
        self.stop_shadow_button.setText(self.tr("Stop shadow"))
        self.stop_shadow_button.setAccessibleName(
            self.tr("Stop shadow scoring by the selected version")
        )
        self.compare_button.setText(self.tr("Compare…"))
        self.compare_button.setAccessibleName(
            self.tr("Compare a candidate version with the active one on local decisions")
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
        self.history.setHorizontalHeaderLabels(
            [
                self.tr("When (UTC)"),
                self.tr("Change"),
                self.tr("Evidence"),
                self.tr("Approved by"),
                self.tr("Record"),
            ]
        )
        self.history.setAccessibleName(self.tr("Signed change records of the selected model"))
        self._fill_history()
        self._fill_table()
        self._show_card()
        self._render_status()

    def _shadow_note(self) -> str:
        return self.tr(
            "A shadow candidate scores every image after the active version; its results are "
            "recorded in the audit log for comparison and never shown to a reader."
        )

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
            text += " " + self.tr("Key files not used: {problems}").format(
                problems="; ".join(self._key_problems)
            )
            style = "color: #b00020;"
        self.trust_label.setText(text)
        self.trust_label.setStyleSheet(style)
        self.trust_label.setToolTip(
            "\n".join(
                f"{source}: {format_fingerprint(fp)}  {path}" for source, fp, path in self._keys
            )
        )

    # -- status line ---------------------------------------------------------------------------
    def _set_status(self, key: str, level: str = "info", **fields: str) -> None:
        self._status = (key, level, fields)
        self._render_status()

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
            "installed_shadow": self.tr(
                "Installed {model} {version} as the shadow candidate: it scores every image "
                "after the active version, recorded in the audit log and never shown."
            ),
            "stopping_shadow": self.tr("Stopping shadow scoring of {model}…"),
            "shadow_stopped": self.tr("Shadow scoring of {model} {version} stopped."),
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
        self._rows = sort_rows(merged)
        self._fill_table()
        if not (want is not None and self.select(*want)) and self._rows:
            active = next((i for i, r in enumerate(self._rows) if r.active), 0)
            self.table.selectRow(active)
        if self._status[0] == "loading":
            self._set_status("empty" if not self._rows else "")
        self._show_card()
        self._update_buttons()
        self._load_history(force=True)  # an action may have added a record

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
                selftest_text(row),
                self.tr("Active") if row.active else (self.tr("Shadow") if row.shadow else ""),
            ]
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                if col == 3:
                    item.setToolTip(format_fingerprint(fingerprint))
                if col == 5 and row.shadow:
                    item.setToolTip(self._shadow_note())
                if col == 4 and row.problem:
                    item.setToolTip(plain_tooltip(row.problem))
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
        self._load_history()

    # -- change history ------------------------------------------------------------------------
    def _load_history(self, *, force: bool = False) -> None:
        """Read the selected model's change records in the worker (the chain is verified)."""
        row = self.selected_row()
        model_id = row.model_id if row is not None else None
        if model_id == self._history_model and not force:
            return
        self._history_model, self._history, self._history_failed = model_id, [], ""
        self._fill_history()
        if model_id is None:
            return
        settings = self.settings
        self._runner.submit(
            lambda _progress, _cancelled: change_history(settings, model_id),
            on_result=lambda rows: self._on_history(model_id, rows),
            on_error=lambda exc: self._on_history_failed(model_id, exc),
            name="change-history",
        )

    def _on_history(self, model_id: str, rows: list[ChangeRow]) -> None:
        if model_id == self._history_model:  # else the selection moved on: a stale result
            self._history = rows
            self._fill_history()

    def _on_history_failed(self, model_id: str, exc: BaseException) -> None:
        if model_id == self._history_model:
            self._history_failed = error_text(exc)
            self._fill_history()

    def history_rows(self) -> list[ChangeRow]:
        return list(self._history)

    def _change_text(self, row: ChangeRow) -> str:
        texts = {
            "activate": self.tr("Activated {before} → {after}"),
            "rollback": self.tr("Rolled back {before} → {after}"),
            "site_threshold_set": self.tr("Site threshold set ({after})"),
            "site_threshold_carry_over": self.tr("Site threshold carried over ({after})"),
        }
        text = texts.get(row.action, row.action).format(
            before=row.before or self.tr("none"), after=row.after
        )
        if row.status == "proposed":
            text = self.tr("Proposed: {change}").format(change=text)
        return text

    def _fill_history(self) -> None:
        model = self._history_model or ""
        if self._history_failed:
            heading = self.tr("Change records cannot be read: {reason}").format(
                reason=self._history_failed
            )
        elif model:
            heading = self.tr("Change records of {model}: {count}").format(
                model=model, count=len(self._history)
            )
        else:
            heading = self.tr("Change records")
        self._history_heading.setText(heading)
        kinds = {
            "comparison": self.tr("comparison"),
            "recalibration": self.tr("recalibration"),
            "site_amendment": self.tr("site amendment"),
        }
        self.history.setRowCount(len(self._history))
        for i, row in enumerate(reversed(self._history)):  # the newest first
            kind, _, digest = row.evidence.partition(" ")
            evidence = f"{kinds.get(kind, kind)} {digest[:12]}…" if digest else self.tr("none")
            values = [
                row.time[:19].replace("T", " "),
                self._change_text(row),
                evidence,
                row.approvers,
                self.tr("Verified") if row.verified else self.tr("NOT VERIFIED"),
            ]
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                if col == 2 and digest:
                    item.setToolTip(f"SHA-256 {digest}")
                if col == 4:
                    colour = Qt.GlobalColor.darkGreen if row.verified else Qt.GlobalColor.red
                    item.setForeground(colour)
                    if row.problems:
                        item.setToolTip(plain_tooltip(row.problems))
                self.history.setItem(i, col, item)

    def _update_buttons(self) -> None:
        row = self.selected_row()
        idle = not self._busy
        self.install_button.setEnabled(idle)
        self.refresh_button.setEnabled(idle)
        usable = row is not None and row.selftest != "refused"
        self.activate_button.setEnabled(idle and usable and row is not None and not row.active)
        self.rollback_button.setEnabled(idle and row is not None and row.active)
        self.install_shadow_button.setEnabled(idle)
        self.stop_shadow_button.setEnabled(idle and row is not None and row.shadow)
        self.selftest_button.setEnabled(idle and row is not None)

    def _show_card(self) -> None:
        row = self.selected_row()
        if row is None:
            self.card.setHtml(
                "<p>" + html.escape(self.tr("Select a bundle to see its model card.")) + "</p>"
            )
            return
        self.card.setHtml(card_html(row, demo=self.settings.demo))

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

    def choose_and_install_shadow(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Install a model bundle as shadow"),
            str(Path.home()),
            self.tr("Model bundles (*.bundle);;All files (*)"),
        )
        if path:
            self.install(Path(path), shadow=True)

    def install(self, path: Path, *, allow_downgrade: bool = False, shadow: bool = False) -> None:
        """Install ``path`` after confirmation; the core verifies, self-tests and audits it.
        ``shadow``: as its model's shadow candidate (scored beside the active, never shown)."""
        if self._busy:
            return
        question = self.tr(
            "Install the model bundle {file}?\n\nIts signature, manifest, weights and "
            "self-test are checked first; a bundle that fails any check is refused. "
            "The installation is recorded in the audit log."
        ).format(file=path.name)
        if shadow:
            question += "\n\n" + self.tr(
                "It becomes the shadow candidate of its model: it scores every image after the "
                "active version, its results are recorded in the audit log and never shown to "
                "a reader."
            )
        if not allow_downgrade and not self._confirm(self.tr("Install model bundle"), question):
            return
        self._start("verifying", file=path.name)
        settings = self.settings
        self._runner.submit(
            lambda _p, _c: install_bundle(
                settings, path, allow_downgrade=allow_downgrade, shadow=shadow
            ),
            on_result=lambda result: self._on_installed(result, shadow=shadow),
            on_error=lambda exc: self._on_refused(path, exc, shadow=shadow),
            name="install-bundle",
        )

    def _on_installed(self, result: tuple[str, str, bool], *, shadow: bool = False) -> None:
        self._finish()
        model_id, version, active = result
        key = "installed_active" if active else ("installed_shadow" if shadow else "installed")
        self._set_status(key, "ok", model=model_id, version=version)
        self._pending_select = (model_id, version)
        self.store_changed.emit()
        self.refresh()

    def _on_refused(self, path: Path, exc: BaseException, *, shadow: bool = False) -> None:
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
                self.install(path, allow_downgrade=True, shadow=shadow)
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
        self._run_action(
            "activating",
            partial(activate_bundle, self.settings, row.model_id, row.version),
            lambda _r: self._on_done("activated", model=row.model_id, version=row.version),
            name="activate-bundle",
            model=row.model_id,
            version=row.version,
        )

    def _run_action(
        self,
        key: str,
        job: Callable[[], Any],
        on_result: Callable[[Any], None],
        *,
        name: str,
        **fields: str,
    ) -> None:
        """A confirmed store change: status ``key`` while ``job`` runs in the worker."""
        self._start(key, **fields)
        self._runner.submit(
            lambda _p, _c: job(),
            on_result=on_result,
            on_error=lambda exc: self._on_failed("failed", exc),
            name=name,
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
        self._run_action(
            "rolling_back",
            partial(rollback_bundle, self.settings, row.model_id),
            lambda version: self._on_done(
                "rolled_back", model=row.model_id, version=version, select=version
            ),
            name="rollback-bundle",
            model=row.model_id,
        )

    def show_comparison(self) -> QWidget:
        """The comparison window (what ``bedside model compare`` prints), one at a time."""
        from viewer.ui.qt_comparison import QtComparisonWindow

        if self._comparison is None:
            window = QtComparisonWindow(self.settings, parent=self)
            window.setWindowFlag(Qt.WindowType.Window, True)
            window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            window.destroyed.connect(self._comparison_closed)
            self._comparison = window
        self._comparison.show()
        self._comparison.raise_()
        return self._comparison

    def _comparison_closed(self) -> None:
        self._comparison = None

    def stop_shadow_selected(self) -> None:
        row = self.selected_row()
        if row is None or self._busy or not row.shadow:
            return
        if not self._confirm(
            self.tr("Stop shadow"),
            self.tr(
                "Stop shadow scoring by {model} {version}?\n\nIt stays installed; images are no "
                "longer scored by it. The change is recorded in the audit log."
            ).format(model=row.model_id, version=row.version),
        ):
            return
        self._run_action(
            "stopping_shadow",
            partial(stop_shadow, self.settings, row.model_id),
            lambda version: self._on_done("shadow_stopped", model=row.model_id, version=version),
            name="stop-shadow",
            model=row.model_id,
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

    def _on_tested(self, row: BundleRow, result: SelfTestOutcome) -> None:
        self._finish()
        passed, diff = result.passed, f"{result.max_abs_diff:.2g}"
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

    def closeEvent(self, event: QCloseEvent) -> None:
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


__all__ = ["QtModelManager"]
