"""Install time and size: a fresh venv with the project installed (as `make` does), the frozen
app's size if it was built, and the time from `bedside --version` to exit (CLI start-up)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "install.md"


def tree_mb(path: Path) -> float:
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return total / 1e6


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bedside-venv-") as tmp:
        venv = Path(tmp) / "venv"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(ROOT)],
            check=True,
        )
        install_s = time.perf_counter() - start
        runtime_mb = tree_mb(venv)
        starts = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run(
                [str(venv / "bin" / "bedside"), "--version"], check=True, capture_output=True
            )
            starts.append(time.perf_counter() - t)
    median_ms = statistics.median(starts) * 1000
    dev_mb = tree_mb(ROOT / ".venv") if (ROOT / ".venv").is_dir() else float("nan")
    frozen = ROOT / "dist" / "bedside"
    frozen_txt = f"{tree_mb(frozen):.0f} MB" if frozen.is_dir() else "not built (run `make freeze`)"
    lines = [
        "## Install and size\n",
        "| what | figure |",
        "|---|---|",
        f"| fresh venv + `pip install .` (runtime deps, local wheel cache) | {install_s:.0f} s |",
        f"| runtime venv size | {runtime_mb:.0f} MB |",
        f"| development `.venv` size (with dev tools) | {dev_mb:.0f} MB |",
        f"| frozen one-dir app `dist/bedside` | {frozen_txt} |",
        f"| `bedside --version` wall time, median of 5 | {median_ms:.0f} ms |",
        "",
    ]
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
