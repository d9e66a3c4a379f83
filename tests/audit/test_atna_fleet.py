"""A department of workstations sending ATNA audit messages to one REAL rsyslog over TLS across a
forced cut (issue 18 acceptance): rsyslog is stopped and restarted mid-stream while 20
workstations keep recording 1,000 events each; afterwards the repository holds every row exactly
once (by log id and sequence number), each workstation's rows in order."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.audit.atna_helpers import Pki, Rsyslog, parse_syslog, rsyslog_missing
from tests.audit.helpers import decision
from viewer.audit import AuditLog
from viewer.audit.atna_transport import SD_ID, AtnaDestination
from viewer.audit.forwarding import Forwarder
from viewer.config import Settings, load_settings
from viewer.outbox import Backoff, Outbox

pytestmark = pytest.mark.skipif(rsyslog_missing() is not None, reason=str(rsyslog_missing()))

WORKSTATIONS = 20
EVENTS = 1000
PER_TRANSACTION = 10  # a decision on several findings is one transaction of several rows


def _workstation(root: Path, pki: Pki, port: int) -> Settings:
    root.mkdir(parents=True)
    site = root / "site.toml"
    site.write_text(
        "[atna]\n"
        "enabled = true\n"
        'host = "localhost"\n'
        f"port = {port}\n"
        f'ca_file = "{pki.ca}"\n'
        f'client_cert_file = "{pki.client_cert}"\n'
        f'client_key_file = "{pki.client_key}"\n'
        "connect_timeout_s = 3.0\n"
        "send_timeout_s = 3.0\n",
        encoding="utf-8",
    )
    data = root / "data"
    data.mkdir()
    return load_settings(env={"BEDSIDE_DATA_DIR": str(data), "BEDSIDE_SITE_CONFIG": str(site)})


def _fast_outbox(path: Path) -> Outbox:
    return Outbox(path, backoff=Backoff(first_s=0.1, factor=2, cap_s=0.8))


def _write(settings: Settings, done: threading.Event, errors: list[str]) -> None:
    try:
        with AuditLog.open(settings) as log:
            forwarder = Forwarder(
                settings,
                AtnaDestination.from_settings(settings),
                idle_s=0.3,
                outbox_factory=_fast_outbox,
            )
            log.add_listener(forwarder.notify)  # the app's hook: a commit wakes the forwarder
            forwarder.start()
            try:
                for start in range(0, EVENTS, PER_TRANSACTION):
                    log.append_all([decision(i) for i in range(start, start + PER_TRANSACTION)])
                    time.sleep(0.002)
                done.wait(240)  # keep forwarding until the test has seen everything arrive
            finally:
                log.remove_listener(forwarder.notify)
                forwarder.stop(timeout=10)
    except Exception as exc:  # reported by the test, never a silent thread death
        errors.append(f"{type(exc).__name__}: {exc}")


def _keys(server: Rsyslog) -> list[tuple[str, int]]:
    out = []
    for line in server.lines():
        if line.startswith(b"<"):
            sd = parse_syslog(line).sd[SD_ID]
            out.append((sd["log"], int(sd["seq"])))
    return out


def test_twenty_workstations_times_a_thousand_events_survive_a_repository_restart(
    tmp_path: Path, pki: Pki, rsyslog: Rsyslog
) -> None:
    fleet = [_workstation(tmp_path / f"ws{n:02d}", pki, rsyslog.port) for n in range(20)]
    total = WORKSTATIONS * EVENTS
    done = threading.Event()
    errors: list[str] = []
    threads = [threading.Thread(target=_write, args=(ws, done, errors)) for ws in fleet]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 240
        while len(rsyslog.lines()) < total // 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        rsyslog.stop()  # the cut: the repository is gone mid-stream
        arrived_before_cut = len(_keys(rsyslog))
        time.sleep(1.5)
        rsyslog.start()
        while len(rsyslog.lines()) < total and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)  # anything sent twice would arrive now
    finally:
        done.set()
        for t in threads:
            t.join(30)
    assert not errors
    assert 0 < arrived_before_cut < total  # the cut really came mid-stream
    keys = _keys(rsyslog)
    counts = Counter(keys)
    assert len(counts) == total, f"lost: {total - len(counts)}"  # none lost ...
    assert len(keys) == total, (
        f"twice: {[k for k, n in counts.items() if n > 1][:20]}"
    )  # ... none duplicated
    by_log: dict[str, list[int]] = {}
    for log_id, seq in keys:
        by_log.setdefault(log_id, []).append(seq)
    assert len(by_log) == WORKSTATIONS
    assert all(seqs == list(range(1, EVENTS + 1)) for seqs in by_log.values())  # each in order
    for ws in fleet:
        with Outbox(ws.atna_outbox_path) as box:
            status = box.status()
        assert (status.pending, status.held, status.sent) == (0, 0, EVENTS)
