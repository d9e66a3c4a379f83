"""ATNA forwarding: throughput and lag to a real rsyslog over TLS, and what forwarding costs the
local append. Needs rsyslog + rsyslog-gnutls (Debian); test certificates are made here.

Run: .venv/bin/python bench/bench_atna.py  (under a minute). Writes bench/results/atna.md.

Measured, in one process (2 shared cores), rsyslogd on loopback with client certificates
required, every message written to a file with rsyslog's receive time (``timegenerated``, µs):
- throughput: a backlog of rows queued and sent by the shared feed and ``AtnaDestination``
  (RFC 5424 + PS3.15 XML built per row, one TLS record at a time, a batch confirmed once the
  connection stayed up for the hold after its last acknowledgement) until rsyslog has written
  the last; against the floor of the same bytes
  pushed down one TLS connection from memory (no outbox, no confirmation);
- lag: rows appended at a reader's pace with the app's forwarder thread (woken by each commit);
  the row's own time (set inside the appending transaction) -> rsyslog's receive time; median,
  p99, max;
- the local append with forwarding off (A) and on (B), interleaved A, B, A, B in rounds:
  medians of the per-round medians and p99s, and B / A.
Load average before and after.
"""

from __future__ import annotations

import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.forwarding_cost import Arms, cost_lines, interleaved_append_cost, p99  # noqa: E402
from tests.audit.atna_helpers import Pki, Rsyslog, make_pki, parse_syslog  # noqa: E402
from tests.audit.helpers import decision  # noqa: E402
from viewer.audit import AuditLog  # noqa: E402
from viewer.audit.atna_transport import SD_ID, AtnaDestination, frame, tls_context  # noqa: E402
from viewer.audit.forwarding import Forwarder, forward  # noqa: E402
from viewer.config import Settings, load_settings  # noqa: E402
from viewer.outbox import Backoff, Outbox  # noqa: E402

BACKLOG = 3000
LAG_ROWS = 400
LAG_PACE_S = 0.02
ROUNDS = 10
APPENDS_PER_ROUND = 150


def settings_for(root: Path, pki: Pki, port: int) -> Settings:
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    site = root / "site.toml"
    site.write_text(
        f'[atna]\nenabled = true\nhost = "localhost"\nport = {port}\nca_file = "{pki.ca}"\n'
        f'client_cert_file = "{pki.client_cert}"\nclient_key_file = "{pki.client_key}"\n',
        encoding="utf-8",
    )
    os.environ["BEDSIDE_DATA_DIR"] = str(data)
    os.environ["BEDSIDE_SITE_CONFIG"] = str(site)
    return load_settings()


def arrivals(server: Rsyslog) -> dict[int, float]:
    """seq -> rsyslog's receive time (epoch s) of every message written so far."""
    out = {}
    for line in server.lines():
        stamp, _, raw = line.partition(b" ")
        if raw.startswith(b"<"):
            seq = int(parse_syslog(raw).sd[SD_ID]["seq"])
            out[seq] = datetime.fromisoformat(stamp.decode()).timestamp()
    return out


def wait_count(server: Rsyslog, n: int, timeout: float = 120.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(server.lines()) >= n:
            return time.perf_counter()
        time.sleep(0.005)
    raise RuntimeError(f"rsyslog wrote {len(server.lines())} of {n} lines")


def bench_throughput(root: Path, pki: Pki) -> dict[str, float]:
    server = Rsyslog(root / "tput-rsyslog", pki, stamped=True)
    server.start()
    try:
        settings = settings_for(root / "tput", pki, server.port)
        with AuditLog.open(settings) as log:
            for start in range(0, BACKLOG, 100):
                log.append_all([decision(i) for i in range(start, start + 100)])
            destination = AtnaDestination.from_settings(settings)
            t0 = time.perf_counter()
            with Outbox(settings.atna_outbox_path) as box:
                result = forward(log, box, destination)
            destination.close()
            forwarded_s = wait_count(server, BACKLOG) - t0
            assert result.drain.sent == BACKLOG, result
            payloads = [destination.encode(log.log_id, r) for r in log.iter_records()]
        # the floor: the same messages from memory down one TLS connection, no confirmation
        floor = Rsyslog(root / "floor-rsyslog", pki, stamped=True)
        floor.start()
        try:
            ctx = tls_context(destination.files)
            t0 = time.perf_counter()
            raw = socket.create_connection(("localhost", floor.port), timeout=10)
            with ctx.wrap_socket(raw, server_hostname="localhost") as sock:
                sock.sendall(b"".join(frame(p) for p in payloads))
                floor_s = wait_count(floor, BACKLOG) - t0
        finally:
            floor.stop()
    finally:
        server.stop()
    return {"rows": BACKLOG, "forwarded_s": forwarded_s, "floor_s": floor_s}


def bench_lag(root: Path, pki: Pki) -> dict[str, float]:
    server = Rsyslog(root / "lag-rsyslog", pki, stamped=True)
    server.start()
    try:
        settings = settings_for(root / "lag", pki, server.port)
        committed: dict[int, float] = {}
        with AuditLog.open(settings) as log:
            fwd = Forwarder(settings, AtnaDestination.from_settings(settings), idle_s=5.0)
            log.add_listener(fwd.notify)
            fwd.start()
            for i in range(LAG_ROWS):
                record = log.append(decision(i))
                committed[record.seq] = record.when.timestamp()
                time.sleep(LAG_PACE_S)
            wait_count(server, LAG_ROWS)
            log.remove_listener(fwd.notify)
            fwd.stop(10)
        got = arrivals(server)
    finally:
        server.stop()
    lags = [(got[seq] - at) * 1000 for seq, at in committed.items() if seq in got]
    return {
        "rows": len(committed),
        "arrived": len(got),
        "median": statistics.median(lags),
        "p99": p99(lags),
        "max": max(lags),
    }


def bench_append_cost(root: Path, pki: Pki) -> Arms:
    server = Rsyslog(root / "cost-rsyslog", pki)
    server.start()
    try:
        settings = settings_for(root / "cost", pki, server.port)

        def forwarder() -> Forwarder:
            return Forwarder(
                settings,
                AtnaDestination.from_settings(settings),
                idle_s=5.0,
                outbox_factory=lambda p: Outbox(p, backoff=Backoff(first_s=0.2)),
            )

        with AuditLog.open(settings) as log:
            return interleaved_append_cost(
                log, forwarder, decision, rounds=ROUNDS, appends=APPENDS_PER_ROUND
            )
    finally:
        server.stop()


def main() -> int:
    load_before = os.getloadavg()
    root = Path(tempfile.mkdtemp(prefix="bedside-bench-atna-"))
    pki = make_pki(root / "pki")
    tput = bench_throughput(root, pki)
    print("throughput", tput, flush=True)
    lag = bench_lag(root, pki)
    print("lag", lag, flush=True)
    cost = bench_append_cost(root, pki)
    print("append cost", cost, flush=True)
    load_after = os.getloadavg()
    fwd_rate = tput["rows"] / tput["forwarded_s"]
    floor_rate = tput["rows"] / tput["floor_s"]
    lines = [
        "## ATNA audit messages to rsyslog over TLS (bench/bench_atna.py)",
        "",
        "Debian rsyslogd 8.2302 on loopback (gtls, TLS 1.3, client certificates required), "
        "every message written to a file; Bedside's shared feed (`viewer.audit.forwarding`) and "
        "`AtnaDestination` (RFC 5424 + DICOM PS3.15 XML per row, ~3 KB; a batch of up to 100 "
        "sent one TLS record of <= 16 KiB at a time, each acknowledged by TCP before the next; "
        "the batch confirmed once the connection stayed up 1 s (HOLD_S) after the last "
        "acknowledgement). One process, 2 shared cores.",
        "",
        "| measure | forwarded | floor | ratio |",
        "|---|---:|---:|---:|",
        f"| throughput, {BACKLOG} rows backlog until rsyslog wrote the last (events/s) | "
        f"{fwd_rate:,.0f} | {floor_rate:,.0f} (same bytes from memory, one TLS write) | "
        f"{fwd_rate / floor_rate:.2f} |",
        "",
        f"Lag, {LAG_ROWS} rows appended one every {LAG_PACE_S * 1000:.0f} ms with the app's "
        "forwarder thread (woken by each commit): the row's time (inside its transaction) -> "
        f"rsyslog's receive time, median {lag['median']:.1f} ms, p99 {lag['p99']:.1f} ms, "
        f"max {lag['max']:.1f} ms ({lag['arrived']} of {lag['rows']} arrived).",
        "",
        *cost_lines(cost, rounds=ROUNDS, appends=APPENDS_PER_ROUND),
        "",
        f"Load average (1, 5, 15 min) before {' / '.join(f'{x:.2f}' for x in load_before)}, "
        f"after {' / '.join(f'{x:.2f}' for x in load_after)}.",
        "",
    ]
    out = ROOT / "bench" / "results" / "atna.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    threading.excepthook = lambda args: print(f"thread failed: {args.exc_value}", flush=True)
    sys.exit(main())
