"""Thread policy on a busy machine (issue 19.3).

    .venv/bin/python bench/bench_threads.py [--rounds 3]   # writes bench/results/threads.md

1. Busy machine: two background CPU burners (``while True: pass``, one per core of this 2-core
   machine) run for the whole section. A DenseNet-121 forward at 224 px (1 channel, 14 labels,
   median of 10 after 2 warm-ups, each setting a fresh process) with the ``auto`` policy, 1 and 2
   fixed threads, and 2 threads under ``OMP_WAIT_POLICY=PASSIVE`` (measured, not adopted);
   then ``bedside --demo infer`` over 200 generated 512 x 512 images with ``--threads auto``, 1
   and 2. Settings interleaved in every round; medians over rounds.
``infer`` over 200 images against bare forwards (issue 19.5) is bench/bench_batch.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
from common import bench_site  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "threads.md"
PY = sys.executable

FORWARD = """
import statistics, sys, time
import torch
from viewer.bundle.architectures import build_model
from viewer.inference.engine import configure_threads, resolve_threads
setting = sys.argv[1] if sys.argv[1] == "auto" else int(sys.argv[1])
torch.manual_seed(0)
model = build_model("densenet121", in_channels=1, num_labels=14).eval()
x = torch.randn(1, 1, 224, 224)
times, used = [], []
with torch.inference_mode():
    for i in range(12):
        used.append(configure_threads(resolve_threads(setting)))
        t = time.perf_counter()
        model(x)
        times.append((time.perf_counter() - t) * 1000.0)
print(statistics.median(times[2:]), statistics.median(used[2:]))
"""


def _load() -> str:
    a, b, c = os.getloadavg()
    return f"{a:.2f}, {b:.2f}, {c:.2f}"


def _forward(setting: str, passive: bool) -> tuple[float, float]:
    env = dict(os.environ)
    if passive:
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    out = subprocess.run(
        [PY, "-c", FORWARD, setting], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1])


def _infer(folder: Path, env: dict[str, str], *extra: str, demo: bool = False) -> float:
    t = time.perf_counter()
    proc = subprocess.run(
        [PY, "-m", "viewer", *(["--demo"] if demo else []), "infer", str(folder), "--json", *extra],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - t
    scored = sum('"status": "scored"' in line for line in proc.stdout.splitlines())
    if scored != 200:
        raise RuntimeError(f"infer scored {scored} of 200: {proc.stderr[-800:]}")
    return took


def busy(rounds: int, work: Path, env: dict[str, str]) -> list[str]:
    from viewer.dicom.synthetic import write_demo_set

    demo = work / "demo"
    write_demo_set(demo, n=200, seed=5, size=(512, 512))
    burners = [subprocess.Popen([PY, "-c", "while True: pass"]) for _ in range(2)]
    try:
        time.sleep(3)
        load0 = _load()
        fwd_cases = {"auto": ("auto", False), "1 fixed": ("1", False), "2 fixed": ("2", False),
                     "2, OMP_WAIT_POLICY=PASSIVE": ("2", True)}  # fmt: skip
        fwd: dict[str, list[tuple[float, float]]] = {k: [] for k in fwd_cases}
        batch_cases = {"auto": "auto", "1 fixed": "1", "2 fixed": "2"}
        batch: dict[str, list[float]] = {k: [] for k in batch_cases}
        for _ in range(rounds):
            for name, (setting, passive) in fwd_cases.items():
                fwd[name].append(_forward(setting, passive))
            for name, setting in batch_cases.items():
                batch[name].append(_infer(demo, env, "--threads", setting, demo=True))
        load1 = _load()
    finally:
        for b in burners:
            b.kill()
            b.wait()
    best_fwd = min(statistics.median(t for t, _ in fwd[k]) for k in ("1 fixed", "2 fixed"))
    best_batch = min(statistics.median(batch[k]) for k in ("1 fixed", "2 fixed"))
    lines = [
        "### Busy machine: 2 background CPU burners on the 2 cores\n",
        f"Load average (1/5/15 min) with the burners running: {load0} at start, {load1} at end "
        f"(other sessions share the machine too). {rounds} rounds, settings interleaved.\n",
        "| DenseNet-121 forward @ 224 | median ms | per round | threads used | / best fixed |",
        "|---|---|---|---|---|",
    ]
    for name, runs in fwd.items():
        med = statistics.median(t for t, _ in runs)
        used = statistics.median(u for _, u in runs)
        per = ", ".join(f"{t:.0f}" for t, _ in runs)
        lines.append(f"| {name} | {med:.0f} | {per} | {used:g} | {med / best_fwd:.2f} |")
    lines += [
        "",
        "| `bedside --demo infer` 200 images 512 x 512 | wall s | per round | / best fixed |",
        "|---|---|---|---|",
    ]
    for name, runs in batch.items():
        med = statistics.median(runs)
        per = ", ".join(f"{t:.1f}" for t in runs)
        lines.append(f"| --threads {name} | {med:.1f} | {per} | {med / best_batch:.2f} |")
    ratio = statistics.median(t for t, _ in fwd["auto"]) / best_fwd
    lines.append(
        f"\nTarget: the `auto` forward within 1.3x of the best fixed setting: **{ratio:.2f}x** "
        f"({'met' if ratio <= 1.3 else 'NOT met'})."
    )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bedside-bench-threads-") as tmp:
        work = Path(tmp)
        env, _ = bench_site(work)
        lines = [
            "## Thread policy on a busy machine (bench/bench_threads.py)\n",
            f"Command: `.venv/bin/python bench/bench_threads.py --rounds {args.rounds}`.\n",
        ]
        lines += busy(args.rounds, work, env)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
