"""The model code imported from the moment the window process starts (issue 19 item 4).

Why: ``import torch`` is about two thirds of the wait for the first AI result. Imported by the
model job after the window was shown and after the audit log had opened, it was serial with both
(first result 1.40x a bare ``python -c "import torch"``). :func:`start_prewarm` starts it in a
plain thread before Qt is imported, so it overlaps the window build, the audit log opening and
the first decode; the load job (the GUI's ``ai`` worker) waits for it with :meth:`Prewarm.wait`.

What it never does: call torch (only the ``ai`` worker runs torch code: a second OpenMP team
halves every forward, ARCHITECTURE.md "Threads"), choose, verify or load a model, or write the
audit log. The load job runs :func:`viewer.session.models.open_model` unchanged after it —
signature, weights, self-test, ``bundle_verified`` row — so no result is ever shown from a
bundle that was not verified and self-tested. A failed import is kept, not raised: the load job
imports again and reports the failure as a model refusal, in the window.

``libtorch_cpu`` is opened first through :mod:`ctypes`, which lets go of the GIL while the
dynamic linker maps and relocates it (~0.17 s here; Python's own extension import holds the GIL
for it, and the window's GUI thread waits). It is the library torch's ``_C`` extension links
against, opened with the same (local) symbol scope, so torch finds it loaded (one copy; the
frozen app keeps the same ``torch/lib`` layout). Best effort: another platform or a build
without these files just skips the step.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["Prewarm", "launch_mark", "start_prewarm"]

Mark = Callable[[str], None]


def launch_mark(event: str) -> None:
    """Launch timing for bench/bench_frozen_launch.py and bench/bench_ui.py
    (``BEDSIDE_UI_TIMING=1``): one line on stderr, wall-clock seconds. Qt-free, so the moments
    before Qt is imported are marked too."""
    if os.environ.get("BEDSIDE_UI_TIMING"):
        print(f"BEDSIDE_TIMING {event} {time.time():.6f}", file=sys.stderr, flush=True)


# What the window's GUI thread would otherwise import itself a moment after it is shown: the
# first image's ``image_opened`` row needs ``viewer.bundle.profile``, and the package's import
# (pydantic models, ~0.1 s) was the longest GUI stall of the launch (170-270 ms under load);
# the opened log starts its forwarders. Imported first, before torch; neither imports torch.
GUI_MODULES = ("viewer.bundle", "viewer.audit.destinations")

# What the load job imports after torch: the bundle loader, the store, the predictor, the
# safetensors reader (each a few to tens of ms; imported here, they cost the job nothing).
MODEL_MODULES = (
    "safetensors.torch",
    "viewer.bundle.architectures",
    "viewer.bundle.loader",
    "viewer.bundle.store",
    "viewer.bundle.trust",
    "viewer.inference.predict",
    "viewer.inference.selftest",
)


def import_gui_modules() -> None:
    """:data:`GUI_MODULES`, as plain imports (the import contract sees each one)."""
    import viewer.audit.destinations
    import viewer.bundle  # noqa: F401


def import_model_modules(mark: Mark) -> None:
    """torch, then :data:`MODEL_MODULES`, as plain imports."""
    import torch  # noqa: F401  (the seconds this thread is for)

    mark("prewarm_torch")
    import safetensors.torch  # noqa: F401

    import viewer.bundle.architectures
    import viewer.bundle.loader
    import viewer.bundle.store
    import viewer.bundle.trust
    import viewer.inference.predict
    import viewer.inference.selftest  # noqa: F401


class Prewarm:
    """One background import of torch and the model modules; :meth:`wait` from any thread."""

    def __init__(
        self,
        *,
        mark: Mark | None = None,
        models: Callable[[Mark], None] = import_model_modules,
        first: Callable[[], None] = import_gui_modules,
    ) -> None:
        self._done = threading.Event()
        self._mark = mark or (lambda _name: None)
        self._models = models
        self._first = first
        self.error: BaseException | None = None  # kept for the report; the load job re-imports
        self._thread = threading.Thread(target=self._run, name="bedside-prewarm", daemon=True)

    def start(self) -> Prewarm:
        self._thread.start()
        return self

    def _run(self) -> None:
        import gc

        # torch's import makes about a million objects: the cyclic collector's full passes over
        # them took 20-60 ms each with the GIL held, and the GUI thread waited through each.
        # None runs until the imports end; then they join the frozen start-up objects it never
        # scans again (as ``tune_interpreter`` does for the window's).
        collecting = gc.isenabled()
        gc.disable()
        try:
            _preload_libtorch()
            self._mark("prewarm_linked")
            self._first()
            self._models(self._mark)
            self._mark("prewarm_done")
        except Exception as exc:  # kept: the load job imports again and says why, in the window
            self.error = exc
        finally:
            if collecting:
                gc.freeze()
                gc.enable()
            self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float, *, cancelled: Callable[[], bool] | None = None) -> bool:
        """Block until the imports finished (or failed); False after ``timeout`` seconds or
        once ``cancelled()`` says so (a window closing does not wait for torch).

        The load job waits here rather than importing beside this thread: two threads inside
        one package's import can meet a partly initialised module."""
        end = time.monotonic() + timeout
        while not self._done.wait(min(0.05, max(0.0, end - time.monotonic()))):
            if time.monotonic() >= end or (cancelled is not None and cancelled()):
                return False
        return True


def _preload_libtorch() -> None:
    """Map ``torch/lib/libtorch_cpu.so`` with the GIL released (see the module docstring)."""
    import ctypes
    import importlib.util

    if not sys.platform.startswith("linux"):
        return
    spec = importlib.util.find_spec("torch")
    if spec is None or spec.origin is None:
        return
    lib = Path(spec.origin).parent / "lib"
    deps, cpu = lib / "libtorch_global_deps.so", lib / "libtorch_cpu.so"
    if not (deps.is_file() and cpu.is_file()):
        return
    try:
        # the same order and scope torch uses: its global deps (OpenMP) globally, then the
        # library its extension needs, locally
        ctypes.CDLL(str(deps), mode=ctypes.RTLD_GLOBAL)
        ctypes.CDLL(str(cpu))
    except OSError:
        return


def start_prewarm(*, mark: Mark | None = None) -> Prewarm:
    """Start importing torch and the model modules now, in a daemon thread."""
    return Prewarm(mark=mark).start()
