"""What the benchmark scripts share: one timer and one way to write a result section."""

from __future__ import annotations

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
