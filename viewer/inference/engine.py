"""Running the network: a recorded thread count, no autograd, float32 logits out.

torch's intra-op thread count is process-global and changes how reductions are split, so the
Predictor sets it before every forward and records it with every result (DESIGN: determinism:
the same input gives the same scores at the same thread count). torch is imported lazily:
importing this module stays cheap for the GUI thread.

Thread policy (issue 19.3). ``threads="auto"`` (the default setting) chooses, before each
forward, as many threads as there are cores the *other* processes left free (at least 1, at
most the cores torch may use): the CPU time all cores spent busy since the previous choice
(``/proc/stat``), minus this process's own CPU time, over the wall time between the two. Why:
OpenMP's threads wait for each other at every layer, spinning; on a 2-core machine busy with two
other processes a second thread makes a DenseNet-121 forward 2-5x slower than one thread, while
on an idle machine two threads are about 1.4x faster than one (bench/bench_threads.py). A
passive OpenMP wait policy (``OMP_WAIT_POLICY=PASSIVE``, read once when torch loads OpenMP) was
measured too: it rescues two threads on a busy machine but costs about 1.6x on an idle one, so
it is not set. Where ``/proc/stat`` is missing the 1-minute load average stands in.
"""

from __future__ import annotations

import math
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from viewer.errors import InferenceError

if TYPE_CHECKING:
    import torch

__all__ = [
    "AUTO",
    "ThreadSetting",
    "choose_threads",
    "configure_threads",
    "prime_threads",
    "resolve_threads",
    "run_model",
]

AUTO = "auto"
ThreadSetting = int | Literal["auto"]

_MAX_THREADS = 64
_MIN_WINDOW_S = 0.05  # a shorter sample is mostly rounding (the kernel counts in 10 ms ticks)
_STALE_S = 10.0  # an older sample says little about now: sample afresh


def _busy_seconds() -> float | None:
    """CPU seconds all cores have spent busy since boot (``/proc/stat``), or None."""
    try:
        with Path("/proc/stat").open("rb") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != b"cpu" or len(fields) < 5:
        return None
    ticks = [int(f) for f in fields[1:9]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks) - idle) / float(os.sysconf("SC_CLK_TCK"))


class _LoadSampler:
    """How many cores other processes keep busy, from the CPU time since the last sample."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[float, float, float] | None = None  # wall, busy, own CPU
        self._others = 0.0

    def _now(self) -> tuple[float, float, float] | None:
        busy = _busy_seconds()
        if busy is None:
            return None
        return (time.monotonic(), busy, time.process_time())

    def prime(self) -> None:
        """Start a sample window now (a first choice then needs no wait)."""
        with self._lock:
            self._last = self._now()

    def others(self) -> float:
        """Cores busy with other processes' work (0 .. cores)."""
        with self._lock:
            now = self._now()
            if now is None:
                return max(0.0, os.getloadavg()[0] - 1.0) if hasattr(os, "getloadavg") else 0.0
            last = self._last
            if last is None or now[0] - last[0] > _STALE_S:
                time.sleep(_MIN_WINDOW_S)
                last, now = now, self._now()
                if now is None:  # pragma: no cover - /proc/stat vanished in between
                    return 0.0
            wall = now[0] - last[0]
            if wall >= _MIN_WINDOW_S:
                own = now[2] - last[2]
                self._others = max(0.0, (now[1] - last[1] - own) / wall)
                self._last = now
            return self._others


_SAMPLER = _LoadSampler()


def prime_threads() -> None:
    """Begin measuring the other processes' load now (called when a model is loaded)."""
    _SAMPLER.prime()


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def choose_threads(limit: int | None = None) -> int:
    """The ``"auto"`` thread count: the cores other processes leave free, rounded to the
    nearest whole core, at least 1 and at most ``limit`` (default: the usable cores)."""
    cores = _usable_cores()
    top = max(1, min(limit or cores, cores, _MAX_THREADS))
    free = cores - _SAMPLER.others()
    return max(1, min(top, math.floor(free + 0.5)))


def resolve_threads(setting: ThreadSetting) -> int:
    """A thread setting (a count or ``"auto"``) as the count for the next forward."""
    if setting == AUTO:
        return choose_threads()
    if isinstance(setting, bool) or not isinstance(setting, int):
        raise InferenceError(f"Inference threads must be a number or 'auto', not {setting!r}.")
    return setting


def configure_threads(threads: int) -> int:
    """Set torch's intra-op threads (1..64) and return the value torch reports back."""
    import torch

    if not 1 <= threads <= _MAX_THREADS:
        raise InferenceError(f"Inference threads must be between 1 and 64, not {threads}.")
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return int(torch.get_num_threads())


def run_model(model: torch.nn.Module, tensor: np.ndarray) -> np.ndarray:
    """One image (C, H, W) float32 through the model in eval mode: float32 logits (L,)."""
    import torch

    if tensor.ndim != 3 or tensor.dtype != np.float32:
        raise InferenceError(
            f"The network input must be float32 (C, H, W), not {tensor.dtype} {tensor.shape}."
        )
    x = torch.from_numpy(np.ascontiguousarray(tensor))[None]
    if model.training:
        model.eval()
    try:
        with torch.inference_mode():
            out = model(x)
    except (RuntimeError, ValueError) as exc:
        raise InferenceError(f"The model could not process this image: {exc}") from exc
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != 1:
        raise InferenceError("The model returned an output of an unexpected shape.")
    return np.ascontiguousarray(out[0].detach().to(torch.float32).numpy())
