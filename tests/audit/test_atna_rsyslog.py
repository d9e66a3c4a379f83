"""ATNA forwarding against a REAL rsyslog (Debian rsyslog + rsyslog-gnutls): TLS with the test
CA's server certificate, client certificates required (x509/certvalid), messages written raw to a
file in tmp_path. Intact messages, none lost and none duplicated across a restart mid-stream, and
one clear message with everything still queued when the repository cannot be trusted."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.audit.atna_helpers import (
    BOM_LEN,
    Pki,
    Rsyslog,
    check_audit_message,
    every_record,
    parse_syslog,
    rsyslog_missing,
)
from tests.audit.helpers import decision
from tests.waits import WAIT_S
from viewer.audit import AuditLog, AuditRecord
from viewer.audit.atna_transport import SD_ID, AtnaDestination
from viewer.audit.forwarding import Forwarder, ForwardResult, forward
from viewer.config import Settings, load_settings
from viewer.outbox import Backoff, Outbox, OutboxStatus

pytestmark = pytest.mark.skipif(rsyslog_missing() is not None, reason=str(rsyslog_missing()))

FAST = Backoff(first_s=0.05, factor=2.0, cap_s=0.4)


def atna_settings(
    site_file: Path, pki: Pki, port: int, *, host: str = "localhost", client: bool = True
) -> Settings:
    lines = [
        "[atna]",
        "enabled = true",
        f'host = "{host}"',
        f"port = {port}",
        f'ca_file = "{pki.ca}"',
        'facility = "log_audit"',
        "connect_timeout_s = 3.0",
        "send_timeout_s = 3.0",
    ]
    if client:
        lines += [
            f'client_cert_file = "{pki.client_cert}"',
            f'client_key_file = "{pki.client_key}"',
        ]
    site_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_settings()


def append_and_forward(
    settings: Settings, rows: int, *, passes: int = 1
) -> tuple[ForwardResult, OutboxStatus]:
    """Append ``rows`` decisions, then forwarding passes (an alarm row recorded in the log);
    the last result and the queue after it."""
    with AuditLog.open(settings) as log:
        for i in range(rows):
            log.append(decision(i))
        destination = AtnaDestination.from_settings(settings)
        with Outbox(settings.atna_outbox_path, backoff=Backoff(first_s=0.0)) as box:
            for _ in range(passes):
                result = forward(log, box, destination, record=log.append)
            destination.close()
            return result, box.status()


def alarms(settings: Settings) -> list[AuditRecord]:
    with AuditLog.open(settings) as log:
        return log.records(types=("node_authentication_failed",))


def seqs_received(server: Rsyslog) -> set[int]:
    return {int(parse_syslog(line).sd[SD_ID]["seq"]) for line in received(server)}


def received(server: Rsyslog) -> list[bytes]:
    return [line for line in server.lines() if line.startswith(b"<")]


def test_messages_arrive_intact_over_mutual_tls(
    site_file: Path, pki: Pki, rsyslog: Rsyslog
) -> None:
    settings = atna_settings(site_file, pki, rsyslog.port)
    with AuditLog.open(settings) as log:
        records = every_record(log)
        destination = AtnaDestination.from_settings(settings)
        with Outbox(settings.atna_outbox_path) as box:
            result = forward(log, box, destination)
            destination.close()
            assert result.drain.error is None
            assert result.queued == result.drain.sent == len(records)
            sent = [item.payload for item in box.waiting()] or None
            assert sent is None  # everything confirmed
            payloads = {
                row.seq: destination.encode(log.log_id, row) for row in log.records_after(0)
            }
    lines = rsyslog.wait_for(len(records))
    got = received(rsyslog)
    assert len(got) == len(records), lines[-3:]
    for line in got:
        msg = parse_syslog(line)
        seq = int(msg.sd[SD_ID]["seq"])
        assert line == payloads[seq]  # byte for byte what was queued
        root = check_audit_message(msg.msg[BOM_LEN:])
        sent_root = ET.fromstring(payloads[seq].split(b"\xef\xbb\xbf", 1)[1])  # noqa: S314
        assert ET.tostring(root) == ET.tostring(sent_root)
        assert msg.facility == 13


def test_none_lost_across_a_restart_and_a_repeat_is_recognisable(
    site_file: Path, pki: Pki, rsyslog: Rsyslog
) -> None:
    """1,000 rows appended while the app's forwarder runs (woken by the commit hook); rsyslog is
    stopped after about a third arrived and started again on the same port a moment later.

    None may be lost. RFC 5425 has no acknowledgement: the records of the last hold before the
    cut are sent again, so some may arrive twice; each repeat is byte-identical (the same log
    id, seq and row hash in the structured data), so the repository can drop it."""
    total = 1000
    settings = atna_settings(site_file, pki, rsyslog.port)
    forwarder = Forwarder(
        settings,
        AtnaDestination.from_settings(settings),
        idle_s=0.5,
        outbox_factory=lambda path: Outbox(path, backoff=FAST),
    )
    stopped_at: list[int] = []
    errors: list[str | None] = []

    def cut() -> None:
        deadline = time.monotonic() + WAIT_S
        while len(received(rsyslog)) < total // 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        rsyslog.stop()
        stopped_at.append(len(received(rsyslog)))
        deadline = time.monotonic() + WAIT_S
        while forwarder.last_error is None and time.monotonic() < deadline:
            time.sleep(0.01)
        errors.append(forwarder.last_error)  # the forwarder tried while it was down
        time.sleep(0.5)  # the scenario: the repository stays down a moment (not a wait)
        rsyslog.start()

    with AuditLog.open(settings) as log:
        log.add_listener(forwarder.notify)
        forwarder.start()
        cutter = threading.Thread(target=cut, daemon=True)
        cutter.start()
        try:
            for i in range(total):
                log.append(decision(i))
            cutter.join(2 * WAIT_S)
            deadline = time.monotonic() + 60
            while len(seqs_received(rsyslog)) < total and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            forwarder.stop()
    assert stopped_at and 0 < stopped_at[0] < total, "the cut did not happen mid-stream"
    assert errors and errors[0] and "ATNA repository" in errors[0]
    by_seq: dict[int, set[bytes]] = {}
    for line in received(rsyslog):
        by_seq.setdefault(int(parse_syslog(line).sd[SD_ID]["seq"]), set()).add(line)
    assert sorted(by_seq) == list(range(1, total + 1)), f"lost: {total - len(by_seq)} of {total}"
    assert all(len(lines_of) == 1 for lines_of in by_seq.values())  # a repeat is identical
    seqs = Counter(int(parse_syslog(line).sd[SD_ID]["seq"]) for line in received(rsyslog))
    assert all(n <= 2 for n in seqs.values())  # a repeat at most once, identical (above)
    with Outbox(settings.atna_outbox_path) as box:
        assert box.status().pending == 0 and box.status().sent == total


@pytest.mark.parametrize(
    ("server", "host", "words", "code"),
    [
        ("rogue", "localhost", "not signed by the CA in atna.ca_file", "untrusted_certificate"),
        ("misnamed", "localhost", "not issued for that host name", "host_name_mismatch"),
    ],
)
def test_an_untrusted_repository_gets_nothing_and_everything_stays_queued(
    tmp_path: Path, site_file: Path, pki: Pki, server: str, host: str, words: str, code: str
) -> None:
    repository = Rsyslog(tmp_path / f"rsyslog-{server}", pki, server=server)  # type: ignore[arg-type]
    repository.start()
    try:
        settings = atna_settings(site_file, pki, repository.port, host=host)
        result, status = append_and_forward(settings, 5, passes=3)
        assert result.drain.sent == 0 and result.drain.failed == 1
        error = result.drain.error or ""
        assert words in error and "stay queued" in error and "\n" not in error
        # the alarm row is queued behind the five, for the repository once it is trusted
        assert status.pending == 6 and status.last_error == error
        (alarm,) = alarms(settings)  # once, not once per retry (IHE ITI-19)
        assert alarm.outcome == "failure" and alarm.reason == error
        assert alarm.detail["destination"] == f"{host}:{repository.port}"
        assert alarm.detail["code"] == code
        repository.stop()  # rsyslog writes out all it received before it exits
        assert received(repository) == []
    finally:
        repository.stop()


def test_a_stopped_repository_is_one_clear_message_and_a_queued_result(
    site_file: Path, pki: Pki, rsyslog: Rsyslog
) -> None:
    settings = atna_settings(site_file, pki, rsyslog.port)
    rsyslog.stop()
    with AuditLog.open(settings) as log:
        log.append(decision(1))
        destination = AtnaDestination.from_settings(settings)
        with Outbox(settings.atna_outbox_path, backoff=FAST) as box:
            result = forward(log, box, destination)
            assert "refused the connection" in (result.drain.error or "")
            assert box.status().pending == 1
            rsyslog.start()
            # the retry time the outbox set (the fast backoff's), not a fixed sleep
            deadline = time.monotonic() + WAIT_S
            while not box.due() and time.monotonic() < deadline:
                time.sleep(0.01)
            again = forward(log, box, destination)
            destination.close()
            assert again.queued == 0 and again.drain.sent == 1 and again.drain.error is None
    assert len(rsyslog.wait_for(1)) == 1


def test_the_running_app_forwards_each_appended_row(
    site_file: Path, pki: Pki, rsyslog: Rsyslog
) -> None:
    """The session's trail (the window, `bedside infer`) starts the forwarder on the open log;
    each append only wakes it."""
    from viewer.session.trail import AuditTrail

    settings = atna_settings(site_file, pki, rsyslog.port)
    trail = AuditTrail(settings)
    trail.append("app_start")  # queued until the log is open
    trail.attach(AuditLog.open(settings))
    try:
        assert trail.forwarding_error == ""
        trail.append("app_stop")
        lines = rsyslog.wait_for(2)
    finally:
        trail.close()
    kinds = [parse_syslog(line).msg for line in lines]
    assert len(kinds) == 2
    assert b'csd-code="app_start"' in kinds[0] and b'csd-code="app_stop"' in kinds[1]


def test_without_the_client_certificate_the_repository_refuses_and_nothing_is_lost(
    site_file: Path, pki: Pki, rsyslog: Rsyslog
) -> None:
    """ATNA node authentication: this rsyslog accepts only certificates of the test CA."""
    settings = atna_settings(site_file, pki, rsyslog.port, client=False)
    result, status = append_and_forward(settings, 3)
    error = result.drain.error or ""
    assert result.drain.sent == 0 and status.pending == 3
    assert "atna.client_cert_file" in error and "stays queued" in error
    rsyslog.stop()  # rsyslog writes out all it received before it exits
    assert received(rsyslog) == []
