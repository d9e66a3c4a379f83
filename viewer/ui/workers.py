"""Run core work off the GUI thread.

Why: a 3000 x 3000 JPEG 2000 decode takes over a second, ``import torch`` two to three, a
DenseNet-121 forward pass half a second; any of them on the GUI thread freezes the window
(DESIGN.md, "Layers"). Each job is a plain callable ``fn(progress, cancelled) -> result`` that
runs in a ``QThreadPool``; its outcome comes back to the GUI thread through a signals
``QObject`` (queued connection), tagged with the caller's request id so a result for an image
the reader has already left is dropped by the caller. Only the GUI thread touches widgets.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal

from viewer.errors import BedsideError
from viewer.session.prewarm import launch_mark

__all__ = ["Job", "JobRunner", "error_text", "launch_mark", "tune_interpreter"]

ProgressFn = Callable[[object], None]
CancelledFn = Callable[[], bool]
JobFn = Callable[[ProgressFn, CancelledFn], Any]


class WorkerSignals(QObject):
    """Signals of one job; created on the GUI thread so its slots run there."""

    progress = Signal(object)
    result = Signal(object)
    error = Signal(object)  # a BedsideError (human sentence) or another Exception
    finished = Signal()


_thread_state = threading.local()


def lower_thread_priority(nice: int) -> None:
    """Raise this thread's nice value once (Linux: per thread; no-op elsewhere or on failure).

    Why: with two cores, torch's two intra-op threads plus a folder scan can keep the GUI thread
    off the CPU for hundreds of ms. Threads the worker starts later (torch's OpenMP pool is
    created on first use, from the worker) inherit the value, so the GUI thread wins the CPU.
    """
    if nice <= 0 or getattr(_thread_state, "nice", 0) >= nice:
        return
    _thread_state.nice = nice
    setpriority = getattr(os, "setpriority", None)
    if setpriority is None or not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        setpriority(os.PRIO_PROCESS, tid, min(19, max(current, nice)))
    except OSError:
        pass


class Job(QRunnable):
    """One callable run on a pool thread; cancellation is cooperative (``cancel()``)."""

    def __init__(self, fn: JobFn, *, name: str = "", nice: int = 0) -> None:
        super().__init__()
        self.nice = nice
        self.setAutoDelete(False)  # Python owns it; the JobRunner drops it when finished
        self.fn = fn
        self.name = name
        self.signals = WorkerSignals()
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> None:
        lower_thread_priority(self.nice)
        try:
            value = self.fn(self.signals.progress.emit, self._cancel.is_set)
        except BedsideError as exc:
            self.signals.error.emit(exc)
        except Exception as exc:  # a bug or a library failure: report it, never kill the app
            self.signals.error.emit(exc)
        else:
            self.signals.result.emit(value)
        finally:
            self.signals.finished.emit()


class JobRunner(QObject):
    """Owns a thread pool and its jobs in flight: none is collected early or outlives the window."""

    def __init__(
        self,
        max_threads: int,
        parent: QObject | None = None,
        *,
        name: str = "",
        nice: int = 0,
        expiry_ms: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.nice = nice
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        if expiry_ms is not None:  # Qt's default keeps an idle thread for 30 s
            self.pool.setExpiryTimeout(expiry_ms)
        self.pool.setObjectName(name)
        self._jobs: set[Job] = set()
        # Plain Python state, readable even after the Qt side is deleted: once shut down, results
        # still queued in the event loop are dropped instead of reaching deleted widgets.
        self._gate = {"open": True}

    def submit(
        self,
        fn: JobFn,
        *,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
        priority: int = 0,
        name: str = "",
    ) -> Job:
        job = Job(fn, name=name, nice=self.nice)
        gate = self._gate
        for signal, slot in (
            (job.signals.result, on_result),
            (job.signals.error, on_error),
            (job.signals.progress, on_progress),
        ):
            if slot is not None:
                signal.connect(_guarded(gate, slot))
        jobs = self._jobs
        job.signals.finished.connect(lambda j=job: jobs.discard(j))
        self._jobs.add(job)
        self.pool.start(job, priority)
        return job

    def active(self) -> int:
        return len(self._jobs)

    def cancel_all(self) -> None:
        for job in list(self._jobs):
            job.cancel()
            if self.pool.tryTake(job):  # never started: it will not emit finished
                self._jobs.discard(job)

    def shutdown(self, timeout_ms: int = -1) -> bool:
        """Cancel everything and wait for running jobs (used by closeEvent and tests)."""
        self._gate["open"] = False
        self.cancel_all()
        return self.pool.waitForDone(timeout_ms)


def _guarded(gate: dict[str, bool], slot: Callable[[Any], None]) -> Callable[[Any], None]:
    def call(value: Any) -> None:
        if gate["open"]:
            slot(value)

    return call


def error_text(exc: BaseException) -> str:
    """The sentence shown to the reader: a BedsideError as written, anything else generically."""
    if isinstance(exc, BedsideError):
        return str(exc)
    return QCoreApplication.translate("Workers", "Unexpected internal error ({0}: {1}).").format(
        type(exc).__name__, exc
    )


def tune_interpreter() -> None:
    """Keep the GUI thread's waits short while Python workers run (called once at start-up).

    A worker parsing DICOM headers in Python holds the GIL for up to the switch interval (5 ms
    by default) each time the GUI thread asks for it; 1 ms bounds that wait. ``gc.freeze()``
    moves the start-up objects (Qt wrappers, modules) out of the cyclic collector's scans so a
    full collection does not pause the GUI for tens of ms.
    """
    import gc

    sys.setswitchinterval(0.001)
    gc.freeze()
