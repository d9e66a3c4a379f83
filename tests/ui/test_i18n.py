"""Languages: the Japanese catalogue is complete and current, and switching works at run time."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, QThreadPool, QTranslator
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton
from pytestqt.qtbot import QtBot

from tests.waits import WAIT_MS, WAIT_S
from viewer.config import Settings, load_settings
from viewer.ui import i18n
from viewer.ui.i18n import install_translator, local_time_text, resolve_language
from viewer.ui.qt_model_manager import QtModelManager
from viewer.ui.qt_settings import QtSettingsDialog

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "viewer" / "ui"
TS = ROOT / "resources" / "i18n" / "bedside_ja.ts"
QM = ROOT / "resources" / "i18n" / "bedside_ja.qm"
BIN = Path(sys.executable).parent
APP_CLASSES = {"QCoreApplication", "QGuiApplication", "QApplication"}
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%n|%\d")


@dataclass(frozen=True)
class Message:
    context: str
    source: str
    translation: str
    finished: bool


def _parse(ts: Path) -> dict[tuple[str, str], Message]:
    out: dict[tuple[str, str], Message] = {}
    for context in ET.parse(ts).getroot().iter("context"):  # noqa: S314 - our own file
        name = context.findtext("name", "")
        for message in context.iter("message"):
            source = message.findtext("source", "")
            tr = message.find("translation")
            forms = [] if tr is None else [f.text or "" for f in tr.iter("numerusform")]
            text = " | ".join(forms) if forms else ("" if tr is None else tr.text or "")
            finished = tr is not None and tr.get("type") is None and bool(text.strip())
            out[(name, source)] = Message(name, source, text, finished)
    return out


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    yield
    app = QCoreApplication.instance()
    if app is not None:
        install_translator(app, "en")
    assert QThreadPool.globalInstance().waitForDone(WAIT_MS), "a worker outlived its test"


# -- the catalogue ----------------------------------------------------------------------------


class _TrCalls(ast.NodeVisitor):
    """Every tr()/translate() call in a module, with the context Qt will look it up under."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.classes: list[str] = []
        self.found: list[tuple[str, str]] = []
        self.problems: list[str] = []

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.classes.append(node.name)
        self.generic_visit(node)
        self.classes.pop()

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        where = f"{self.path.name}:{node.lineno}"
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name == "tr" and node.args:
            arg = node.args[0]
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                self.problems.append(f"{where}: tr() of a non-literal can never be translated")
            elif not (isinstance(func, ast.Attribute) and self.classes):
                self.problems.append(
                    f"{where}: bare tr({arg.value!r}) has no context; Qt looks it up under the "
                    "calling class, lupdate under none. Use QCoreApplication.translate(Class, ...)"
                )
            else:
                self.found.append((self.classes[-1], arg.value))
        elif (
            name == "translate"
            and isinstance(func, ast.Attribute)
            and getattr(func.value, "id", "") in APP_CLASSES
            and len(node.args) >= 2
        ):
            ctx, src = node.args[0], node.args[1]
            if isinstance(ctx, ast.Constant) and isinstance(src, ast.Constant):
                self.found.append((str(ctx.value), str(src.value)))
            else:
                self.problems.append(f"{where}: translate() needs literal context and text")
        self.generic_visit(node)


def _scan() -> tuple[list[tuple[str, str]], list[str]]:
    found: list[tuple[str, str]] = []
    problems: list[str] = []
    for path in sorted(UI.glob("*.py")):
        visitor = _TrCalls(path)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
        found += visitor.found
        problems += visitor.problems
    return found, problems


def test_every_tr_call_is_extractable() -> None:
    """lupdate cannot see a tr() of a variable, and a bare tr() lands in no context."""
    _found, problems = _scan()
    assert problems == []


def test_every_source_string_has_a_finished_japanese_translation() -> None:
    catalogue = _parse(TS)
    found, _ = _scan()
    assert found, "the scan found no tr() calls at all"
    missing = [f"{c}: {s!r}" for c, s in found if (c, s) not in catalogue]
    assert missing == [], "run packaging/update_translations.py"
    unfinished = [f"{m.context}: {m.source!r}" for m in catalogue.values() if not m.finished]
    assert unfinished == []


def test_translations_keep_their_placeholders() -> None:
    """A lost {0} or {reason} would hide the very detail (a reason, a row) the text is about."""
    wrong = [
        f"{m.context}: {m.source!r} -> {m.translation!r}"
        for m in _parse(TS).values()
        if m.finished
        and sorted(PLACEHOLDER.findall(m.source)) != sorted(PLACEHOLDER.findall(m.translation))
    ]
    assert wrong == []


def test_lupdate_finds_nothing_new(tmp_path: Path) -> None:
    """The committed .ts is what lupdate makes of the current sources (nothing left out)."""
    fresh = tmp_path / "bedside_ja.ts"
    fresh.write_bytes(TS.read_bytes())
    options = ["-ts", str(fresh), "-no-obsolete", "-locations", "none", "-silent"]
    subprocess.run(
        [str(BIN / "pyside6-lupdate"), *map(str, sorted(UI.glob("*.py"))), *options],
        check=True,
        timeout=WAIT_S,
    )
    assert set(_parse(fresh)) == set(_parse(TS))


def test_compiled_catalogue_is_current(tmp_path: Path) -> None:
    qm = tmp_path / "bedside_ja.qm"
    subprocess.run(
        [str(BIN / "pyside6-lrelease"), str(TS), "-qm", str(qm), "-silent"],
        check=True,
        timeout=WAIT_S,
    )
    assert qm.read_bytes() == QM.read_bytes(), "run packaging/update_translations.py"


def test_compiled_catalogue_translates() -> None:
    translator = QTranslator()
    assert translator.load(str(QM))
    assert translator.translate("QtSettingsDialog", "Set by your site") == "施設で設定済み"
    assert translator.translate("QtModelManager", "Activate") == "有効化"


# -- choosing and switching -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "locale", "expected"),
    [
        ("auto", QLocale("ja_JP"), "ja"),
        ("auto", QLocale("en_US"), "en"),
        ("auto", QLocale("de_DE"), "en"),
        ("ja", QLocale("en_US"), "ja"),
        ("en", QLocale("ja_JP"), "en"),
        ("klingon", QLocale("ja_JP"), "en"),
    ],
    ids=["auto-ja", "auto-en", "auto-other", "ja", "en", "unknown"],
)
def test_resolve_language(setting: str, locale: QLocale, expected: str) -> None:
    assert resolve_language(setting, locale) == expected


def test_auto_follows_the_system_locale(
    qapp: QCoreApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = qapp
    monkeypatch.setattr(
        i18n.QLocale, "system", staticmethod(lambda: QLocale(QLocale.Language.Japanese))
    )
    assert install_translator(app, "auto") == "ja"
    assert QCoreApplication.translate("QtSettingsDialog", "Settings") == "設定"


def test_switch_to_japanese_and_back_retranslates_open_windows(
    qtbot: QtBot, settings: Settings
) -> None:
    app = QCoreApplication.instance()
    assert app is not None
    manager = QtModelManager(settings)
    qtbot.addWidget(manager)
    manager.show()
    qtbot.waitUntil(lambda: not manager.is_busy(), timeout=WAIT_MS)
    heading = manager.findChild(QLabel, "modelManagerHeading")
    activate = manager.findChild(QPushButton, "activateButton")
    assert heading.text() == "Installed model bundles"

    dialog = QtSettingsDialog(settings)
    qtbot.addWidget(dialog)
    dialog.open()
    combo = dialog.findChild(QComboBox, "languageCombo")
    combo.setCurrentIndex(combo.findData("ja"))
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT_MS):
        dialog.findChild(QPushButton, "saveSettingsButton").click()
    assert load_settings().values.ui.language == "ja"
    qtbot.waitUntil(lambda: heading.text() == "インストール済みモデルバンドル", timeout=WAIT_MS)
    assert activate.text() == "有効化"
    assert i18n.current_language(app) == "ja"

    assert install_translator(app, "en") == "en"
    qtbot.waitUntil(lambda: heading.text() == "Installed model bundles", timeout=WAIT_MS)
    assert activate.text() == "Activate"
    manager.shutdown()


def test_switching_twice_does_not_stack_translators(qapp: QCoreApplication) -> None:
    app = qapp
    install_translator(app, "ja")
    install_translator(app, "ja")
    install_translator(app, "en")
    assert QCoreApplication.translate("QtModelManager", "Activate") == "Activate"


def test_local_time_text_converts_utc_to_the_local_zone() -> None:
    shown = local_time_text("2026-11-28T13:00:00.000000Z")
    from datetime import UTC, datetime

    expected = datetime(2026, 11, 28, 13, 0, tzinfo=UTC).astimezone()
    assert shown.startswith(expected.strftime("%Y-%m-%d %H:%M:%S"))
    assert local_time_text(None) == ""
    assert local_time_text("not a date") == "not a date"


@pytest.fixture
def tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local zone is Asia/Tokyo (UTC+9, no daylight saving) for one test."""
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_utc_is_shown_in_the_local_zone(tokyo: None) -> None:
    assert local_time_text("2026-11-28T16:30:00.000000Z") == "2026-11-29 01:30:00 JST"


def test_audit_date_filter_means_local_days(qtbot: QtBot, settings: Settings, tokyo: None) -> None:
    from datetime import UTC, datetime

    from PySide6.QtCore import QDate

    from viewer.ui.qt_audit_window import QtAuditWindow

    window = QtAuditWindow(settings)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=WAIT_MS)
    window.date_enabled.setChecked(True)
    window.date_from.setDate(QDate(2026, 11, 29))
    window.date_to.setDate(QDate(2026, 11, 29))
    f = window.filters()
    assert f.date_from == datetime(2026, 11, 28, 15, 0, tzinfo=UTC)  # 29 Nov 00:00 in Tokyo
    assert f.date_to == datetime(2026, 11, 29, 15, 0, tzinfo=UTC)  # 30 Nov 00:00, exclusive
    window.shutdown()


def test_audit_date_filter_follows_daylight_saving(
    qtbot: QtBot, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A summer day in Berlin starts at 22:00 UTC the day before, a winter day at 23:00."""
    import time
    from datetime import UTC, datetime

    from PySide6.QtCore import QDate

    from viewer.ui.qt_audit_window import QtAuditWindow

    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        window = QtAuditWindow(settings)
        qtbot.addWidget(window)
        qtbot.waitUntil(lambda: not window.is_busy(), timeout=WAIT_MS)
        window.date_enabled.setChecked(True)
        window.date_from.setDate(QDate(2026, 7, 1))
        window.date_to.setDate(QDate(2026, 12, 1))
        f = window.filters()
        assert f.date_from == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)
        assert f.date_to == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
        window.shutdown()
    finally:
        monkeypatch.undo()
        time.tzset()
