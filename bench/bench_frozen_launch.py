"""Launch of the frozen app beside the development install (issue 14 "speed", issue 19 item 4).

    .venv/bin/python bench/bench_frozen_launch.py [--frozen dist/bedside/bedside] [--rounds 5]

Writes bench/results/frozen_launch.md; skipped (with a note) when no frozen build exists
(``make frozen-check`` builds ``dist/bedside``). Interleaved in every round, each a fresh process
with its own data folder, offscreen: the torch import floor (``python -c "import torch"``, the
same interpreter as the dev install), then ``bedside --demo open FILE`` from the dev install and
from the frozen app (order alternating by round). Seconds from just before the process starts to
the window shown and to the first AI result (the ``BEDSIDE_UI_TIMING`` marks, as bench_ui.py);
medians, the ratios to the floor, and the load average before and after. Targets: window
<= 1.5 s, first AI result <= 3 s (issue 14), first result <= 1.3x the floor (issue 19).
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
RESULTS = ROOT / "bench" / "results" / "frozen_launch.md"
PYTHON = ROOT / ".venv" / "bin" / "python"
DEV = ROOT / ".venv" / "bin" / "bedside"


def _floor() -> float:
    t0 = time.time()
    subprocess.run([str(PYTHON), "-c", "import torch"], check=True, timeout=120)
    return time.time() - t0


def main() -> int:
    from bench_ui import launch_marks

    from viewer.dicom.synthetic import make_cxr

    ap = argparse.ArgumentParser()
    ap.add_argument("--frozen", default=str(ROOT / "dist" / "bedside" / "bedside"))
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    frozen = Path(args.frozen)
    if not frozen.is_file():
        RESULTS.write_text(
            "## Frozen app launch\n\nNot measured: no frozen build at "
            f"`{frozen.relative_to(ROOT) if frozen.is_relative_to(ROOT) else frozen}` "
            "(run `make frozen-check` first).\n",
            encoding="utf-8",
        )
        print("no frozen build; section written as not measured")
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="bedside-frozen-launch-"))
    sample = tmp / "cxr.dcm"
    make_cxr(1, opacity=True, size=(512, 512)).save_as(sample, enforce_file_format=True)
    env = dict(os.environ, BEDSIDE_UI_TIMING="1", BEDSIDE_UI_EXIT_AFTER_RESULT="1")
    env["QT_QPA_PLATFORM"] = "offscreen"
    arms = {"dev": [str(DEV)], "frozen": [str(frozen)]}
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in arms}
    floors: list[float] = []
    load_before = os.getloadavg()
    for r in range(args.rounds):
        floors.append(_floor())
        order = list(arms) if r % 2 == 0 else list(reversed(arms))
        for name in order:
            env["BEDSIDE_DATA_DIR"] = tempfile.mkdtemp(dir=tmp)
            runs[name].append(launch_marks([*arms[name], "--demo", "open", str(sample)], dict(env)))
    load_after = os.getloadavg()
    floor = statistics.median(floors)
    rows = []
    for name, marks in runs.items():
        window = statistics.median(w for w, _ in marks)
        first = statistics.median(f for _, f in marks)
        rows.append(
            f"| {name} | {window:.2f} | {first:.2f} | {first / floor:.2f} | "
            + ", ".join(f"{f:.2f}" for _, f in marks)
            + " |"
        )
    text = "\n".join(
        [
            "## Frozen app launch beside the development install",
            "",
            f"`bench/bench_frozen_launch.py --rounds {args.rounds}`: fresh processes, offscreen, "
            "interleaved by round (torch floor, then dev and frozen in alternating order); "
            f'medians. `python -c "import torch"` floor: {floor:.2f} s (runs '
            + ", ".join(f"{x:.2f}" for x in floors)
            + f"). Load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after.",
            "",
            "| build | window shown (s) | first AI result (s) | first result / floor | first "
            "result runs (s) |",
            "|---|---|---|---|---|",
            *rows,
            "",
            "Targets: window <= 1.5 s and first AI result <= 3 s (issue 14); first result <= "
            "1.3x the floor (issue 19 item 4); the floor is the development interpreter's.",
            "",
        ]
    )
    RESULTS.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
