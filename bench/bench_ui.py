"""GUI benchmarks: GUI-thread stalls under load, launch-to-window and launch-to-first-AI-result.

    .venv/bin/python bench/bench_ui.py          # writes bench/results/ui.md
    .venv/bin/python bench/bench_ui.py prefetch # writes bench/results/prefetch.md only

Stall probe: a 5 ms QTimer on the GUI thread records the longest gap between its ticks while
(a) a 1,000-file folder is indexed by the study browser (and its thumbnails start),
(b) a DenseNet-121 forward pass (1 x 224 x 224 and 1 x 512 x 512, 2 threads) runs in the window's
    AI worker, (c) window/level is dragged on a 3000 x 3000 12-bit image (one mouse move every
    8 ms, as a 125 Hz mouse, for 3 s).
A gap well above 5 ms is time the GUI thread could not react. Reference: the same probe with
nothing running (the timer's own jitter).

Launch: ``bedside --demo open FILE`` as a subprocess (median of 5), timed from just before the
process starts to the first event-loop turn after ``show()`` and to the first AI result on screen;
reference: a bare PySide6 QMainWindow process timed the same way. Targets (issue 7): no stall over
50 ms, window <= 1.5 s, first AI result <= 3 s.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import write_section  # noqa: E402 - after the path

RESULTS = ROOT / "bench" / "results" / "ui.md"
PREFETCH_RESULTS = ROOT / "bench" / "results" / "prefetch.md"  # written by its part alone too
BEDSIDE = ROOT / ".venv" / "bin" / "bedside"
PYTHON = ROOT / ".venv" / "bin" / "python"


class StallProbe:
    """Max gap between ticks of a 5 ms timer on the GUI thread."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self._last = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last:
            self.gaps.append((now - self._last) * 1000)
        self._last = now

    def start(self) -> None:
        self.gaps = []
        self._last = 0.0
        self.timer.start()

    def stop(self) -> dict[str, float]:
        self.timer.stop()
        g = sorted(self.gaps) or [0.0]
        return {
            "max_ms": g[-1],
            "p99_ms": g[min(len(g) - 1, int(len(g) * 0.99))],
            "median_ms": statistics.median(g),
            "ticks": float(len(g)),
        }


def run_until(app: Any, done: Callable[[], bool], timeout_s: float) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    end = time.perf_counter() + timeout_s
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(10)
    poll.timeout.connect(lambda: loop.quit() if done() or time.perf_counter() > end else None)
    poll.start()
    if not done():
        loop.exec()
    poll.stop()
    if not done():
        raise RuntimeError("timed out")


def idle_reference(app: Any, probe: StallProbe) -> dict[str, float]:
    probe.start()
    end = time.perf_counter() + 2.0
    run_until(app, lambda: time.perf_counter() > end, 5)
    return probe.stop()


def stall_index(app: Any, probe: StallProbe, tmp: Path) -> tuple[dict[str, float], float]:
    from viewer.config import load_settings
    from viewer.dicom.synthetic import write_demo_set
    from viewer.ui.qt_main_window import QtMainWindow

    folder = tmp / "cd1000"
    write_demo_set(folder, n=1000, seed=7, size=(128, 128))
    window = QtMainWindow(load_settings(demo=False))
    window.show()
    finished: list[Any] = []
    window.browser.scan_finished.connect(finished.append)
    probe.start()
    t0 = time.perf_counter()
    window.browser.scan([folder])
    run_until(app, lambda: bool(finished), 300)
    elapsed = time.perf_counter() - t0
    # keep probing while the first thumbnails decode in the background
    end = time.perf_counter() + 2.0
    run_until(app, lambda: time.perf_counter() > end, 5)
    result = probe.stop()
    n = len(finished[0])
    window.close()
    window.shutdown()
    assert n == 1000, n
    return result, elapsed


def stall_densenet(app: Any, probe: StallProbe, size: int) -> tuple[dict[str, float], float]:
    from viewer.config import load_settings
    from viewer.ui.qt_main_window import QtMainWindow

    window = QtMainWindow(load_settings(demo=False))
    window.show()
    out: list[float] = []

    def job(_p: Any, _c: Any) -> float:
        import numpy as np
        import torch

        from viewer.bundle.architectures import build_model

        torch.set_num_threads(2)
        torch.manual_seed(0)
        model = build_model("densenet121", in_channels=1, num_labels=14).eval()
        x = torch.from_numpy(np.random.default_rng(0).random((1, 1, size, size), np.float32))
        with torch.inference_mode():
            model(x)  # warm-up outside the timing
            t = time.perf_counter()
            model(x)
            return (time.perf_counter() - t) * 1000

    # warm-up run (torch import and model build) without the probe, then the measured one
    window.ai.submit(job, on_result=out.append)
    run_until(app, lambda: len(out) == 1, 300)
    probe.start()
    window.ai.submit(job, on_result=out.append)
    run_until(app, lambda: len(out) == 2, 300)
    result = probe.stop()
    window.close()
    window.shutdown()
    return result, out[1]


def _drag_while_probing(
    app: Any, probe: StallProbe, view: Any, button: Any, start: Any, offset: Any
) -> tuple[Callable[..., None], int]:
    """Press ``button`` at ``start``, start the probe, move to start + offset(i) every 8 ms for
    3 s with a repaint per move (as a real screen paints); returns the event sender and the
    number of moves. The caller releases the button and stops the probe."""
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    def send(kind: Any, pos: Any, button: Any, buttons: Any) -> None:
        ev = QMouseEvent(kind, pos, pos, button, buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(view, ev)

    send(QMouseEvent.Type.MouseButtonPress, start, button, button)
    step = [0]
    mover = QTimer()
    mover.setTimerType(Qt.TimerType.PreciseTimer)
    mover.setInterval(8)

    def move() -> None:
        step[0] += 1
        send(QMouseEvent.Type.MouseMove, start + offset(step[0]), Qt.MouseButton.NoButton, button)
        view.repaint()

    mover.timeout.connect(move)
    probe.start()
    mover.start()
    end = time.perf_counter() + 3.0
    run_until(app, lambda: time.perf_counter() > end, 10)
    mover.stop()
    return send, step[0]


def stall_drag(app: Any, probe: StallProbe, tmp: Path) -> tuple[dict[str, float], dict[str, float]]:
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QMouseEvent

    from viewer.dicom import DisplayRenderer, read_image
    from viewer.dicom.synthetic import make_cxr
    from viewer.ui.qt_image_view import QtImageView, make_preview

    path = tmp / "big3000.dcm"
    make_cxr(11, opacity=True, size=(3000, 3000)).save_as(path, enforce_file_format=True)
    image = read_image(path)
    view = QtImageView()
    view.resize(1100, 950)
    view.show()
    view.set_image(image, DisplayRenderer(image), make_preview(image))  # as the app does
    app.processEvents()
    renderer = DisplayRenderer(image)
    renderer.render(image.default_window)
    t = time.perf_counter()
    renderer.render(image.auto_window)  # a window not cached yet: LUT + full-size lookup
    full_ms = (time.perf_counter() - t) * 1000
    run_until(app, view.render_idle, 30)

    start = QPointF(550, 475)
    right = Qt.MouseButton.RightButton
    renders0 = view.render_count
    send, moves = _drag_while_probing(
        app, probe, view, right, start, lambda i: QPointF((i % 200) - 100, ((i // 3) % 160) - 80)
    )
    t = time.perf_counter()
    send(QMouseEvent.Type.MouseButtonRelease, start, right, Qt.MouseButton.NoButton)
    release_ms = (time.perf_counter() - t) * 1000
    run_until(app, view.render_idle, 30)  # the full-resolution render arrives from the worker
    view.repaint()
    end = time.perf_counter() + 0.3
    run_until(app, lambda: time.perf_counter() > end, 5)
    result = probe.stop()
    extra = {
        "moves": float(moves),
        "renders": float(view.render_count - renders0),
        "full_render_ms": full_ms,
        "release_full_render_ms": release_ms,
    }
    view.shutdown()
    view.close()
    return result, extra


def stall_annotate(
    app: Any, probe: StallProbe, tmp: Path
) -> tuple[dict[str, float], dict[str, float]]:
    """Drawing an ellipse ROI on a 3000 x 3000 image: its statistics follow every move (issue 14
    item 2), on the GUI thread, so each move's cost is what the probe sees."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QMouseEvent

    from viewer.dicom import DisplayRenderer, read_image
    from viewer.dicom.annotations import roi_stats
    from viewer.dicom.synthetic import make_cxr
    from viewer.ui.qt_image_view import QtImageView, make_preview

    path = tmp / "big3000-annotate.dcm"
    make_cxr(12, opacity=True, size=(3000, 3000)).save_as(path, enforce_file_format=True)
    image = read_image(path)
    times = []
    for _ in range(20):
        t = time.perf_counter()
        roi_stats(
            image.modality,
            "ellipse",
            (500, 500),
            (2500, 2500),
            stored=image.stored,
            header=image.header,
        )
        times.append((time.perf_counter() - t) * 1000)
    view = QtImageView()
    view.resize(1100, 950)
    view.show()
    view.set_image(image, DisplayRenderer(image), make_preview(image))
    run_until(app, view.render_idle, 30)
    view.set_tool("ellipse")

    start = QPointF(250, 200)
    left = Qt.MouseButton.LeftButton
    send, moves = _drag_while_probing(
        app, probe, view, left, start, lambda i: QPointF(100 + (i % 300) * 2, 100 + (i % 250) * 2)
    )
    send(QMouseEvent.Type.MouseButtonRelease, start, left, Qt.MouseButton.NoButton)
    view.repaint()
    result = probe.stop()
    view.shutdown()
    view.close()
    return result, {"moves": float(moves), "roi_ms": statistics.median(times)}


def _timed_launch(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    env["BEDSIDE_DATA_DIR"] = tempfile.mkdtemp(prefix="bedside-bench-")
    return launch_marks(argv, env)


def launch_marks(
    argv: list[str], env: dict[str, str], cwd: Path | None = None
) -> tuple[float, float]:
    """Seconds from just before the process starts to ``window_shown`` and ``first_result``
    (the ``BEDSIDE_UI_TIMING`` marks it prints on stderr); bench_ab.py times launches so too."""
    t0 = time.time()
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=180)
    marks: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        if line.startswith("BEDSIDE_TIMING "):
            _, name, when = line.split()
            marks.setdefault(name, float(when))
    if "window_shown" not in marks or "first_result" not in marks:
        raise RuntimeError(f"launch failed: {proc.returncode} {proc.stderr[-2000:]}")
    return marks["window_shown"] - t0, marks["first_result"] - t0


def launch_times(sample: Path, runs: int = 5) -> dict[str, list[float]]:
    env = dict(os.environ, BEDSIDE_UI_TIMING="1", BEDSIDE_UI_EXIT_AFTER_RESULT="1")
    env["QT_QPA_PLATFORM"] = "offscreen"
    shown: list[float] = []
    first: list[float] = []
    direct_shown: list[float] = []
    direct_first: list[float] = []
    direct = (
        "import sys;from pathlib import Path;from viewer.config import load_settings;"
        "import viewer.ui.app as a;"
        "sys.exit(a.run_gui(load_settings(demo=True),paths=[Path(sys.argv[1])],demo_study=False))"
    )
    for _ in range(runs):
        w, f = _timed_launch([str(BEDSIDE), "--demo", "open", str(sample)], env)
        shown.append(w)
        first.append(f)
        w, f = _timed_launch([str(PYTHON), "-c", direct, str(sample)], env)
        direct_shown.append(w)
        direct_first.append(f)
    ref_code = (
        "import time,sys;from PySide6.QtWidgets import QApplication,QMainWindow;"
        "from PySide6.QtCore import QTimer;a=QApplication([]);w=QMainWindow();w.show();"
        "QTimer.singleShot(0,lambda:(print('SHOWN',time.time(),file=sys.stderr),a.quit()));a.exec()"
    )
    ref: list[float] = []
    for _ in range(runs):
        t0 = time.time()
        proc = subprocess.run(
            [str(PYTHON), "-c", ref_code], env=env, capture_output=True, text=True, timeout=60
        )
        when = next(float(x.split()[1]) for x in proc.stderr.splitlines() if x.startswith("SHOWN"))
        ref.append(when - t0)
    return {
        "window": shown,
        "first_result": first,
        "direct_window": direct_shown,
        "direct_first_result": direct_first,
        "reference_window": ref,
    }


def stall_sync(app: Any, probe: StallProbe, tmp: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Panning one of two synchronised 3000 x 3000 viewports (issue 14 item 1): the other
    follows every move (``QtViewportGrid``, 1x2, sync on), both repaint."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QMouseEvent

    from viewer.dicom import DisplayRenderer, read_image
    from viewer.dicom.synthetic import make_cxr
    from viewer.ui.qt_image_view import QtImageView, make_preview
    from viewer.ui.qt_viewports import QtViewportGrid

    views = []
    grid = QtViewportGrid(QtImageView(), lambda _path, _ok, _err: None)
    grid.resize(1400, 950)
    grid.set_layout("1x2")
    grid.show()
    for i, seed in enumerate((13, 14)):
        path = tmp / f"big3000-sync{i}.dcm"
        make_cxr(seed, opacity=True, size=(3000, 3000)).save_as(path, enforce_file_format=True)
        image = read_image(path)
        view = grid.viewports[i].view
        view.set_image(image, DisplayRenderer(image), make_preview(image))
        views.append(view)
    for view in views:
        run_until(app, view.render_idle, 30)
    grid.set_sync(True)
    views[0].zoom_by(2.0)
    app.processEvents()
    start = QPointF(300, 400)
    middle = Qt.MouseButton.MiddleButton
    send, moves = _drag_while_probing(
        app,
        probe,
        views[0],
        middle,
        start,
        lambda i: QPointF((i % 200) - 100, ((i // 3) % 160) - 80),
    )
    send(QMouseEvent.Type.MouseButtonRelease, start, middle, Qt.MouseButton.NoButton)
    views[1].repaint()
    result = probe.stop()
    followed = views[1].view_state() == views[0].view_state()
    grid.shutdown()
    views[0].shutdown()
    grid.close()
    return result, {"moves": float(moves), "followed": float(followed)}


def _next_drawn_ms(app: Any, window: Any) -> float:
    """Trigger Next and time it until the new image has been painted (preview or full)."""
    shown: list[str] = []
    window.image_shown.connect(shown.append)
    t = time.perf_counter()
    window.act_next.trigger()
    while not shown:  # a tight loop: run_until's 10 ms poll would blur a hit
        app.processEvents()
        if time.perf_counter() - t > 60:
            raise RuntimeError("timed out")
        if not shown:
            time.sleep(0.0002)
    window.view.repaint()  # synchronous paint of what is on screen now
    ms = (time.perf_counter() - t) * 1000
    window.image_shown.disconnect(shown.append)
    return ms


def prefetch_ab(app: Any, tmp: Path, rounds: int = 7) -> dict[str, Any]:
    """Next -> image drawn on 3000 x 3000 12-bit images: prefetch hit vs prefetch disabled.

    Interleaved: each round runs both arms (order alternating), each on a fresh
    first -> second step in one window; the window runs without a model (no AI job competes).
    """
    from viewer.config import load_settings
    from viewer.dicom.synthetic import make_cxr
    from viewer.ui.qt_main_window import QtMainWindow

    folder = tmp / "prefetch"
    folder.mkdir()
    for i in range(3):
        make_cxr(30 + i, opacity=bool(i % 2), size=(3000, 3000)).save_as(
            folder / f"big{i}.dcm", enforce_file_format=True
        )
    window = QtMainWindow(load_settings(demo=False))
    window.resize(1500, 950)
    window.show()
    window.start([folder])
    run_until(app, lambda: len(window.browser.paths()) == 3, 60)
    order = window.browser.paths()
    times: dict[str, list[float]] = {"hit": [], "off": []}
    load_before = os.getloadavg()
    for r in range(rounds):
        for arm in ("hit", "off") if r % 2 == 0 else ("off", "hit"):
            window._prefetch_enabled = arm == "hit"
            window.open_image(order[0])
            run_until(app, lambda: window.shown.image is not None, 60)
            if arm == "hit":
                run_until(app, lambda: window.prefetched(order[1]), 60)
            run_until(app, window.view.render_idle, 30)
            times[arm].append(_next_drawn_ms(app, window))
            run_until(app, window.view.render_idle, 30)
    load_after = os.getloadavg()
    window.close()
    window.shutdown()
    return {"times": times, "load": (load_before[0], load_after[0])}


def write_prefetch(res: dict[str, Any]) -> str:
    hit, off = (statistics.median(res["times"][k]) for k in ("hit", "off"))
    runs = {k: ", ".join(f"{x:.0f}" for x in v) for k, v in res["times"].items()}
    lines = [
        "## Prefetch: Next on 3000 x 3000 images (bench/bench_ui.py prefetch)",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, Qt platform "
        f"`{os.environ['QT_QPA_PLATFORM']}`; load average before {res['load'][0]:.2f}, after "
        f"{res['load'][1]:.2f}.",
        "",
        "Time from triggering Next to the new image painted (`image_shown`, then a synchronous "
        "repaint), on 3000 x 3000 12-bit uncompressed images (`make_cxr`), no model loaded. "
        f"Interleaved A/B, {len(res['times']['hit'])} rounds, arm order alternating; the "
        "prefetch is turned off through the window's private `_prefetch_enabled`.",
        "",
        "| Next | median | runs (ms) | ratio to no prefetch |",
        "|---|---|---|---|",
        f"| prefetch hit | {hit:.0f} ms | {runs['hit']} | {hit / off:.2f} |",
        f"| prefetch off (decode in the io worker) | {off:.0f} ms | {runs['off']} | 1.00 |",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from viewer.dicom.synthetic import make_cxr

    load0 = os.getloadavg()
    only = set(sys.argv[1:])  # e.g. "drag index": run only those parts, print, write nothing

    def want(part: str) -> bool:
        return not only or part in only

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from viewer.ui.workers import tune_interpreter

    tune_interpreter()  # as run_gui does
    probe = StallProbe()
    rows: list[tuple[str, dict[str, float], str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as d:
        tmp = Path(d)
        os.environ["BEDSIDE_DATA_DIR"] = str(tmp / "data")
        os.environ["BEDSIDE_SITE_CONFIG"] = str(tmp / "site" / "site.toml")
        (tmp / "site").mkdir()
        (tmp / "site" / "site.toml").write_text("", encoding="utf-8")
        print("idle reference ...", flush=True)
        rows.append(("idle (reference: timer jitter)", idle_reference(app, probe), ""))
        if want("index"):
            print("indexing 1000 files ...", flush=True)
            res, secs = stall_index(app, probe, tmp)
            rows.append(("index a 1,000-file folder (+ thumbnails)", res, f"scan {secs:.2f} s"))
        for size in (224, 512) if want("densenet") else ():
            print(f"densenet-121 at {size} ...", flush=True)
            res, ms = stall_densenet(app, probe, size)
            rows.append(
                (f"DenseNet-121 forward, {size} px, 2 threads", res, f"forward {ms:.0f} ms")
            )
        if want("drag"):
            print("window/level drag on 3000 x 3000 ...", flush=True)
            res, extra = stall_drag(app, probe, tmp)
            rows.append(
                (
                    "window/level drag, 3000 x 3000",
                    res,
                    f"{extra['moves']:.0f} moves -> {extra['renders']:.0f} renders; one "
                    f"full-size LUT render {extra['full_render_ms']:.0f} ms (now in a worker); "
                    f"release handler {extra['release_full_render_ms']:.0f} ms",
                )
            )
        if want("annotate"):
            print("drawing an ellipse ROI on 3000 x 3000 ...", flush=True)
            res, extra = stall_annotate(app, probe, tmp)
            rows.append(
                (
                    "drawing an ellipse ROI, 3000 x 3000 (statistics on every move)",
                    res,
                    f"{extra['moves']:.0f} moves; statistics of a 2000 x 2000 px ellipse "
                    f"{extra['roi_ms']:.0f} ms (median of 20)",
                )
            )
        if want("sync"):
            print("panning two synchronised 3000 x 3000 viewports ...", flush=True)
            res, extra = stall_sync(app, probe, tmp)
            rows.append(
                (
                    "panning two synchronised 3000 x 3000 viewports (1x2, sync on)",
                    res,
                    f"{extra['moves']:.0f} moves, the other viewport following each"
                    + ("" if extra["followed"] else " (IT DID NOT FOLLOW)"),
                )
            )
        if want("prefetch"):
            print("Next with and without the prefetch, 3000 x 3000 ...", flush=True)
            text = write_prefetch(prefetch_ab(app, tmp))
            PREFETCH_RESULTS.write_text(text, encoding="utf-8")
            print(text)
        for name, r, note in rows:
            print(name, {k: round(v, 1) for k, v in r.items()}, note)
        if only and "launch" not in only:
            return 0
        sample = tmp / "demo-cxr.dcm"
        make_cxr(3, opacity=True, size=(512, 512)).save_as(sample, enforce_file_format=True)
        print("launch timings (5 runs) ...", flush=True)
        launch = launch_times(sample)
        if only:
            print({k: [round(x, 2) for x in v] for k, v in launch.items()})
            return 0

    med = {k: statistics.median(v) for k, v in launch.items()}
    lines = [
        "## GUI (bench/bench_ui.py)",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, Qt platform `{os.environ['QT_QPA_PLATFORM']}`; "
        f"load average at start {load0[0]:.1f}, at end {os.getloadavg()[0]:.1f} (other "
        "processes share the 2 cores: stalls and latencies grow with the load).",
        "",
        "### GUI-thread stalls (5 ms timer probe; target: max <= 50 ms)",
        "",
        "| while | max gap | p99 gap | median gap | ticks | notes |",
        "|---|---|---|---|---|---|",
    ]
    for name, r, note in rows:
        lines.append(
            f"| {name} | {r['max_ms']:.1f} ms | {r['p99_ms']:.1f} ms | {r['median_ms']:.1f} ms "
            f"| {r['ticks']:.0f} | {note} |"
        )
    lines += [
        "",
        "### Launch (subprocess, median of 5; targets: window <= 1.5 s, first AI result <= 3 s)",
        "",
        "| measure | median | runs | ratio to bare PySide6 window |",
        "|---|---|---|---|",
        f"| bare PySide6 QMainWindow shown (reference) | {med['reference_window']:.2f} s | "
        f"{', '.join(f'{x:.2f}' for x in launch['reference_window'])} | 1.00 |",
        f"| `bedside --demo open FILE`: window shown | {med['window']:.2f} s | "
        f"{', '.join(f'{x:.2f}' for x in launch['window'])} | "
        f"{med['window'] / med['reference_window']:.2f} |",
        f"| `bedside --demo open FILE`: first AI result shown | {med['first_result']:.2f} s | "
        f"{', '.join(f'{x:.2f}' for x in launch['first_result'])} | "
        f"{med['first_result'] / med['reference_window']:.2f} |",
        f"| `run_gui` without the CLI parser: window shown | {med['direct_window']:.2f} s | "
        f"{', '.join(f'{x:.2f}' for x in launch['direct_window'])} | "
        f"{med['direct_window'] / med['reference_window']:.2f} |",
        f"| `run_gui` without the CLI parser: first AI result | "
        f"{med['direct_first_result']:.2f} s | "
        f"{', '.join(f'{x:.2f}' for x in launch['direct_first_result'])} | "
        f"{med['direct_first_result'] / med['reference_window']:.2f} |",
        "",
        "Window shown = first event-loop turn after `show()` (the window has been painted); first "
        "AI result = the AI panel shows the score (torch imported, demo bundle verified, "
        "self-tested, 512 x 512 demo image scored, all in workers).",
        "",
    ]
    write_section(RESULTS, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
