"""What forwarding costs the local append, for every forwarding bench (bench_atna, and the
department store's): the same appends with forwarding off (A) and on (B), interleaved A, B, A, B
in rounds in one process, and the table that reports them."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from viewer.audit import AuditEvent, AuditLog
from viewer.audit.forwarding import Forwarder

Arms = dict[str, list[tuple[float, float]]]  # "off"/"on" -> per round (median, p99) in ms


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def interleaved_append_cost(
    log: AuditLog,
    make_forwarder: Callable[[], Forwarder],
    event: Callable[[int], AuditEvent],
    *,
    rounds: int,
    appends: int,
    pace_s: float = 0.01,
) -> Arms:
    """Per round and arm, the median and p99 of ``appends`` single-row appends, ``pace_s``
    apart (a reader's pace, compressed: the forwarder runs in between)."""
    arms: Arms = {"off": [], "on": []}
    i = 0
    for _round in range(rounds):
        for arm in ("off", "on"):
            fwd = make_forwarder() if arm == "on" else None
            if fwd is not None:
                log.add_listener(fwd.notify)
                fwd.start()
            times = []
            for _ in range(appends):
                t0 = time.perf_counter()
                log.append(event(i))
                times.append((time.perf_counter() - t0) * 1000)
                i += 1
                time.sleep(pace_s)
            if fwd is not None:
                log.remove_listener(fwd.notify)
                fwd.stop(30)
            arms[arm].append((statistics.median(times), p99(times)))
    return arms


def cost_lines(arms: Arms, *, rounds: int, appends: int) -> list[str]:
    """The Markdown table (medians of the per-round figures, B / A) and the per-round figures."""
    off_med = statistics.median(m for m, _ in arms["off"])
    on_med = statistics.median(m for m, _ in arms["on"])
    off_p99 = statistics.median(p for _, p in arms["off"])
    on_p99 = statistics.median(p for _, p in arms["on"])
    return [
        f"Local append latency, forwarding off (A) / on (B), interleaved over {rounds} rounds of "
        f"{appends} appends (medians of the per-round figures), ms:",
        "",
        "| | A: off | B: on | B / A |",
        "|---|---:|---:|---:|",
        f"| median | {off_med:.2f} | {on_med:.2f} | {on_med / off_med:.2f} |",
        f"| p99 | {off_p99:.2f} | {on_p99:.2f} | {on_p99 / off_p99:.2f} |",
        "",
        "Per round (median / p99): A "
        + ", ".join(f"{m:.2f}/{p:.2f}" for m, p in arms["off"])
        + "; B "
        + ", ".join(f"{m:.2f}/{p:.2f}" for m, p in arms["on"])
        + ".",
    ]
