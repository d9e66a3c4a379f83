"""A department of workstations sending ATNA audit messages to one REAL rsyslog over TLS across a
forced cut (issue 18 acceptance): rsyslog is stopped and restarted mid-stream while 20
workstations keep recording 1,000 events each; afterwards the repository holds every row (by
log id and sequence number), each workstation's rows in order. RFC 5425 has no acknowledgement:
rows sent within the hold before the cut go again and may arrive twice, byte-identical, which
the structured data lets the repository drop (viewer/audit/atna_transport.py)."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from tests.audit.atna_helpers import Pki, Rsyslog, parse_syslog, rsyslog_missing
from tests.audit.helpers import record_and_forward
from viewer.audit.atna_transport import SD_ID, AtnaDestination
from viewer.config import Settings, load_settings
from viewer.outbox import Outbox

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


_KEY = re.compile(rb'log="([^"]*)" seq="(\d+)"')


def _distinct(server: Rsyslog) -> int:
    """Rows arrived, each counted once (a cheap look while the test waits)."""
    if not server.out.exists():
        return 0
    return len(set(_KEY.findall(server.out.read_bytes())))


def _keys(server: Rsyslog) -> list[tuple[str, int, bytes]]:
    out = []
    for line in server.lines():
        if line.startswith(b"<"):
            sd = parse_syslog(line).sd[SD_ID]
            out.append((sd["log"], int(sd["seq"]), line))
    return out


def test_twenty_workstations_times_a_thousand_events_survive_a_repository_restart(
    tmp_path: Path, pki: Pki, rsyslog: Rsyslog
) -> None:
    fleet = [_workstation(tmp_path / f"ws{n:02d}", pki, rsyslog.port) for n in range(20)]
    total = WORKSTATIONS * EVENTS
    done = threading.Event()
    errors: list[str] = []
    threads = [
        threading.Thread(
            target=record_and_forward,
            args=(ws, AtnaDestination.from_settings, EVENTS, done, errors),
            kwargs={"per_transaction": PER_TRANSACTION},
        )
        for ws in fleet
    ]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 240
        while _distinct(rsyslog) < total // 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        rsyslog.stop()  # the cut: the repository is gone mid-stream
        arrived_before_cut = len(_keys(rsyslog))
        time.sleep(1.5)
        rsyslog.start()
        while _distinct(rsyslog) < total and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)  # anything sent twice would arrive now
    finally:
        done.set()
        for t in threads:
            t.join(30)
    assert not [e for e in errors if "ATNA repository" not in e]  # only the cut's own
    assert 0 < arrived_before_cut < total  # the cut really came mid-stream
    got = _keys(rsyslog)
    lines: dict[tuple[str, int], set[bytes]] = {}
    for log_id, seq, line in got:
        lines.setdefault((log_id, seq), set()).add(line)
    assert len(lines) == total, f"lost: {total - len(lines)}"  # none lost
    assert all(len(copies) == 1 for copies in lines.values())  # a repeat is byte-identical
    repeats = len(got) - total
    by_log: dict[str, list[int]] = {}
    for log_id, seq in sorted(lines):
        by_log.setdefault(log_id, []).append(seq)
    assert len(by_log) == WORKSTATIONS
    assert all(seqs == list(range(1, EVENTS + 1)) for seqs in by_log.values())
    assert repeats < total // 4, f"{repeats} repeats: more than the cut explains"
    for ws in fleet:
        with Outbox(ws.atna_outbox_path) as box:
            status = box.status()
        assert (status.pending, status.held, status.sent) == (0, 0, EVENTS)
