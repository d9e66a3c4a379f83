"""Languages: English (the source strings) and Japanese (``resources/i18n/bedside_ja.qm``).

Why a module of its own: the language is chosen at start-up from the settings (``ui.language``:
``auto`` follows the system locale) and can be switched at run time from the settings dialog, so
the translators must be swapped, not stacked. Qt then sends ``QEvent.LanguageChange`` to every
widget, and each window re-reads its texts.

The re-translate pattern every window follows (the main window too)::

    class MyWindow(QWidget):
        def __init__(self) -> None:
            super().__init__()
            self._button = QPushButton(self)
            self._button.setObjectName("myButton")
            self.retranslate()                       # set every text once ...

        def retranslate(self) -> None:               # ... and again on each language change
            self._button.setText(self.tr("Confirm"))
            self._button.setAccessibleName(self.tr("Confirm the AI finding"))

        def changeEvent(self, event: QEvent) -> None:
            if event.type() == QEvent.Type.LanguageChange:
                self.retranslate()
            super().changeEvent(event)

Texts computed from data (a verification result, a status line) are kept as data and re-rendered
in ``retranslate``, so nothing stays in the old language. Source strings are English and go
through ``self.tr()`` (context = the class that calls it); strings outside a QObject use
``QCoreApplication.translate("Context", "text")``. ``packaging/update_translations.py`` refreshes
``bedside_ja.ts`` with ``pyside6-lupdate`` and compiles it with ``pyside6-lrelease``.

Input-check messages come from the core in English with a stable ``code`` and ``params``;
``viewer/ui/check_text.py`` maps every code to a ``QCoreApplication.translate("Checks", ...)``
template (same ``{placeholders}``) and falls back to the English message for a code it does not
know. When the core adds a code to ``viewer.inference.checks.CHECK_MESSAGES``, add it there too
(``tests/ui/test_check_text.py`` fails until you do), run the script and translate the new entry.

Dates: the audit log stores UTC; :func:`local_time_text` shows them in the local zone with the
zone's name, so a reader never mistakes the one for the other.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

LANGUAGES = ("en", "ja")

# Translators we installed, per application object, so a switch removes exactly ours.
_installed: dict[int, list[QTranslator]] = {}
_current: dict[int, str] = {}


def translations_dir() -> Path:
    """``resources/i18n`` in a source checkout, or beside the frozen executable's data."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources" / "i18n"
    return Path(__file__).resolve().parents[2] / "resources" / "i18n"


def resolve_language(language: str, locale: QLocale | None = None) -> str:
    """``en`` or ``ja``: ``auto`` follows the system locale; anything else means English."""
    if language in LANGUAGES:
        return language
    if language == "auto":
        loc = locale if locale is not None else QLocale.system()
        if loc.language() == QLocale.Language.Japanese:
            return "ja"
    return "en"


def current_language(app: QCoreApplication | None = None) -> str:
    """The language last applied with :func:`install_translator` (``en`` before any)."""
    app = app or QCoreApplication.instance()
    return _current.get(id(app), "en") if app is not None else "en"


def install_translator(app: QCoreApplication, language: str) -> str:
    """Apply ``language`` (``auto``, ``en`` or ``ja``) to ``app``; return the language applied.

    Removes the translators a previous call installed, then installs Bedside's catalogue and Qt's
    own (``qtbase_ja``: the standard Yes / No / Cancel buttons). Installing or removing a
    translator makes Qt post ``QEvent.LanguageChange`` to every widget. If the Japanese catalogue
    is missing (a broken install) the app stays in English rather than showing half a language.
    """
    key = id(app)
    for old in _installed.pop(key, []):
        app.removeTranslator(old)
    applied = resolve_language(language)
    translators: list[QTranslator] = []
    if applied != "en":
        ours = QTranslator(app)
        if ours.load(f"bedside_{applied}", str(translations_dir())):
            translators.append(ours)
            qt_base = QTranslator(app)
            qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
            if qt_base.load(f"qtbase_{applied}", qt_dir):
                translators.append(qt_base)
        else:
            applied = "en"
    for translator in translators:
        app.installTranslator(translator)
    _installed[key] = translators
    _current[key] = applied
    return applied


def local_time_text(value: datetime | str | None) -> str:
    """A UTC timestamp (datetime or ISO 8601 text) shown in the local zone, with its zone name.

    Naive datetimes are taken as UTC, because that is how the audit log stores them.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    else:
        moment = value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone()
    return local.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
