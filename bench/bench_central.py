"""Department audit store: forwarding throughput and lag with 20 writers, and what forwarding costs
the local append. Needs PostgreSQL 15 (Debian ``postgresql``); a throwaway cluster is made here.

Run: .venv/bin/python bench/bench_central.py  (about 3 minutes). Writes bench/results/central.md.

Measured:
- throughput: 20 workstations' logs, each with a backlog, drained by 20 forwarders at once (the
  shared feed + outbox + one central transaction per batch), events/s; against the reference of
  the same rows INSERTed in the same batches straight from memory on 20 connections (what the
  database alone costs);
- lag: 20 writer threads recording paced decisions (one transaction every ~50 ms each, 400
  rows/s in all) with the app's forwarder thread per workstation (woken by each commit); the
  delay from the local COMMIT returning to the central INSERT (``received_at``, set by the
  server's clock inside the inserting transaction), median / p99 / max;
- the local append's latency with forwarding off (A) and on (B), interleaved A, B, A, B over
  rounds in one process, one append every ~20 ms (far faster than a reader decides, so the
  forwarder's own disk syncs meet the appends' as often as they can): median of the per-round
  medians and p99s, and B / A.
Load average before and after. All in one process: 20 workstations share 2 cores here, which a
real department does not.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.forwarding_cost import cost_lines, interleaved_append_cost, p99  # noqa: E402
from tests.audit.central_helpers import set_up, workstation  # noqa: E402
from tests.audit.pg_cluster import PgCluster, make_cluster  # noqa: E402
from viewer.audit import AuditEvent, AuditLog, User  # noqa: E402
from viewer.audit.central import (  # noqa: E402
    BATCH,
    CentralDestination,
    CentralStore,
    workstation_id,
)
from viewer.audit.chain import ALL_COLUMNS  # noqa: E402
from viewer.audit.forwarding import Forwarder  # noqa: E402
from viewer.config import Settings  # noqa: E402
from viewer.outbox import Backoff, Outbox  # noqa: E402

WORKSTATIONS = 20
BACKLOG = 1000  # rows per workstation for the throughput run
LAG_SECONDS = 20.0
ROUNDS = 16
APPENDS_PER_ROUND = 200
USER = User("sato", "佐藤 花子", "放射線科医")


def event(i: int) -> AuditEvent:
    score = (i * 37 % 100) / 100
    return AuditEvent(
        type="decision",
        user=USER,
        meaning="confirmed",
        model_id="demo-cxr",
        model_version="1.2.0",
        bundle_digest="ab" * 32,
        threshold=0.5,
        score=score,
        ai_finding="opacity" if score >= 0.5 else "no finding",
        clinician_finding="opacity" if score >= 0.5 else "no finding",
        ai_shown="after_read",
        patient_id=f"P{i}",
        study_uid=f"1.2.826.0.1.{i}",
        sop_uid=f"1.2.826.0.1.{i}.1.1",
        detail={"threads": 2},
    )


def fast_outbox(path: Path) -> Outbox:
    return Outbox(path, backoff=Backoff(first_s=0.2, cap_s=2.0))


def central_count(cluster: PgCluster, schema: str) -> int:
    with psycopg.connect(cluster.admin_dsn("bedside_audit")) as conn:
        row = conn.execute(f"SELECT count(*) FROM {schema}.audit_rows").fetchone()  # noqa: S608
    return int(row[0]) if row else 0


def fleet(root: Path, cluster: PgCluster, schema: str) -> list[Settings]:
    return [
        workstation(root / f"{schema}-{n:02d}", cluster, schema, f"ws-{n:02d}")
        for n in range(WORKSTATIONS)
    ]


def bench_throughput(root: Path, cluster: PgCluster) -> dict[str, float]:
    stations = fleet(root, cluster, "b_tput")
    set_up(stations[0])
    rows_by_ws: list[list[list[Any]]] = []
    for ws in stations:
        with AuditLog.open(ws) as log:
            for start in range(0, BACKLOG, 50):
                log.append_all([event(i) for i in range(start, start + 50)])
            rows_by_ws.append([[getattr(r, c) for c in ALL_COLUMNS] for r in log.iter_records()])
    total = WORKSTATIONS * BACKLOG

    def drain(ws: Settings) -> None:
        fwd = Forwarder(ws, CentralDestination(ws), idle_s=0.2, outbox_factory=fast_outbox)
        fwd.start()
        while central_count(cluster, "b_tput") < total:
            time.sleep(0.05)
        fwd.stop(10)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=drain, args=(ws,)) for ws in stations]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    forwarded_s = time.perf_counter() - t0

    # reference: the same rows, same batches, straight into another schema from memory
    ref = fleet(root, cluster, "b_ref")
    set_up(ref[0])

    def insert_direct(ws: Settings, rows: list[list[Any]]) -> None:
        with CentralStore.open(ws) as store:
            for start in range(0, len(rows), BATCH):
                store.insert(
                    str(ws.data_dir.parent.name),  # the reference has no log, so no key
                    [("bench", row) for row in rows[start : start + BATCH]],
                )

    t0 = time.perf_counter()
    threads = [
        threading.Thread(target=insert_direct, args=(ws, rows))
        for ws, rows in zip(ref, rows_by_ws, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    direct_s = time.perf_counter() - t0
    assert central_count(cluster, "b_tput") == total == central_count(cluster, "b_ref")
    return {"rows": total, "forwarded_s": forwarded_s, "direct_s": direct_s}


def bench_lag(root: Path, cluster: PgCluster) -> dict[str, float]:
    stations = fleet(root, cluster, "b_lag")
    set_up(stations[0])
    committed: dict[tuple[str, int], float] = {}
    stop_writing = threading.Event()
    stop_forwarding = threading.Event()

    def write(ws: Settings) -> None:
        with AuditLog.open(ws) as log:
            name = workstation_id(ws)
            fwd = Forwarder(ws, CentralDestination(ws), idle_s=5.0, outbox_factory=fast_outbox)
            log.add_listener(fwd.notify)
            fwd.start()
            i = 0
            while not stop_writing.is_set():
                records = log.append_all([event(i)])
                committed[(name, records[0].seq)] = time.time()
                i += 1
                time.sleep(0.05)
            stop_forwarding.wait(120)
            log.remove_listener(fwd.notify)
            fwd.stop(10)

    threads = [threading.Thread(target=write, args=(ws,)) for ws in stations]
    for t in threads:
        t.start()
    time.sleep(LAG_SECONDS)
    stop_writing.set()
    time.sleep(0.5)
    deadline = time.monotonic() + 60
    while central_count(cluster, "b_lag") < len(committed) and time.monotonic() < deadline:
        time.sleep(0.1)
    stop_forwarding.set()
    for t in threads:
        t.join()
    with psycopg.connect(cluster.admin_dsn("bedside_audit")) as conn:
        received = conn.execute(
            "SELECT workstation, seq, extract(epoch FROM received_at) FROM b_lag.audit_rows"
        ).fetchall()
    lags = [
        (float(at) - committed[(str(w), int(s))]) * 1000
        for w, s, at in received
        if (str(w), int(s)) in committed
    ]
    return {
        "rows": len(committed),
        "arrived": len(received),
        "rate": len(committed) / LAG_SECONDS,
        "median": statistics.median(lags),
        "p99": p99(lags),
        "max": max(lags),
    }


def bench_append_cost(root: Path, cluster: PgCluster) -> dict[str, Any]:
    (ws,) = [workstation(root / "b_cost", cluster, "b_cost", "ws-cost")]
    set_up(ws)
    with AuditLog.open(ws) as log:
        arms = interleaved_append_cost(
            log,
            lambda: Forwarder(ws, CentralDestination(ws), idle_s=5.0, outbox_factory=fast_outbox),
            event,
            rounds=ROUNDS,
            appends=APPENDS_PER_ROUND,
            pace_s=0.02,
        )
        rows = log.head()[0]
    return {"arms": arms, "sent": central_count(cluster, "b_cost"), "rows": rows}


def main() -> int:
    load_before = os.getloadavg()
    root = Path(tempfile.mkdtemp(prefix="bedside-bench-central-"))
    gen = make_cluster()
    cluster = next(gen)
    try:
        tput = bench_throughput(root, cluster)
        print("throughput", tput, flush=True)
        lag = bench_lag(root, cluster)
        print("lag", lag, flush=True)
        cost = bench_append_cost(root, cluster)
        print("append cost", cost, flush=True)
    finally:
        gen.close()
    load_after = os.getloadavg()
    # is B's p99 above A's beyond the rounds' own spread? (two-sided Mann-Whitney U on rounds)
    from scipy.stats import mannwhitneyu  # type: ignore[import-untyped]

    p_p99 = float(
        mannwhitneyu([p for _, p in cost["arms"]["on"]], [p for _, p in cost["arms"]["off"]]).pvalue
    )
    fwd_rate = tput["rows"] / tput["forwarded_s"]
    ref_rate = tput["rows"] / tput["direct_s"]
    lines = [
        "## Department audit store: forwarding (bench/bench_central.py)",
        "",
        "A throwaway PostgreSQL 15 cluster on loopback (fsync on), 20 simulated workstations in "
        "one process (threads, 2 shared cores), each with its own audit log and outbox; rows "
        "travel through the shared feed (`viewer.audit.forwarding`) and `CentralDestination` "
        f"(one central transaction per batch of up to {BATCH}).",
        "",
        "| measure | forwarded | reference | ratio |",
        "|---|---:|---:|---:|",
        f"| throughput, 20 x {BACKLOG} backlog drained at once (events/s) | {fwd_rate:,.0f} | "
        f"{ref_rate:,.0f} (same rows and batches INSERTed from memory) | "
        f"{fwd_rate / ref_rate:.2f} |",
        "",
        f"Lag with 20 writers recording for {LAG_SECONDS:.0f} s ({lag['rate']:.0f} rows/s in "
        f"all, one transaction per row), the app's forwarder thread per workstation woken by "
        f"each commit: local COMMIT returned -> central INSERT, median {lag['median']:.0f} ms, "
        f"p99 {lag['p99']:.0f} ms, max {lag['max']:.0f} ms ({lag['arrived']} of {lag['rows']} "
        "rows arrived, none missing). Most of it is deliberate: after a wake-up the forwarder "
        "gathers for 0.2 s (`gather_s`, viewer/audit/forwarding.py) so a burst of commits is "
        "fed and sent as one batch with one pair of outbox disk syncs.",
        "",
        *cost_lines(cost["arms"], rounds=ROUNDS, appends=APPENDS_PER_ROUND),
        "",
        f"Per-round p99, B against A: two-sided Mann-Whitney U p = {p_p99:.2f} over "
        f"{ROUNDS} + {ROUNDS} rounds (p >= 0.05: no difference beyond the rounds' own spread).",
        "",
        f"{cost['sent']} of the {cost['rows']} rows had reached the store when the last "
        "forwarder stopped (A's rows on the next B round's catch-up).",
        "",
        f"Load average (1, 5, 15 min) before {' / '.join(f'{x:.2f}' for x in load_before)}, "
        f"after {' / '.join(f'{x:.2f}' for x in load_after)}.",
        "",
    ]
    out = ROOT / "bench" / "results" / "central.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
