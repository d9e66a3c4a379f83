"""ATNA against a REAL rsyslog (TLS) when ``atna.ca_file`` can be changed by other accounts:
whoever can write it picks the server Bedside takes for the repository, so the file is refused
before any connection (``viewer.paths.ca_file_problem``), once recorded as a Security Alert,
the forwarding status says why, every row stays queued, and once IT fixes the permissions the
same queue is delivered."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.audit.atna_helpers import Pki, Rsyslog, rsyslog_missing
from tests.audit.test_atna_rsyslog import (
    alarms,
    append_and_forward,
    atna_settings,
    received,
    seqs_received,
)
from viewer.paths import ca_file_problem
from viewer.session.forwarding_status import ForwardingStatus, state_text

pytestmark = [
    pytest.mark.skipif(rsyslog_missing() is not None, reason=str(rsyslog_missing())),
    pytest.mark.skipif(os.name != "posix", reason="file mode bits are POSIX"),
]


def test_a_ca_file_others_can_change_is_refused_and_every_row_waits_for_the_fix(
    site_file: Path, pki: Pki, rsyslog: Rsyslog
) -> None:
    settings = atna_settings(site_file, pki, rsyslog.port)
    pki.ca.chmod(0o666)
    sentence = ca_file_problem(pki.ca, "atna.ca_file")
    assert sentence is not None and "is writable by other users" in sentence
    result, status = append_and_forward(settings, 4, passes=3)
    assert (result.drain.sent, result.drain.error) == (0, sentence)
    # the four rows and the alarm row behind them wait; nothing is lost
    assert status.pending == 5 and status.last_error == sentence
    (alarm,) = alarms(settings)  # once, not once per retry (IHE ITI-19)
    assert alarm.outcome == "failure" and alarm.reason == sentence
    assert alarm.detail["code"] == "ca_file_not_protected"
    (state,) = ForwardingStatus(settings).poll()
    assert (state.kind, state.waiting, state.error) == ("failing", 5, sentence)
    assert state_text(state).startswith("Hospital audit repository (ATNA): 5 rows waiting since ")
    assert state_text(state).endswith(f" — {sentence}")

    pki.ca.chmod(0o644)
    result, status = append_and_forward(settings, 0)  # the outbox's backoff here is 0 s
    assert (result.drain.sent, result.drain.error, status.pending) == (5, None, 0)
    rsyslog.wait_for(5)
    rsyslog.stop()  # rsyslog writes out all it received before it exits
    assert len(received(rsyslog)) == 5 and seqs_received(rsyslog) == {1, 2, 3, 4, 5}
    (state,) = ForwardingStatus(settings).poll()
    assert state.kind == "up_to_date"
