"""The forwarding status line (issue 18) in the main window's status bar: one label per configured
destination showing each state of its real outbox, a warning look for rows that do not move, the
details in the tooltip, Japanese through the catalogue, and nothing at all when no destination is
configured."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QApplication, QLabel, QStatusBar, QWidget

from tests.audit.helpers import decision
from tests.servers import free_port
from tests.ui.mainwin import find, make_window
from tests.waits import WAIT_MS
from viewer.audit import AuditLog
from viewer.audit.forwarding import feed
from viewer.config import Settings, load_settings
from viewer.outbox import Outbox, OutboxItem, PermanentSendError
from viewer.session.forwarding_status import ForwardingStatus
from viewer.ui.qt_forwarding_status import QtForwardingStatus

__all__ = ["make_window"]


def _site(site_file: Path, *, atna: bool = False, tmp_path: Path | None = None) -> Settings:
    text = (
        '[audit_central]\nenabled = true\nhost = "127.0.0.1"\n'
        f'port = {free_port()}\nsslmode = "disable"\nconnect_timeout_s = 2\n'
    )
    if atna and tmp_path is not None:
        ca = tmp_path / "ca.pem"
        ca.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
        text += (
            f'[atna]\nenabled = true\nhost = "127.0.0.1"\nport = {free_port()}\nca_file = "{ca}"\n'
        )
    site_file.write_text(text, encoding="utf-8")
    return load_settings()


@pytest.fixture
def line(qtbot: Any, site_file: Path) -> Iterator[tuple[QtForwardingStatus, Settings]]:
    settings = _site(site_file)
    widget = QtForwardingStatus(ForwardingStatus(settings))
    # only the test's refreshes poll: a timer poll (every 10 s) that read the outbox before the
    # test changed it could answer a later refresh's wait with the old state (a loaded CI run
    # takes longer than 10 s here)
    widget.timer.stop()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitUntil(lambda: bool(widget.states), timeout=WAIT_MS)  # its first look, on its own
    yield widget, settings
    widget.shutdown()
    assert QThreadPool.globalInstance().waitForDone(WAIT_MS), "a worker outlived its test"


def _poll(qtbot: Any, widget: QtForwardingStatus) -> Any:
    with qtbot.waitSignal(widget.states_changed, timeout=WAIT_MS):
        widget.refresh()
    label = widget.findChild(QLabel, "forwardingStatusCentral")
    assert label is not None
    return label


def _queue(settings: Settings, n: int, send: Any = None) -> None:
    with AuditLog.open(settings) as log:
        for i in range(n):
            log.append(decision(i))
        with Outbox(settings.central_outbox_path) as box:
            feed(log, box, lambda r: r.hash.encode())
            if send is not None:
                box.drain_batches(send)


def test_each_state_of_the_real_outbox_reads_as_it_should(
    qtbot: Any, line: tuple[QtForwardingStatus, Settings]
) -> None:
    widget, settings = line
    label = _poll(qtbot, widget)
    assert label.isVisible()
    assert label.full == "Department audit store: up to date"
    assert label.accessibleName() == "Department audit store: forwarding status"
    assert widget.accessibleName() == "Audit forwarding status"
    assert "bedside audit central status" in label.toolTip()
    assert "#1b5e20" in label.styleSheet()

    def down(items: list[OutboxItem]) -> None:
        raise ConnectionError(
            "The department audit store at 127.0.0.1 cannot be reached: connection refused."
        )

    _queue(settings, 37, down)
    label = _poll(qtbot, widget)
    assert label.full.startswith("⚠ Department audit store: 37 rows waiting since ")
    # a long line is elided in a row to the room it gets; the tooltip and the accessible
    # description carry all of it
    assert label.text().endswith("…") and label.full.startswith(label.text().removesuffix("…"))
    assert label.toolTip().splitlines()[0] == label.full.removeprefix("⚠ ")
    assert label.accessibleDescription() == label.toolTip()
    assert "cannot be reached: connection refused." in label.toolTip()
    assert "nothing is lost" in label.toolTip()
    assert "#b00020" in label.styleSheet()

    def refuse(items: list[OutboxItem]) -> None:
        raise PermanentSendError("row 1 differs from the stored row 1", key=items[0].key)

    with Outbox(settings.central_outbox_path) as box:
        box.retry_now()
        box.drain_batches(refuse)
    label = _poll(qtbot, widget)
    assert label.full.startswith("⚠ Department audit store: 1 row refused and held, 37 rows")
    assert "row 1 differs from the stored row 1" in label.toolTip()
    assert "once IT resolved why: bedside audit central retry" in label.toolTip()

    with Outbox(settings.central_outbox_path) as box:
        box.retry_now()
        assert box.drain_batches(lambda items: None).sent == 37
    label = _poll(qtbot, widget)
    assert label.full == "Department audit store: up to date"
    assert "Last sent: " in label.toolTip() and "never" not in label.toolTip()


def test_rows_on_their_way_and_an_unreadable_queue(
    qtbot: Any, line: tuple[QtForwardingStatus, Settings]
) -> None:
    widget, settings = line
    _queue(settings, 1)
    assert _poll(qtbot, widget).full == "Department audit store: 1 row waiting to be sent"
    for suffix in ("", "-wal", "-shm"):
        Path(str(settings.central_outbox_path) + suffix).unlink(missing_ok=True)
    settings.central_outbox_path.write_bytes(b"not a database" * 200)
    label = _poll(qtbot, widget)
    assert label.full.startswith("⚠ Department audit store: not forwarding — The outbox ")


def test_both_destinations_and_japanese(qtbot: Any, site_file: Path, tmp_path: Path) -> None:
    from viewer.ui.i18n import install_translator

    settings = _site(site_file, atna=True, tmp_path=tmp_path)
    widget = QtForwardingStatus(ForwardingStatus(settings))
    qtbot.addWidget(widget)
    app = QApplication.instance()
    assert app is not None
    qtbot.waitUntil(lambda: len(widget.states) == 2, timeout=WAIT_MS)
    try:
        install_translator(app, "ja")
        with qtbot.waitSignal(widget.states_changed, timeout=WAIT_MS):
            widget.refresh()
        central = find(widget, QLabel, "forwardingStatusCentral")
        atna = find(widget, QLabel, "forwardingStatusAtna")
        assert "部門" in central.full and "Department" not in central.full
        assert "ATNA" in atna.full
        assert atna.accessibleName() and atna.accessibleName() != central.accessibleName()
    finally:
        install_translator(app, "en")
        widget.shutdown()
        assert QThreadPool.globalInstance().waitForDone(WAIT_MS), "a worker outlived its test"


def test_absent_when_nothing_is_configured(qtbot: Any, make_window: Any, settings: Any) -> None:
    window = make_window(settings)
    status = find(window.statusBar(), QWidget, "forwardingStatus")
    assert not status.isVisible()
    assert window.findChild(QLabel, "forwardingStatusCentral") is None
    assert window.findChild(QLabel, "forwardingStatusAtna") is None


def test_the_window_shows_its_own_forwarder_failing(
    qtbot: Any, make_window: Any, site_file: Path
) -> None:
    """The running app's real forwarder, a department store nobody answers for: the status bar
    says the rows wait and why, without anyone asking."""
    window = make_window(_site(site_file))
    bar = window.findChild(QStatusBar)
    assert bar is not None
    label = find(bar, QLabel, "forwardingStatusCentral")

    def failing() -> bool:
        window.forwarding.refresh()
        return label.isVisible() and "waiting since" in label.full

    qtbot.waitUntil(failing, timeout=WAIT_MS)
    assert label.full.startswith("⚠ Department audit store: ")
    assert "The department audit store" in label.toolTip()


def test_the_audit_window_shows_it_under_verify_and_only_when_configured(
    qtbot: Any, site_file: Path, settings: Settings
) -> None:
    from viewer.ui.qt_audit_window import QtAuditWindow

    plain = QtAuditWindow(settings)
    qtbot.addWidget(plain)
    assert plain.findChild(QLabel, "forwardingStatusCentral") is None
    assert plain.forwarding.isHidden()
    plain.shutdown()

    configured = _site(site_file)

    def down(items: list[OutboxItem]) -> None:
        raise ConnectionError("The department audit store cannot be reached: connection refused.")

    _queue(configured, 3, down)
    window = QtAuditWindow(configured)
    qtbot.addWidget(window)
    window.show()
    try:
        label = find(window, QLabel, "forwardingStatusCentral")
        qtbot.waitUntil(lambda: label.isVisible(), timeout=WAIT_MS)
        assert label.text().startswith("⚠ Department audit store: 3 rows waiting since ")
        assert label.text().endswith("cannot be reached: connection refused.")  # wrapped, whole
    finally:
        window.shutdown()
        assert QThreadPool.globalInstance().waitForDone(WAIT_MS), "a worker outlived its test"


def test_the_audit_window_opened_from_the_main_window_says_what_the_status_bar_says(
    qtbot: Any, make_window: Any, site_file: Path
) -> None:
    """The audit window reads the running app's trail too: a log that did not open stops
    forwarding, and it said "up to date" while the status bar said "not forwarding"."""
    settings = _site(site_file)
    settings.audit_db_path.mkdir(parents=True)  # the real open fails (it raced a fake failure)
    window = make_window(settings)
    qtbot.waitUntil(lambda: window.trail.settled, timeout=WAIT_MS)
    assert not window.trail.is_open and window.trail.error
    audit = window.show_audit_window()
    try:
        label = find(audit, QLabel, "forwardingStatusCentral")

        def stopped() -> bool:
            audit.forwarding.refresh()
            return label.isVisible() and "not forwarding" in label.text()

        qtbot.waitUntil(stopped, timeout=WAIT_MS)
        assert label.text().endswith(window.trail.error)
    finally:
        audit.close()
