"""Audit window on the department audit store (issue 18 item 3): the source switch, the
workstation filter, rows named by workstation, and ``verify --central`` in colour; against a
real PostgreSQL 15 (skipped with the reason when it is not installed)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QTableView
from pytestqt.qtbot import QtBot

from tests.audit.central_helpers import set_up, workstation
from tests.audit.helpers import decision, drop_triggers, raw, restore_triggers
from tests.audit.pg_cluster import PgCluster, make_cluster
from tests.waits import WAIT_MS
from viewer.audit import AuditLog
from viewer.audit.central import forward_central, workstation_id
from viewer.config import Settings
from viewer.outbox import Backoff
from viewer.ui.qt_audit_window import QtAuditWindow


@pytest.fixture(scope="module")
def pg_cluster() -> Iterator[PgCluster]:
    yield from make_cluster()


_SCHEMAS = itertools.count()


@pytest.fixture
def department(pg_cluster: PgCluster, tmp_path: Path) -> tuple[Settings, Settings]:
    schema = f"t_window_{next(_SCHEMAS)}"  # a store of its own per test, one server
    here = workstation(tmp_path / "here", pg_cluster, schema, "ward-here")
    there = workstation(tmp_path / "there", pg_cluster, schema, "ward-there")
    set_up(here)
    for ws, n in ((here, 3), (there, 5)):
        with AuditLog.open(ws) as log:
            for i in range(n):
                log.append(decision(i))
        assert forward_central(ws, backoff=Backoff(first_s=0.1)).error is None
    return here, there


@pytest.fixture
def window(qtbot: QtBot, department: tuple[Settings, Settings]) -> Iterator[QtAuditWindow]:
    win = QtAuditWindow(department[0])
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=WAIT_MS)
    yield win
    win.shutdown()
    assert QThreadPool.globalInstance().waitForDone(WAIT_MS), "a worker outlived its test"


def _central(qtbot: QtBot, win: QtAuditWindow) -> None:
    source = win.findChild(QComboBox, "auditSource")
    source.setCurrentIndex(source.findData("central"))
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=WAIT_MS)


def test_department_rows_by_workstation(
    qtbot: QtBot, window: QtAuditWindow, department: tuple[Settings, Settings]
) -> None:
    table = window.findChild(QTableView, "auditTable")
    assert table.model().rowCount() == 3  # this workstation's own log first
    _central(qtbot, window)
    assert table.model().rowCount() == 8
    firsts = [table.model().index(r, 0).data() for r in range(8)]
    here, there = (workstation_id(ws) for ws in department)
    assert firsts[0] == f"{here} #1" and firsts[-1] == f"{there} #5"
    assert not window.findChild(QPushButton, "exportButton").isEnabled()  # local log only
    combo = window.findChild(QComboBox, "workstationFilter")
    assert combo.isEnabled()
    assert [combo.itemData(i) for i in range(combo.count())] == ["", here, there]
    combo.setCurrentIndex(2)
    combo.activated.emit(2)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=WAIT_MS)
    assert table.model().rowCount() == 5
    table.selectRow(0)
    assert window.detail.toPlainText().startswith(f"workstation          {there}")


def test_verify_central_green_then_red_after_a_truncated_tail(
    qtbot: QtBot, window: QtAuditWindow, department: tuple[Settings, Settings]
) -> None:
    _central(qtbot, window)
    label = window.findChild(QLabel, "verifyResult")
    window.findChild(QPushButton, "verifyButton").click()
    qtbot.waitUntil(
        lambda: window.central_outcome() is not None and not window.is_busy(), timeout=WAIT_MS
    )
    assert window.central_outcome().ok  # type: ignore[union-attr]
    assert "matches the department store" in label.text() and "#1b5e20" in label.styleSheet()
    conn = raw(department[0].audit_db_path)
    drop_triggers(conn)
    conn.execute("DELETE FROM audit_log WHERE seq = 3")
    restore_triggers(conn)
    conn.close()
    window.findChild(QPushButton, "verifyButton").click()
    qtbot.waitUntil(
        lambda: window.central_outcome() is not None and not window.is_busy(), timeout=WAIT_MS
    )
    assert "DOES NOT MATCH" in label.text() and "ends at row #2" in label.text()
    assert "#b00020" in label.styleSheet()


def test_the_switch_is_hidden_without_a_department_store(qtbot: QtBot, settings: Settings) -> None:
    win = QtAuditWindow(settings)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=WAIT_MS)
    assert win.findChild(QComboBox, "auditSource").isHidden()
    assert not win.is_central()
    win.shutdown()


def test_closing_does_not_wait_for_a_store_that_never_answers(
    qtbot: QtBot, site_file: Path
) -> None:
    """A department store that accepts the connection and then says nothing (a stalled server:
    libpq has no read timeout of its own) must not hold the window, nor the main window that
    closes it, until the connect timeout: closing returns with the request still running."""
    import socket

    from viewer.config import load_settings

    silent = socket.socket()  # the kernel accepts connections; nobody ever answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    try:
        site_file.write_text(
            '[audit_central]\nenabled = true\nhost = "127.0.0.1"\n'
            f'port = {silent.getsockname()[1]}\nsslmode = "require"\nconnect_timeout_s = 120\n',
            encoding="utf-8",
        )
        win = QtAuditWindow(load_settings())
        qtbot.addWidget(win)
        win.show()
        qtbot.waitUntil(lambda: not win.is_busy(), timeout=WAIT_MS)
        source = win.findChild(QComboBox, "auditSource")
        source.setCurrentIndex(source.findData("central"))
        silent.settimeout(30)
        caller, _ = silent.accept()  # the worker is connecting: the request really runs
        win.close()
        assert not win.isVisible()
        assert not win._runner.pool.waitForDone(0)  # still waiting for the store: not waited for
        caller.close()  # the request fails now and the worker ends
    finally:
        silent.close()
    qtbot.waitUntil(lambda: win._runner.active() == 0, timeout=WAIT_MS)
