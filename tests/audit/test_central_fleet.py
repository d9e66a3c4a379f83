"""A department of workstations forwarding to one store across a forced network cut (issue 18
acceptance): the PostgreSQL server is stopped and restarted mid-stream while 20 workstations
keep recording; afterwards every row is in the store exactly once, in each workstation's chain.

The acceptance figure itself, 20 x 1,000 events, takes about 15 s here: it is the default run.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.audit.central_helpers import central_rows, set_up, workstation
from tests.audit.helpers import record_and_forward
from tests.audit.pg_cluster import PgCluster
from viewer.audit import AuditLog
from viewer.audit.central import (
    CentralDestination,
    CentralStore,
    verify_central_chain,
    workstation_id,
)

WORKSTATIONS = 20
PER_TRANSACTION = 10  # a decision on several findings is one transaction of several rows


def _count(cluster: PgCluster, schema: str) -> int:
    return len(central_rows(cluster, schema))


def _fleet(cluster: PgCluster, root: Path, events: int) -> None:
    schema = f"t_fleet_{events}"
    fleet = [
        workstation(root / f"ws{n:02d}", cluster, schema, f"ws-{n:02d}")
        for n in range(WORKSTATIONS)
    ]
    set_up(fleet[0])
    total = WORKSTATIONS * events
    done = threading.Event()
    errors: list[str] = []
    threads = [
        threading.Thread(
            target=record_and_forward,
            args=(ws, CentralDestination, events, done, errors),
            kwargs={"per_transaction": PER_TRANSACTION},
            daemon=True,
        )
        for ws in fleet
    ]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 120
        while _count(cluster, schema) < total // 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        arrived_before_cut = _count(cluster, schema)
        cluster.stop()  # the network cut: the store is gone mid-stream
        time.sleep(1.5)
        cluster.start()
        while _count(cluster, schema) < total and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        done.set()
        for t in threads:
            t.join(30)
    assert not [e for e in errors if "cannot be reached" not in e and "connection" not in e]
    assert 0 < arrived_before_cut < total  # the cut really came mid-stream
    rows = central_rows(cluster, schema)
    assert len(rows) == total  # none lost ...
    assert len({(w, s) for w, s, _h in rows}) == total  # ... none duplicated
    by_ws: dict[str, list[tuple[int, str]]] = {}
    for w, s, h in rows:
        by_ws.setdefault(w, []).append((s, h))
    for ws in fleet:
        name = workstation_id(ws)
        with AuditLog.open_readonly(ws.audit_db_path, settings=ws) as log:
            local = [(r.seq, r.hash) for r in log.iter_records()]
        assert by_ws[name] == local  # in order, each row exactly as the local chain has it
    with CentralStore.open(fleet[0]) as store:
        checks = [verify_central_chain(store, w) for w in sorted(by_ws)]
    assert all(c.ok and c.rows == events for c in checks)


def test_twenty_workstations_times_a_thousand_events_survive_a_server_restart(
    pg_cluster: PgCluster, tmp_path: Path
) -> None:
    _fleet(pg_cluster, tmp_path, 1000)
