"""The forwarding status (issue 18): each configured destination's state read from its real outbox
file — up to date, rows on their way, failing with the last error, refused and held, stopped —
and the running app's forwarders completing it (a real AuditTrail forwarding to a department
store that is not there)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from pathlib import Path

import pytest

from tests.audit.helpers import decision
from tests.servers import free_port
from tests.waits import WAIT_S
from viewer.audit import AuditLog
from viewer.audit.central import CentralDestination, forward_central
from viewer.audit.forwarding import feed
from viewer.config import Settings, load_settings
from viewer.outbox import Backoff, Outbox, OutboxItem, PermanentSendError
from viewer.session.forwarding_status import ForwardingState, ForwardingStatus, state_text
from viewer.session.trail import AuditTrail


def _central_site(site_file: Path, port: int) -> str:
    return (
        '[audit_central]\nenabled = true\nhost = "127.0.0.1"\n'
        f'port = {port}\nsslmode = "disable"\nconnect_timeout_s = 2\ninterval_s = 0.2\n'
    )


@pytest.fixture
def central(site_file: Path) -> Settings:
    """A workstation forwarding to a department store on a loopback port nobody listens on."""
    site_file.write_text(_central_site(site_file, free_port()), encoding="utf-8")
    return load_settings()


def _rows(settings: Settings, n: int) -> None:
    with AuditLog.open(settings) as log:
        for i in range(n):
            log.append(decision(i))


def _only(states: list[ForwardingState]) -> ForwardingState:
    assert len(states) == 1, states
    return states[0]


def test_nothing_configured_nothing_shown(settings: Settings) -> None:
    assert ForwardingStatus(settings).poll() == []
    assert ForwardingStatus(settings).destinations == []


def test_configured_and_nothing_queued_yet_is_up_to_date(central: Settings) -> None:
    state = _only(ForwardingStatus(central).poll())
    assert (state.destination, state.kind, state.waiting, state.warning) == (
        "central",
        "up_to_date",
        0,
        False,
    )
    assert state_text(state) == "Department audit store: up to date"
    assert not central.central_outbox_path.exists()  # a look never makes the outbox


def test_rows_the_log_holds_and_the_queue_not_yet_are_counted(central: Settings) -> None:
    """With the app closed nothing feeds the queue: the log's rows still wait (bedside site
    check must not call them up to date)."""
    _rows(central, 4)
    state = _only(ForwardingStatus(central).poll())
    assert (state.kind, state.waiting, state.since) == ("sending", 4, None)
    assert state_text(state) == "Department audit store: 4 rows waiting to be sent"
    with (
        AuditLog.open_readonly(central.audit_db_path, settings=central) as log,
        Outbox(central.central_outbox_path) as box,
    ):
        feed(log, box, lambda r: r.hash.encode())
        box.drain_batches(lambda items: None)
    with AuditLog.open(central) as log:
        log.append(decision(9))
    state = _only(ForwardingStatus(central).poll())
    assert (state.kind, state.waiting, state.sent) == ("sending", 1, 4)


def test_rows_queued_and_not_tried_are_on_their_way(central: Settings) -> None:
    _rows(central, 3)
    with (
        AuditLog.open_readonly(central.audit_db_path, settings=central) as log,
        Outbox(central.central_outbox_path) as box,
    ):
        assert feed(log, box, lambda r: r.hash.encode()) == 3
    state = _only(ForwardingStatus(central).poll())
    assert (state.kind, state.waiting, state.error, state.warning) == ("sending", 3, "", False)
    assert state_text(state) == "Department audit store: 3 rows waiting to be sent"


def test_a_store_that_is_down_is_failing_with_its_sentence_and_the_count(
    central: Settings,
) -> None:
    _rows(central, 37)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    result = forward_central(central, backoff=Backoff(first_s=60))
    assert result.error  # the real psycopg refusal, worded by viewer.audit.central
    state = _only(ForwardingStatus(central).poll())
    assert state.kind == "failing" and state.warning
    assert state.waiting == 37 and state.held == 0
    assert state.error == result.error
    assert state.since is not None and state.since >= before
    since = state.since.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    assert (
        state_text(state)
        == f"Department audit store: 37 rows waiting since {since} — {state.error}"
    )


def test_a_refused_row_is_held_and_outranks_the_wait(central: Settings) -> None:
    _rows(central, 4)
    destination = CentralDestination(central)
    with (
        AuditLog.open_readonly(central.audit_db_path, settings=central) as log,
        Outbox(central.central_outbox_path) as box,
    ):
        feed(log, box, lambda r: destination.encode(log.log_id, r))
        keys = [item.key for item in box.waiting()]

        def send(items: list[OutboxItem]) -> None:
            if items[0].key == keys[0]:
                raise PermanentSendError("row 1 differs from the stored row 1", key=keys[0])

        box.drain_batches(send)
    state = _only(ForwardingStatus(central).poll())
    assert (state.kind, state.held, state.waiting) == ("held", 1, 4)
    assert state.warning
    assert state.error == "row 1 differs from the stored row 1"
    assert state_text(state).startswith("Department audit store: 1 row refused and held, 4 rows")


def test_everything_sent_is_up_to_date_with_the_last_send(central: Settings) -> None:
    _rows(central, 2)
    with (
        AuditLog.open_readonly(central.audit_db_path, settings=central) as log,
        Outbox(central.central_outbox_path) as box,
    ):
        feed(log, box, lambda r: r.hash.encode())
        assert box.drain_batches(lambda items: None).sent == 2
    state = _only(ForwardingStatus(central).poll())
    assert (state.kind, state.waiting, state.sent, state.error) == ("up_to_date", 0, 2, "")
    assert state.last_sent is not None


def test_an_outbox_that_cannot_be_read_is_stopped_with_the_reason(central: Settings) -> None:
    central.central_outbox_path.parent.mkdir(parents=True, exist_ok=True)
    central.central_outbox_path.write_bytes(b"not a database" * 200)
    state = _only(ForwardingStatus(central).poll())
    assert state.kind == "stopped" and state.warning
    assert "cannot be read" in state.error
    assert state_text(state).startswith("Department audit store: not forwarding — The outbox ")


def test_a_data_folder_that_cannot_be_looked_at_is_stopped_not_a_traceback(
    site_file: Path, tmp_path: Path
) -> None:
    """A data folder whose name the system refuses (a component over 255 bytes: Path.exists
    raises rather than answers False) was a traceback out of ``bedside site check``; the audit
    log in it is looked up first, and its sentence names the path and the system's reason."""
    site_file.write_text(_central_site(site_file, free_port()), encoding="utf-8")
    odd = tmp_path / ("d" * 300)  # load_settings refuses it; site check reads the file alone
    settings = dataclasses.replace(load_settings(), data_dir=odd)
    state = _only(ForwardingStatus(settings).poll())
    assert state.kind == "stopped" and state.warning
    assert state.error == (
        f"The audit log ({settings.audit_db_path}) cannot be looked up: File name too long."
    )


def test_both_destinations_in_order_each_with_its_own_outbox(
    site_file: Path, tmp_path: Path
) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    site_file.write_text(
        _central_site(site_file, free_port())
        + f'[atna]\nenabled = true\nhost = "127.0.0.1"\nport = {free_port()}\nca_file = "{ca}"\n',
        encoding="utf-8",
    )
    settings = load_settings()
    _rows(settings, 1)
    with (
        AuditLog.open_readonly(settings.audit_db_path, settings=settings) as log,
        Outbox(settings.atna_outbox_path) as box,
    ):
        feed(log, box, lambda r: r.hash.encode())
    states = ForwardingStatus(settings).poll()
    assert [(s.destination, s.kind, s.waiting) for s in states] == [
        ("central", "sending", 1),  # the log's row, not queued for the store yet
        ("atna", "sending", 1),
    ]
    assert state_text(states[1]) == "Hospital audit repository (ATNA): 1 row waiting to be sent"
    assert states[1].command == "bedside audit atna status"


def test_the_running_apps_forwarder_reports_the_failure(central: Settings) -> None:
    """A real AuditTrail starts the real forwarder thread, which cannot reach the store."""
    trail = AuditTrail(central, AuditLog.open(central))
    try:
        assert trail.append("app_start").written
        status = ForwardingStatus(central, trail)
        deadline = time.monotonic() + WAIT_S
        state = _only(status.poll())
        while state.kind != "failing" and time.monotonic() < deadline:
            time.sleep(0.1)
            state = _only(status.poll())
        assert state.kind == "failing", state
        assert state.waiting >= 1
        assert state.error.startswith("The department audit store")
    finally:
        trail.close()


def test_an_audit_log_that_did_not_open_stops_forwarding_visibly(central: Settings) -> None:
    trail = AuditTrail(central)
    trail.open_failed("The audit log cannot be opened: the disk is full.")
    state = _only(ForwardingStatus(central, trail).poll())
    assert state.kind == "stopped"
    assert state_text(state) == (
        "Department audit store: not forwarding — The audit log cannot be opened: the disk is full."
    )


def test_a_log_being_made_is_no_alarm(central: Settings) -> None:
    """The window's first start creates the log while the line looks (an empty file for a
    moment): that is not "not forwarding"; a log that stays broken is the trail's error."""
    central.audit_db_path.parent.mkdir(parents=True, exist_ok=True)
    central.audit_db_path.write_bytes(b"")
    state = _only(ForwardingStatus(central).poll())
    assert (state.kind, state.waiting, state.error) == ("up_to_date", 0, "")
