"""What the benchmark scripts share: one timer and one way to write a result section."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def timed(fn: Callable[[], Any]) -> float:
    """Milliseconds ``fn()`` took (wall clock, perf_counter)."""
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def write_section(path: Path, lines: Sequence[str]) -> None:
    """Write a bench's section for BENCHMARKS.md (bench/run_all.py gathers them) and print it."""
    text = "\n".join(lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(text)


def bench_site(work: Path) -> tuple[dict[str, str], Path]:
    """A site folder trusting a fresh signing key, and a data folder, both under ``work``; this
    process's environment points at them. Returns that environment (for the commands a bench
    starts) and the private key's path (to sign the bench's bundles)."""
    from viewer.bundle.keys import generate_keypair

    root = Path(__file__).resolve().parents[1]
    site = work / "site"
    (site / "trusted-keys").mkdir(parents=True)
    (site / "site.toml").write_text("", encoding="utf-8")
    env = dict(os.environ, BEDSIDE_SITE_CONFIG=str(site / "site.toml"),
               BEDSIDE_DATA_DIR=str(work / "data"), PYTHONPATH=str(root))  # fmt: skip
    os.environ.update(env)
    gen = generate_keypair(work / "key")
    (site / "trusted-keys" / "b.pub.pem").write_bytes(Path(gen.public_path).read_bytes())
    return env, Path(gen.private_path)
