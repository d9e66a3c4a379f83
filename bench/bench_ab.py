"""Whole-process A/B: this tree against an earlier commit, interleaved, on the same machine.

    .venv/bin/python bench/bench_ab.py [--base REV] [--runs 7]   # writes bench/results/ab.md

Why: a refactor must not make a user wait longer, and on a shared, noisy machine a figure taken
at another time is no reference (BENCHMARKS.md). So each run alternates A (the base commit,
checked out read-only in a temporary git worktree) and B (this working tree), in one process
tree, with the same venv, data-dir layout and inputs, and reports medians, their ratio and the
load average before and after.

Figures (each a fresh process, as users meet them):
- launch: ``run_gui`` in demo mode on one generated CR, to the window shown and to the first AI
  result on screen (``BEDSIDE_UI_TIMING`` marks; offscreen Qt);
- batch: ``python -m viewer --demo infer FOLDER --bundle DEMO --json`` over 40 generated images
  (B also records two audit rows per image: that is the feature, and it is in the figure);
- help: ``python -m viewer --help`` (command start-up).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
RESULTS = ROOT / "bench" / "results" / "ab.md"

DIRECT = (
    "import sys;from pathlib import Path;from viewer.config import load_settings;"
    "import viewer.ui.app as a;"
    "sys.exit(a.run_gui(load_settings(demo=True),paths=[Path(sys.argv[1])],demo_study=False))"
)


def _env(tree: Path, data: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(tree),
        QT_QPA_PLATFORM="offscreen",
        BEDSIDE_DATA_DIR=str(data),
        BEDSIDE_SITE_CONFIG=str(data.parent / "site.toml"),
        BEDSIDE_UI_TIMING="1",
        BEDSIDE_UI_EXIT_AFTER_RESULT="1",
    )
    return env


def _fresh_data(work: Path) -> Path:
    data = Path(tempfile.mkdtemp(prefix="data-", dir=work))
    (data.parent / "site.toml").write_text("", encoding="utf-8")
    return data


def launch(tree: Path, work: Path, sample: Path) -> dict[str, float]:
    from bench.bench_ui import launch_marks

    argv = [str(PYTHON), "-c", DIRECT, str(sample)]
    window, first = launch_marks(argv, _env(tree, _fresh_data(work)), cwd=tree)
    return {"window": window, "first_result": first}


def batch(tree: Path, work: Path, folder: Path) -> dict[str, float]:
    bundle = tree / "resources" / "demo" / "demo-cxr.bundle"
    argv = [str(PYTHON), "-m", "viewer", "--demo", "infer", str(folder), "--bundle", str(bundle)]
    t = time.perf_counter()
    proc = subprocess.run(
        [*argv, "--json", "--threads", "2"],
        env=_env(tree, _fresh_data(work)),
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    took = time.perf_counter() - t
    lines = [x for x in proc.stdout.splitlines() if x.strip()]
    if proc.returncode != 0 or len(lines) != len(list(folder.glob("*.dcm"))):
        raise RuntimeError(f"batch failed in {tree}: {proc.stderr[-1500:]}")
    return {"batch": took}


def help_start(tree: Path, work: Path) -> dict[str, float]:
    t = time.perf_counter()
    subprocess.run(
        [str(PYTHON), "-m", "viewer", "--help"],
        env=_env(tree, _fresh_data(work)),
        cwd=tree,
        capture_output=True,
        timeout=60,
        check=True,
    )
    return {"help": time.perf_counter() - t}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--base",
        default=os.environ.get("BEDSIDE_AB_BASE", "HEAD"),
        help="the commit to compare against (A); default $BEDSIDE_AB_BASE or HEAD (so `make "
        "bench` compares uncommitted work with the last commit)",
    )
    parser.add_argument(
        "--head",
        default="",
        help="a commit for B instead of this working tree (e.g. HEAD while others edit files)",
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--only",
        action="append",
        choices=("launch", "batch", "help"),
        help="measure only these figures (repeatable; default all three)",
    )
    parser.add_argument("--images", type=int, default=40)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from viewer.dicom.synthetic import make_cxr, write_demo_set

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp:
        work = Path(tmp)
        base_tree = work / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "-q", str(base_tree), args.base],
            cwd=ROOT,
            check=True,
        )
        head_tree = ROOT
        if args.head:
            head_tree = work / "head"
            subprocess.run(
                ["git", "worktree", "add", "--detach", "-q", str(head_tree), args.head],
                cwd=ROOT,
                check=True,
            )
        try:
            sample = work / "sample.dcm"
            make_cxr(3, opacity=True, size=(2048, 2048)).save_as(sample, enforce_file_format=True)
            folder = work / "batch"
            write_demo_set(folder, n=args.images, seed=5, size=(1024, 1024))
            trees = {"A": base_tree, "B": head_tree}
            figures: dict[str, dict[str, list[float]]] = {"A": {}, "B": {}}
            every: dict[str, Callable[[Path], dict[str, float]]] = {
                "launch": lambda tree: launch(tree, work, sample),
                "batch": lambda tree: batch(tree, work, folder),
                "help": lambda tree: help_start(tree, work),
            }
            steps = [step for name, step in every.items() if not args.only or name in args.only]
            for run in range(args.runs):
                for step in steps:
                    for side in ("A", "B") if run % 2 == 0 else ("B", "A"):
                        for name, value in step(trees[side]).items():
                            figures[side].setdefault(name, []).append(value)
                print(f"run {run + 1}/{args.runs} done", flush=True)
        finally:
            for tree in {base_tree, head_tree} - {ROOT}:
                subprocess.run(
                    ["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False
                )
    load_after = os.getloadavg()
    head = subprocess.run(
        ["git", "rev-parse", "--short", args.head or "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    lines = [
        "## Whole-process A/B (bench/bench_ab.py)",
        "",
        f"A = `{args.base}`, B = "
        + (f"`{args.head}` (`{head}`)" if args.head else f"this tree (HEAD `{head}` + changes)")
        + "; "
        f"{args.runs} interleaved runs each (A,B / B,A alternating), medians. Load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after.",
        "",
        "| figure | A (base) | B (this tree) | B / A |",
        "|---|---|---|---|",
    ]
    labels = {
        "window": "launch to window shown (s)",
        "first_result": "launch to first AI result (s)",
        "batch": f"`infer` over {args.images} images of 1024 x 1024, fresh process (s)",
        "help": "`python -m viewer --help` (s)",
    }
    for name, label in labels.items():
        if name not in figures["A"]:
            continue
        a = statistics.median(figures["A"][name])
        b = statistics.median(figures["B"][name])
        lines.append(f"| {label} | {a:.3f} | {b:.3f} | {b / a:.2f} |")
    text = "\n".join(lines) + "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
