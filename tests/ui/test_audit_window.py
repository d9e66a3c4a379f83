"""Audit window: browse, filter, verify (intact and tampered), export with progress."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDate, QThreadPool, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableView,
)
from pytestqt.qtbot import QtBot

from tests.session.audit_log import (
    PATIENT,
    behind_the_apps_back,
    fill_audit_log,
    write_checkpoint_file,
)
from tests.waits import WAIT_MS
from viewer.config import Settings
from viewer.ui.qt_audit_window import QtAuditWindow

filled_log = pytest.fixture(fill_audit_log, name="filled_log")


@pytest.fixture
def window(qtbot: QtBot, filled_log: Settings) -> Iterator[QtAuditWindow]:
    win = QtAuditWindow(filled_log)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=WAIT_MS)
    yield win
    win.shutdown()
    assert QThreadPool.globalInstance().waitForDone(WAIT_MS), "a worker outlived its test"


def _rows(win: QtAuditWindow) -> int:
    table = win.findChild(QTableView, "auditTable")
    return table.model().rowCount()


def _apply(qtbot: QtBot, win: QtAuditWindow) -> None:
    win.findChild(QPushButton, "applyFilterButton").click()
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=WAIT_MS)


def test_browse_shows_all_rows_in_local_time(window: QtAuditWindow) -> None:
    assert _rows(window) == 4
    model = window.findChild(QTableView, "auditTable").model()
    stored = window.model.record(1).time  # UTC text, e.g. 2026-11-28T13:30:00.123456Z
    shown = model.index(1, 1).data()
    local = datetime.fromisoformat(stored.replace("Z", "+00:00")).astimezone()
    assert shown.startswith(local.strftime("%Y-%m-%d %H:%M"))
    assert "Z" not in shown
    assert "Dr. Jane Smith (Resident)" in [model.index(r, 4).data() for r in range(4)]
    assert window.findChild(QLabel, "auditRowCount").text() == "4 records shown"


def test_text_filters_reach_the_query(qtbot: QtBot, window: QtAuditWindow) -> None:
    """Which rows each filter selects is tested Qt-free (tests/session/test_audit_view.py)."""
    window.findChild(QLineEdit, "userFilter").setText("atanaka")
    _apply(qtbot, window)
    assert _rows(window) == 2
    window.findChild(QLineEdit, "modelFilter").setText("other-model")
    _apply(qtbot, window)
    assert _rows(window) == 1


def test_patient_id_is_never_shown(qtbot: QtBot, window: QtAuditWindow) -> None:
    window.findChild(QLineEdit, "patientFilter").setText(PATIENT)
    _apply(qtbot, window)
    model = window.findChild(QTableView, "auditTable").model()
    cells = [str(model.index(r, c).data()) for r in range(model.rowCount()) for c in range(13)]
    assert all(PATIENT not in cell for cell in cells)
    assert model.index(0, 12).data()  # the pseudonym is shown instead


def test_event_and_date_filters(qtbot: QtBot, window: QtAuditWindow) -> None:
    events = window.findChild(QComboBox, "eventFilter")
    events.setCurrentIndex(events.findData("decision"))
    _apply(qtbot, window)
    assert _rows(window) == 3
    window.date_enabled.setChecked(True)
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).astimezone().date()
    window.date_from.setDate(QDate(tomorrow.year, tomorrow.month, tomorrow.day))
    window.date_to.setDate(QDate(tomorrow.year, tomorrow.month, tomorrow.day))
    _apply(qtbot, window)
    assert _rows(window) == 0
    window.findChild(QPushButton, "clearFilterButton").click()
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=WAIT_MS)
    assert _rows(window) == 4


def test_verify_intact_log_is_green_with_row_count(qtbot: QtBot, window: QtAuditWindow) -> None:
    window.findChild(QPushButton, "verifyButton").click()
    qtbot.waitUntil(
        lambda: window.verify_outcome() is not None and not window.is_busy(), timeout=WAIT_MS
    )
    label = window.findChild(QLabel, "verifyResult")
    assert window.verify_outcome().ok
    assert "4 rows verified" in label.text()
    assert "#1b5e20" in label.styleSheet()  # green
    assert _rows(window) == 5  # the verification itself was recorded


def test_verify_tampered_log_is_red_and_names_the_row(
    qtbot: QtBot, window: QtAuditWindow, filled_log: Settings
) -> None:
    behind_the_apps_back(
        filled_log.audit_db_path, "UPDATE audit_log SET reason='edited' WHERE seq=?", 3
    )
    window.findChild(QPushButton, "verifyButton").click()
    qtbot.waitUntil(
        lambda: window.verify_outcome() is not None and not window.is_busy(), timeout=WAIT_MS
    )
    outcome = window.verify_outcome()
    assert not outcome.ok and outcome.first_bad == 3
    label = window.findChild(QLabel, "verifyResult")
    assert "first bad row: #3" in label.text()
    assert "#b00020" in label.styleSheet()  # red


def test_widgets_have_accessible_names(window: QtAuditWindow) -> None:
    for cls, name in (
        (QTableView, "auditTable"),
        (QPushButton, "verifyButton"),
        (QLabel, "verifyResult"),
        (QComboBox, "exportFormat"),
        (QPushButton, "exportButton"),
        (QProgressBar, "exportProgress"),
        (QPushButton, "openExportButton"),
        (QLineEdit, "patientFilter"),
    ):
        widget = window.findChild(cls, name)
        assert widget is not None, name
        assert widget.accessibleName(), name


def test_open_export_is_disabled_before_an_export(
    window: QtAuditWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    button = window.findChild(QPushButton, "openExportButton")
    assert not button.isEnabled()
    window.open_export()
    assert opened == []


def test_selected_record_shows_every_field(window: QtAuditWindow) -> None:
    table = window.findChild(QTableView, "auditTable")
    table.selectRow(1)
    text = window.findChild(QPlainTextEdit, "recordDetail").toPlainText()
    record = window.model.record(1)
    assert record.hash in text and record.prev_hash in text
    assert record.patient_pseudonym in text
    assert PATIENT not in text


def test_verify_against_a_checkpoint_file(
    qtbot: QtBot, window: QtAuditWindow, filled_log: Settings, tmp_path: Path
) -> None:
    window.verify((write_checkpoint_file(filled_log, tmp_path),))
    qtbot.waitUntil(
        lambda: window.verify_outcome() is not None and not window.is_busy(), timeout=WAIT_MS
    )
    assert window.verify_outcome().ok
    assert "1 checkpoint file(s) matched" in window.findChild(QLabel, "verifyResult").text()


def test_truncation_is_detected_with_an_earlier_checkpoint(
    qtbot: QtBot, window: QtAuditWindow, filled_log: Settings, tmp_path: Path
) -> None:
    checkpoint = write_checkpoint_file(filled_log, tmp_path)
    db = filled_log.audit_db_path  # remove the last row and every checkpoint inside the log
    behind_the_apps_back(db, "DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)")
    behind_the_apps_back(db, "DELETE FROM checkpoints")
    window.verify((checkpoint,))
    qtbot.waitUntil(
        lambda: window.verify_outcome() is not None and not window.is_busy(), timeout=WAIT_MS
    )
    assert not window.verify_outcome().ok
    label = window.findChild(QLabel, "verifyResult")
    assert "LOG ALTERED" in label.text() and "#b00020" in label.styleSheet()


@pytest.mark.parametrize("fmt", ["pdf", "csv", "json"])
def test_export_with_progress_then_open(
    qtbot: QtBot,
    window: QtAuditWindow,
    filled_log: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    combo = window.findChild(QComboBox, "exportFormat")
    combo.setCurrentIndex(combo.findData(fmt))
    progress = window.findChild(QProgressBar, "exportProgress")
    seen: list[int] = []
    progress.valueChanged.connect(seen.append)
    out = tmp_path / f"audit.{fmt}"
    window.export_to(out)
    assert window.is_exporting()
    assert not window.findChild(QPushButton, "exportButton").isEnabled()
    qtbot.waitUntil(lambda: not window.is_exporting(), timeout=WAIT_MS)
    assert out.is_file() and out.stat().st_size > 0
    assert (tmp_path / f"audit.{fmt}.checkpoint.json").is_file()
    assert progress.value() == progress.maximum() and seen  # the bar moved and ended full
    status = window.findChild(QLabel, "exportStatus").text()
    assert status.startswith("Exported 4 records to") and "checkpoint" in status
    head = out.read_bytes()[:8]
    assert head.startswith(b"%PDF") if fmt == "pdf" else not head.startswith(b"%PDF")
    button = window.findChild(QPushButton, "openExportButton")
    assert button.isEnabled()
    button.click()
    assert opened == [QUrl.fromLocalFile(str(out))]
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=WAIT_MS)
    assert window.model.record(window.model.rowCount() - 1).type == "report_exported"


def test_export_cancel_leaves_no_file(
    qtbot: QtBot,
    window: QtAuditWindow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    from viewer.session import audit_view

    started, release = threading.Event(), threading.Event()
    original = audit_view.export_report

    def held_export(*args: Any, **kwargs: Any) -> Generator[tuple[int, int], None, Any]:
        steps = original(*args, **kwargs)
        first = next(steps)
        started.set()
        release.wait(WAIT_MS / 1000)  # until the test has pressed Cancel
        yield first
        return (yield from steps)

    monkeypatch.setattr(audit_view, "export_report", held_export)
    out = tmp_path / "audit.csv"
    window.export_to(out, "csv")
    qtbot.waitUntil(started.is_set, timeout=WAIT_MS)
    cancel = window.findChild(QPushButton, "cancelExportButton")
    assert cancel.isVisible() and cancel.isEnabled()
    cancel.click()
    release.set()
    qtbot.waitUntil(lambda: not window.is_exporting(), timeout=WAIT_MS)
    assert "cancelled" in window.findChild(QLabel, "exportStatus").text()
    assert list(tmp_path.glob("audit*")) == []
    assert not window.findChild(QPushButton, "openExportButton").isEnabled()


def test_export_failure_is_shown(qtbot: QtBot, window: QtAuditWindow, tmp_path: Path) -> None:
    window.export_to(tmp_path / "missing-folder" / "audit.csv", "csv")
    qtbot.waitUntil(lambda: not window.is_exporting(), timeout=WAIT_MS)
    status = window.findChild(QLabel, "exportStatus")
    assert status.text().startswith("Export failed: ")
    assert "does not exist" in status.text()
    assert not window.findChild(QPushButton, "openExportButton").isEnabled()


def test_long_logs_show_the_latest_rows_and_say_so(qtbot: QtBot, window: QtAuditWindow) -> None:
    window.max_rows = 2
    _apply(qtbot, window)
    assert _rows(window) == 2
    assert [window.model.record(r).seq for r in range(2)] == [3, 4]
    text = window.findChild(QLabel, "auditRowCount").text()
    assert text.startswith("Showing the latest 2 of 4 matching records")


def test_unopenable_log_is_reported(qtbot: QtBot, site_file: Path, tmp_path: Path) -> None:
    from viewer.config import load_settings

    # a regular file that is not an SQLite database (a folder is refused by the settings now)
    garbage = tmp_path / "audit.db"
    garbage.write_bytes(b"this is not an SQLite database" * 100)
    site_file.write_text(f'[audit]\ndb_path = "{garbage}"\n', encoding="utf-8")
    win = QtAuditWindow(load_settings())
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=WAIT_MS)
    label = win.findChild(QLabel, "auditRowCount")
    assert label.text().startswith("The audit log cannot be read: ")
    assert "#b00020" in label.styleSheet()
    win.findChild(QPushButton, "verifyButton").click()
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=WAIT_MS)
    assert win.findChild(QLabel, "verifyResult").text().startswith("✘ Verification could not run")
    win.shutdown()


def test_findings_read_in_the_readers_language(qtbot: QtBot) -> None:
    """A stored finding ``label: positive`` shows its side translated, its label as written."""
    from PySide6.QtWidgets import QApplication

    from viewer.ui.i18n import install_translator
    from viewer.ui.qt_audit_table import AuditTableModel

    app = QApplication.instance()
    assert app is not None
    model = AuditTableModel()
    install_translator(app, "ja")
    try:
        assert model.finding_text("opacity: positive") == "opacity: 陽性"
        assert model.finding_text("Pleural effusion: negative") == "Pleural effusion: 陰性"
        assert model.finding_text("no finding") == "no finding"  # not ours: as stored
    finally:
        install_translator(app, "en")
    assert model.finding_text("opacity: negative") == "opacity: negative"


def test_every_event_type_has_a_name_in_the_window() -> None:
    """A new event type without a label would show its stored code to the reader."""
    from viewer.audit.events import EventType
    from viewer.ui.qt_audit_table import AuditTableModel

    names = AuditTableModel().event_names()
    missing = sorted(t.value for t in EventType if t.value not in names)
    assert missing == []
