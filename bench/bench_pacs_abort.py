"""How long a process stays alive after it gives up on a PACS that stopped answering.

    .venv/bin/python bench/bench_pacs_abort.py [--rounds N]  # -> bench/results/pacs_abort.md

A pynetdicom PACS of this script's own accepts every association and never answers a C-FIND
(the hung PACS of the window-close defect). A child process starts ``viewer.pacs.query.search``
in a non-daemon worker thread (as the window's thread pool runs it), says "closed" after 0.5 s
(the window closing) and lets its main thread end; the time from "closed" to the process's
exit is measured from outside:

- A, cancel: the worker's ``cancel()`` turns true at "closed" (what the window's shutdown does
  now): the association is aborted and the process ends.
- B, no cancel (before): nothing tells the worker, which waits for the C-FIND answer until
  ``pacs.timeout_s`` (``--timeout``, 3 s here; 60 s by default), and pynetdicom's non-daemon DUL
  thread with it.
- C, reference: the same child without a search (its own exit with these modules loaded).

Arms interleaved in every round (order alternating), medians of N rounds after one warm-up;
load average before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import write_section  # noqa: E402 - after the path

RESULTS = ROOT / "bench" / "results" / "pacs_abort.md"

CHILD = """
import sys, threading, time
from viewer.config import load_settings
from viewer.pacs.query import search

settings = load_settings()
closed = threading.Event()
cancel = closed.is_set if sys.argv[1] == "cancel" else None

def work():
    if sys.argv[1] == "idle":
        return
    try:
        search(settings, patient_id="X", cancel=cancel)
    except Exception:
        pass

threading.Thread(target=work).start()
time.sleep(0.5)
closed.set()
print("closed", flush=True)
"""


def hung_pacs() -> tuple[int, threading.Event, object]:
    from pynetdicom import AE, evt

    from viewer.pacs.dimse import STUDY_ROOT_FIND

    release = threading.Event()

    def on_find(_event: object) -> Iterator[tuple[int, None]]:
        release.wait(120)
        yield 0xC000, None

    ae = AE(ae_title="PACS")
    ae.maximum_associations = 1000  # every round leaves one hanging here until the end
    ae.add_supported_context(STUDY_ROOT_FIND)
    server = ae.start_server(
        ("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_FIND, on_find)]
    )
    assert server is not None
    return int(server.server_address[1]), release, server


def after_close_ms(mode: str, env: dict[str, str]) -> float:
    """Milliseconds from the child's "closed" to its exit."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        closed = time.perf_counter()
        if line.strip() != "closed":
            raise RuntimeError(f"the child said {line!r}")
        child.wait(timeout=120)
        return (time.perf_counter() - closed) * 1000
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=3.0, help="pacs.timeout_s")
    args = parser.parse_args()
    port, release, server = hung_pacs()
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site.toml"
        site.write_text(
            '[pacs]\nenabled = true\ntransport = "dimse"\nquery = "dimse"\n'
            f'host = "127.0.0.1"\nport = {port}\ncalled_aet = "PACS"\n'
            f"connect_timeout_s = 5\ntimeout_s = {args.timeout}\n",
            encoding="utf-8",
        )
        env = {**os.environ, "BEDSIDE_SITE_CONFIG": str(site), "BEDSIDE_DATA_DIR": tmp}
        arms = {
            "cancel": "A: cancel on close (now)",
            "none": "B: no cancel (before)",
            "idle": "C: no search at all (the process's own exit)",
        }
        for mode in arms:  # warm-up
            after_close_ms(mode, env)
        runs: dict[str, list[float]] = {mode: [] for mode in arms}
        for r in range(args.rounds):
            for mode in list(arms) if r % 2 == 0 else list(reversed(arms)):
                runs[mode].append(after_close_ms(mode, env))
    load1 = os.getloadavg()
    release.set()
    server.shutdown()  # type: ignore[attr-defined]
    med = {mode: statistics.median(v) for mode, v in runs.items()}
    lines = [
        "## A hung PACS and the process's exit (bench/bench_pacs_abort.py)",
        "",
        f"Command: `.venv/bin/python bench/bench_pacs_abort.py --rounds {args.rounds}`. A "
        "pynetdicom PACS that accepts the association and never answers a C-FIND; a child "
        "process searches it in a non-daemon worker thread and 'closes' after 0.5 s; measured: "
        f"from the close to the process's exit. pacs.timeout_s = {args.timeout:g} s (60 s by "
        f"default). Arms interleaved, medians of {args.rounds} after a warm-up. Load average "
        f"(1/5/15 min) before {', '.join(f'{x:.2f}' for x in load0)}, after "
        f"{', '.join(f'{x:.2f}' for x in load1)}.",
        "",
        "| arm | median ms | runs (ms) | ratio to B |",
        "|---|---|---|---|",
    ]
    for mode, title in arms.items():
        values = ", ".join(f"{v:.0f}" for v in runs[mode])
        lines.append(f"| {title} | {med[mode]:.0f} | {values} | {med[mode] / med['none']:.2f}x |")
    lines.append("")
    write_section(RESULTS, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
