"""Settings dialog and first run: clinician name and role, reading order, language, left drag.

Why: the printed name and role go into every audit row (the meaning of a signature), so the first
run asks for them; IT may lock any of these keys in the site file, and a locked key is shown
greyed out with "Set by your site" rather than hidden, so a clinician knows why it cannot change.
Saving goes through ``viewer.config.save_user_settings`` (the same function the CLI uses); the
updated :class:`viewer.config.Settings` is then in ``dialog.settings``. A language change is
applied at once (:func:`viewer.ui.i18n.install_translator`), so every open window re-translates.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from viewer.config import Settings, save_user_settings
from viewer.errors import BedsideError
from viewer.ui.i18n import install_translator
from viewer.ui.plain_text import plain_labels
from viewer.ui.qt_pacs import QtPacsCheck


def needs_first_run(settings: Settings) -> bool:
    """True when no clinician name is set and the user may set one (the main window then opens
    :class:`QtSettingsDialog` with ``first_run=True``)."""
    return not settings.values.user.name.strip() and not settings.is_locked("user.name")


def ask_first_run(settings: Settings, parent: QWidget | None = None) -> Settings:
    """At start-up: if no clinician name is set, ask for it (modal) and return the new settings.

    The main window calls this once after it is shown; without a name the app still opens, and
    the core refuses decisions if the site requires a named user.
    """
    if not needs_first_run(settings):
        return settings
    dialog = QtSettingsDialog(settings, parent, first_run=True)
    try:
        dialog.exec()
        return dialog.settings
    finally:
        dialog.deleteLater()


class QtSettingsDialog(QDialog):
    """User settings; after ``exec()`` (or ``accepted``) ``.settings`` holds the saved settings."""

    settings_saved = Signal(object)  # the new viewer.config.Settings

    def __init__(
        self, settings: Settings, parent: QWidget | None = None, *, first_run: bool = False
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.settings = settings
        self._first_run = first_run
        values = settings.values

        self._intro = QLabel(self)
        self._intro.setObjectName("firstRunIntro")
        self._intro.setWordWrap(True)
        self._intro.setVisible(first_run)

        self.clinician_name = QLineEdit(values.user.name, self)
        self.clinician_name.setObjectName("clinicianName")
        self.clinician_name.setMaxLength(200)
        self.clinician_role = QComboBox(self)
        self.clinician_role.setObjectName("clinicianRole")
        self.clinician_role.setEditable(True)
        self.clinician_role.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        role_edit = self.clinician_role.lineEdit()
        if role_edit is not None:
            role_edit.setMaxLength(100)
        self.reading_order = QComboBox(self)
        self.reading_order.setObjectName("readingOrder")
        self.language_combo = QComboBox(self)
        self.language_combo.setObjectName("languageCombo")
        self.left_drag = QComboBox(self)
        self.left_drag.setObjectName("leftDrag")
        self.data_dir_label = QLabel(str(settings.data_dir), self)
        self.data_dir_label.setObjectName("dataDirLabel")
        self.data_dir_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.data_dir_label.setWordWrap(True)
        self._error = QLabel(self)
        self._error.setObjectName("settingsError")
        self._error.setWordWrap(True)
        self._error.setStyleSheet("color: #b00020;")
        self._error.hide()

        self._buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self._buttons.setObjectName("settingsButtons")
        self._save = self._buttons.button(QDialogButtonBox.StandardButton.Save)
        self._save.setObjectName("saveSettingsButton")
        self._cancel = self._buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self._cancel.setObjectName("cancelSettingsButton")
        self._buttons.accepted.connect(self._on_save)
        self._buttons.rejected.connect(self.reject)

        # key -> (editor, its lock note)
        self._fields: dict[str, tuple[QWidget, QLabel]] = {}
        self._form = QFormLayout()
        self._form_labels: dict[str, QLabel] = {}
        for key, editor in (
            ("user.name", self.clinician_name),
            ("user.role", self.clinician_role),
            ("reading.order", self.reading_order),
            ("ui.language", self.language_combo),
            ("ui.left_drag", self.left_drag),
        ):
            note = QLabel(self)
            note.setObjectName(key.replace(".", "_") + "_lock")
            note.setStyleSheet("color: #555; font-style: italic;")
            row = QWidget(self)
            inner = QVBoxLayout(row)
            inner.setContentsMargins(0, 0, 0, 0)
            inner.setSpacing(2)
            inner.addWidget(editor)
            inner.addWidget(note)
            locked = settings.is_locked(key)
            editor.setEnabled(not locked)
            note.setVisible(locked)
            label = QLabel(self)
            label.setBuddy(editor)
            self._form_labels[key] = label
            self._form.addRow(label, row)
            self._fields[key] = (editor, note)
        self._data_label = QLabel(self)
        self._form.addRow(self._data_label, self.data_dir_label)
        # PACS (issue 17): set by IT; the reader or IT can test the connection from here
        self.pacs = QtPacsCheck(settings, self)

        layout = QVBoxLayout(self)
        layout.addWidget(self._intro)
        layout.addLayout(self._form)
        layout.addWidget(self.pacs)
        layout.addWidget(self._error)
        layout.addWidget(self._buttons)

        self.clinician_name.textChanged.connect(self._update_save_enabled)
        plain_labels(self)  # text from files is shown as text, never as HTML
        self.retranslate()
        self._select_current()
        self._update_save_enabled()

    # -- texts ---------------------------------------------------------------------------------
    def retranslate(self) -> None:
        """Every visible string; called again on QEvent.LanguageChange."""
        self.setWindowTitle(
            self.tr("Welcome to Bedside") if self._first_run else self.tr("Settings")
        )
        self._intro.setText(
            self.tr(
                "Please enter your name and role. They are printed with every decision you "
                "record in the audit log."
            )
        )
        self._form_labels["user.name"].setText(self.tr("Clinician &name:"))
        self._form_labels["user.role"].setText(self.tr("&Role:"))
        self._form_labels["reading.order"].setText(self.tr("Reading &order:"))
        self._form_labels["ui.language"].setText(self.tr("&Language:"))
        self._form_labels["ui.left_drag"].setText(self.tr("Left mouse &drag:"))
        self._data_label.setText(self.tr("Data folder:"))
        self.clinician_name.setPlaceholderText(self.tr("e.g. Dr. Jane Smith"))
        self.clinician_name.setAccessibleName(self.tr("Clinician name"))
        self.clinician_role.setAccessibleName(self.tr("Clinician role"))
        self.reading_order.setAccessibleName(self.tr("Reading order"))
        self.language_combo.setAccessibleName(self.tr("Language"))
        self.left_drag.setAccessibleName(self.tr("Left mouse drag on the image"))
        self.data_dir_label.setAccessibleName(self.tr("Data folder"))
        self._save.setText(self.tr("Save"))
        self._save.setAccessibleName(self.tr("Save settings"))
        self._cancel.setText(self.tr("Cancel"))
        self._cancel.setAccessibleName(self.tr("Cancel"))

        role = self._role_value()
        self.clinician_role.blockSignals(True)
        self.clinician_role.clear()
        for key, shown in self._role_presets():
            self.clinician_role.addItem(shown, key)
        self._set_role(role)
        self.clinician_role.blockSignals(False)

        order = self.reading_order.currentData()
        self.reading_order.clear()
        self.reading_order.addItem(self.tr("AI result shown with the image"), "ai_first")
        self.reading_order.addItem(self.tr("Read first, then reveal the AI result"), "read_first")
        if order is not None:
            self.reading_order.setCurrentIndex(max(0, self.reading_order.findData(order)))
        self.reading_order.setToolTip(
            self.tr(
                "With 'read first' the AI result stays hidden until you record your own "
                "provisional finding. The order used is recorded in the audit log."
            )
        )

        lang = self.language_combo.currentData()
        self.language_combo.clear()
        self.language_combo.addItem(self.tr("System language"), "auto")
        self.language_combo.addItem("English", "en")
        self.language_combo.addItem("日本語", "ja")
        if lang is not None:
            self.language_combo.setCurrentIndex(max(0, self.language_combo.findData(lang)))

        drag = self.left_drag.currentData()
        self.left_drag.clear()
        self.left_drag.addItem(self.tr("Pan the image (right drag: window/level)"), "pan")
        self.left_drag.addItem(
            self.tr("Window/level, as in Weasis and RadiAnt (right drag: pan)"), "window"
        )
        if drag is not None:
            self.left_drag.setCurrentIndex(max(0, self.left_drag.findData(drag)))

        locked_text = self.tr("Set by your site")
        for editor, note in self._fields.values():
            note.setText(locked_text)
            if not editor.isEnabled():
                editor.setToolTip(locked_text)
        self.data_dir_label.setToolTip(
            self.tr("Where Bedside keeps the audit log, models and settings (set by IT).")
        )

    def _role_presets(self) -> list[tuple[str, str]]:
        """Suggested roles: (stored English value, shown text). Any other text may be typed."""
        return [
            ("Radiologist", self.tr("Radiologist")),
            ("Emergency physician", self.tr("Emergency physician")),
            ("Resident", self.tr("Resident")),
            ("Radiographer", self.tr("Radiographer")),
        ]

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _select_current(self) -> None:
        values = self.settings.values
        self._set_role(values.user.role)
        self.reading_order.setCurrentIndex(
            max(0, self.reading_order.findData(values.reading.order))
        )
        self.language_combo.setCurrentIndex(
            max(0, self.language_combo.findData(values.ui.language))
        )
        self.left_drag.setCurrentIndex(max(0, self.left_drag.findData(values.ui.left_drag)))

    def _set_role(self, role: str) -> None:
        index = self.clinician_role.findData(role) if role else -1
        if index >= 0:
            self.clinician_role.setCurrentIndex(index)
        else:
            self.clinician_role.setCurrentIndex(-1)
            self.clinician_role.setEditText(role)

    def _role_value(self) -> str:
        """The role as stored: a preset's English key if one was picked, else the typed text."""
        text = self.clinician_role.currentText().strip()
        index = self.clinician_role.findText(text)
        if index >= 0:
            data = self.clinician_role.itemData(index)
            if isinstance(data, str):
                return data
        return text

    def _update_save_enabled(self) -> None:
        # First run exists to get a name; an empty one would open the dialog again next start.
        self._save.setEnabled(not self._first_run or bool(self.clinician_name.text().strip()))

    # -- saving --------------------------------------------------------------------------------
    def changes(self) -> dict[str, Any]:
        """Dotted user keys whose value differs from the current settings (locked keys never)."""
        values = self.settings.values
        wanted: dict[str, Any] = {
            "user.name": self.clinician_name.text().strip(),
            "user.role": self._role_value(),
            "reading.order": self.reading_order.currentData(),
            "ui.language": self.language_combo.currentData(),
            "ui.left_drag": self.left_drag.currentData(),
        }
        current = {
            "user.name": values.user.name,
            "user.role": values.user.role,
            "reading.order": values.reading.order,
            "ui.language": values.ui.language,
            "ui.left_drag": values.ui.left_drag,
        }
        return {
            key: value
            for key, value in wanted.items()
            if value != current[key] and not self.settings.is_locked(key)
        }

    def done(self, result: int) -> None:
        """Closing: a connection test still running is waited for, never left behind."""
        self.pacs.shutdown()
        super().done(result)

    def _on_save(self) -> None:
        updates = self.changes()
        if updates:
            try:
                self.settings = save_user_settings(self.settings, updates)
            except (BedsideError, OSError) as exc:
                self._error.setText(self.tr("Settings were not saved: {reason}").format(reason=exc))
                self._error.show()
                return
        self._error.hide()
        if "ui.language" in updates:
            app = QCoreApplication.instance()
            if app is not None:
                install_translator(app, self.settings.values.ui.language)
        self.settings_saved.emit(self.settings)
        self.accept()
