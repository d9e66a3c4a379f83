"""``bedside infer PATH... [--bundle FILE | --model ID] [--json] [--heatmap DIR]``.

Headless scoring over files, folders and DICOMDIRs with the same core as the GUI: the bundle is
verified against the trust store and self-tested before any image is read, each image's header
is checked against the bundle's accepted inputs before it is decoded, and each image gives one
result (``--json``: one JSON object per line on stdout, for other hospital systems). The model is
chosen by the session's one policy (``viewer.session.models.open_model``, as in the window), and
each image goes through the same reading session as in the window, which records it in the audit
log (``image_opened`` and ``ai_result_shown`` rows, no decision; ``"recorded"`` in the result).
Progress goes to stderr when it is a terminal. Exit status: 0 when every image got a score that
was recorded, 1 when any image was refused, failed or could not be recorded (its object says why).

Overlap (issue 19.5), with ``--threads auto`` or a fixed count below the usable cores
(:func:`overlaps`; a fixed count taking every core scores one image after another: measured,
the workers only slowed the forward there). The main thread runs what
touches torch (pixel checks, the stored preprocessing, the forward, heatmaps), image by image in
input order, through the same ``score_image`` as the window. Beside it, two worker threads that
never call torch (a second thread calling torch starts a second OpenMP team and halves every
forward): ``bedside-decode`` reads ``READ_AHEAD`` images ahead (header checks, decode, pixel
digest), and ``bedside-audit`` writes each scored image's rows (``image_opened``,
``ai_result_shown``, in input order) while the network scores the next one, so the log's
``synchronous=FULL`` commits wait on the disk instead of on the forward. While they run, the
GIL's switch interval is 1 ms (``SWITCH_INTERVAL_S``, see :func:`_pipeline`). A result is yielded
only after its rows are written, and rows are written only for results the caller takes.
Threads, not processes: measured on the 2-core bench machine, a decode process slowed the
forward as much as a decode thread did and added the image's transfer (bench/bench_batch.py).

Shadow mode (issue 16 item 1): when the store holds a shadow candidate for the active model, it
scores every scored image after the last active result is out (on the main thread; each image
read again, its pixels checked), recorded as ``shadow_result`` rows and never printed; stopped
early, each reading it did not score gets a row saying so (``viewer.session.shadow``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from viewer.dicom.model import DicomImage, ImageMetadata
from viewer.errors import AuditError, BedsideError, InferenceError, printable, printable_json
from viewer.inference.checks import CheckResult
from viewer.inference.explain import HEATMAP_CAPTION
from viewer.inference.postprocess import score_threshold_text
from viewer.session.models import DEMO_MODEL_WARNING, OpenModel, open_model
from viewer.session.reading import ReadingDesk, ReadingSession, ScoreOutcome, score_image
from viewer.session.shadow import ShadowRunner, record_shadow, store_shadow
from viewer.session.trail import AppendOutcome, AuditTrail

EXIT_OK = 0
SHADOW_NOT_RUN = "The command ended before the shadow candidate scored it."
EXIT_FAILED = 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``infer`` to the root parser."""
    p = sub.add_parser(
        "infer",
        help="score DICOM chest X-rays with a trusted model bundle (headless)",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="DICOM files, folders or DICOMDIRs")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--bundle", metavar="FILE", help="a .bundle file (verified and self-tested)")
    which.add_argument(
        "--model", metavar="ID", help="the active version of an installed model (default: the "
        "most recently activated model)"
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="one JSON object per image on stdout")
    p.add_argument(
        "--heatmap",
        metavar="DIR",
        help="write a Grad-CAM heatmap PNG per positive label into DIR (not a localisation)",
    )
    p.add_argument(
        "--threads",
        type=_threads_arg,
        metavar="N|auto",
        help="torch threads, or auto (the cores other processes leave free, chosen per image; "
        "default: the inference.threads setting); recorded in each result",
    )
    p.set_defaults(func=_cmd_infer)


def _threads_arg(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number or 'auto': {text!r}") from None


# ----------------------------------------------------------------------------- images


def _collect(paths: Sequence[str], progress: _Progress) -> tuple[list[Any], list[dict[str, Any]]]:
    """Image headers in display order, plus per-file errors (as result objects)."""
    from viewer.dicom import iter_scan

    index = None
    for step in iter_scan(paths):
        progress.show(step.done, step.total, "scanning", step.path)
        if step.index is not None:
            index = step.index
    progress.clear()
    errors: list[dict[str, Any]] = []
    if index is None:  # pragma: no cover - iter_scan always ends with an index
        return [], errors
    for err in index.errors:
        errors.append({"file": err.path, "status": "error", "error": err.message})
    for meta in index.non_images:
        errors.append(
            {
                "file": meta.path,
                "sop_instance_uid": meta.sop_instance_uid,
                "status": "error",
                "error": "This DICOM object holds no image to score "
                f"(SOP Class {meta.sop_class_uid}).",
            }
        )
    return index.images(), errors


class _Progress:
    """A one-line progress display on stderr, only when stderr is a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self._width = 0

    def show(self, done: int, total: int, what: str, path: str) -> None:
        if not self.enabled:
            return
        bar_width = 24
        filled = bar_width * done // total if total else bar_width
        name = printable(Path(path).name) if path else ""
        line = f"\r[{'#' * filled}{'.' * (bar_width - filled)}] {done}/{total} {what} {name}"
        self._width = max(self._width, len(line))
        self.stream.write(line.ljust(self._width))
        self.stream.flush()

    def clear(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def _check_dict(c: CheckResult) -> dict[str, Any]:
    """name, level, message, code and params (to translate the message by code)."""
    return asdict(c)


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _write_heatmap(out_dir: Path, stem: str, label: str, heat: np.ndarray) -> Path:
    from PIL import Image

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{_SAFE.sub('_', stem)}_{_SAFE.sub('_', label)}.png"
    pixels = np.round(np.clip(heat, 0.0, 1.0) * 255.0).astype(np.uint8)
    try:
        Image.fromarray(pixels, mode="L").save(path, format="PNG")
    except OSError as exc:
        raise InferenceError(f"Cannot write the heatmap: {exc.strerror or exc}", path=path) from exc
    return path


READ_AHEAD = 2  # images decoded ahead of the forward (memory: a 3000 x 3000 image is ~50 MB)
# the GIL's hand-over interval while the workers run (Python's default: 5 ms), see _pipeline
SWITCH_INTERVAL_S = 0.001


@dataclass(frozen=True)
class _Decoded:
    image: DicomImage | None  # None: refused by the header checks or unreadable (redone inline)
    decode_ms: float | None


def _read_ahead(screen: Callable[[ImageMetadata], object], meta: ImageMetadata) -> _Decoded:
    """In the worker: the header checks, then the decode and the pixel digest the audit rows
    carry (no torch here, ever; hashlib lets go of the GIL while it hashes)."""
    from viewer.dicom import read_image

    try:
        screen(meta)
        t = time.perf_counter()
        image = read_image(meta.path)
    except BedsideError:  # the main thread repeats the step and reports it as before
        return _Decoded(None, None)
    decode_ms = round((time.perf_counter() - t) * 1000.0, 3)
    _ = image.pixel_sha256  # cached on the image: the writer thread reads it
    return _Decoded(image, decode_ms)


def _decoded_in_order(
    screen: Callable[[ImageMetadata], object], metas: Sequence[ImageMetadata]
) -> Generator[tuple[ImageMetadata, _Decoded], None, None]:
    """Each image with its read-ahead result, in input order, ``READ_AHEAD`` images ahead.
    Closed early, the images not yet read are never read."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bedside-decode")
    try:
        pending: list[Future[_Decoded]] = []
        for meta in metas[:READ_AHEAD]:
            pending.append(pool.submit(_read_ahead, screen, meta))
        for i, meta in enumerate(metas):
            if i + READ_AHEAD < len(metas):
                pending.append(pool.submit(_read_ahead, screen, metas[i + READ_AHEAD]))
            yield meta, pending[i].result()
            pending[i] = Future()  # drop the decoded image as soon as it is scored
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class _Scored:
    """What the main thread made of one image (torch's part), for the writer thread."""

    meta: ImageMetadata
    outcome: ScoreOutcome
    decode_ms: float | None
    heatmaps: dict[str, str] | None = None  # label -> PNG path, when --heatmap was given
    heatmap_error: str = ""
    heatmap_ms: float | None = None
    took_ms: float = 0.0


def _score(
    model: OpenModel,
    meta: ImageMetadata,
    *,
    heatmap_dir: Path | None = None,
    image: DicomImage | None = None,
    decode_ms: float | None = None,
) -> _Scored:
    """On the thread that owns torch: header checks, decode (unless read ahead), score, and the
    heatmaps of the positive labels. Writes no audit row."""
    predictor = model.predictor
    t0 = time.perf_counter()
    outcome = score_image(predictor, meta, image=image)
    scored = _Scored(meta, outcome, decode_ms)
    prediction = outcome.prediction
    if heatmap_dir is not None and prediction is not None and outcome.image is not None:
        written: dict[str, str] = {}
        t = time.perf_counter()
        try:
            for label in prediction.positive_labels:
                heat = predictor.heatmap(outcome.image, label)
                stem = meta.sop_instance_uid or Path(meta.path).stem
                written[label] = str(_write_heatmap(heatmap_dir, stem, label, heat))
        except BedsideError as exc:
            scored.heatmap_error = exc.message
        scored.heatmap_ms = round((time.perf_counter() - t) * 1000.0, 3)
        scored.heatmaps = written
    scored.took_ms = (time.perf_counter() - t0) * 1000.0
    return scored


def _record(
    desk: ReadingDesk, model: OpenModel, scored: _Scored
) -> tuple[dict[str, Any], ReadingSession]:
    """One scored image through the reading session: the audit rows the window would write for
    it (no decision), then its result object. Never calls torch (the writer thread runs it)."""
    t0 = time.perf_counter()
    meta, outcome, loaded = scored.meta, scored.outcome, model.loaded
    result: dict[str, Any] = {
        "file": meta.path,
        "sop_instance_uid": meta.sop_instance_uid,
        "demo": desk.settings.demo,
        "demo_model": model.source == "demo",
        "model": {
            "id": loaded.manifest.id,
            "version": loaded.manifest.version,
            "bundle_digest": loaded.digest,
        },
    }
    session = desk.open(meta.path)
    rows: list[AppendOutcome | None] = [session.opened(meta)]
    rows.append(session.scored(outcome))
    result["checks"] = [_check_dict(c) for c in outcome.checks]
    failed_rows = [r.error for r in rows if r is not None and r.error]
    result["recorded"] = not failed_rows
    if failed_rows:
        result["audit_error"] = failed_rows[0]
    prediction = outcome.prediction
    if prediction is None:
        result["status"] = outcome.status
        result["error"] = outcome.message
        return result, session
    result["status"] = "scored"
    result["labels"] = [
        {
            "label": r.label,
            "display_name": r.display_name,
            "score": r.score,
            "raw_score": r.raw_score,
            "threshold": r.threshold,
            "shown_threshold": r.shown_threshold,
            "calibrated": r.calibrated,
            "positive": r.positive,
            "operating_point": r.operating_point,
            "site_threshold": r.site.as_dict() if r.site is not None else None,
        }
        for r in prediction.labels
    ]
    result["threads"] = prediction.threads
    timings = {"decode": outcome.decode_ms or scored.decode_ms, **prediction.timings_ms}
    if scored.heatmaps is not None:
        if scored.heatmap_error:
            result["heatmap_error"] = scored.heatmap_error
        timings["heatmap"] = scored.heatmap_ms
        result["heatmaps"] = scored.heatmaps
        result["heatmap_caption"] = HEATMAP_CAPTION
    timings["total"] = round(scored.took_ms + (time.perf_counter() - t0) * 1000.0, 3)
    result["timings_ms"] = timings
    return result, session


def _human(result: dict[str, Any]) -> str:
    """The human line(s) for one result; every text from a file (the path, the manifest's label
    names, check messages quoting header values) through :func:`printable`."""
    head = printable(result["file"])
    if result["status"] != "scored":
        return f"{head}: {result['status'].upper()}: {printable(result.get('error', ''))}"
    parts = []
    for r in result["labels"]:
        finding = "POSITIVE" if r["positive"] else "negative"
        pair = "(score {}, threshold {}".format(
            *score_threshold_text(r["score"], r["shown_threshold"])
        )
        if r["calibrated"]:
            pair += "; raw score {}, threshold {}".format(
                *score_threshold_text(r["raw_score"], r["threshold"])
            )
        parts.append(f"{printable(r['display_name'] or r['label'])} {finding} {pair})")
    text = f"{head}: " + "; ".join(parts)
    warns = [c for c in result["checks"] if c["level"] == "warning"]
    for c in warns:
        text += f"\n    warning: {printable(c['message'])}"
    for label, path in result.get("heatmaps", {}).items():
        text += f"\n    heatmap {printable(label)}: {printable(path)}"
    return text


def overlaps(threads: int | str) -> bool:
    """Whether the decode and the rows run beside the forward: with ``auto`` (which drops to
    fewer threads when the cores are busy) or a fixed count below the usable cores, not with a
    fixed count that takes every core. Measured on 2 cores (bench/bench_batch.py): at 2 fixed
    threads the worker threads took the cores the forward's OpenMP threads spin-wait on (the
    loop slower than one image after another in every run, up to 9x in one round under other
    programs' load); with ``auto`` neither won consistently (the overlap faster in two runs of
    four: 1.04x against 1.08x and 1.24x against 1.39x the bare forwards; slower in two: 1.06x
    against 1.01x and 1.36x against 1.23x), so it keeps the overlap where a core may be free."""
    if threads == "auto":
        return True
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    return isinstance(threads, int) and threads < cores


def _pipeline(
    desk: ReadingDesk,
    model: OpenModel,
    metas: Sequence[ImageMetadata],
    heatmap_dir: Path | None,
    recorded: Callable[[ReadingSession], None],
) -> Generator[dict[str, Any], None, None]:
    """Each image's result, in input order, yielded once its rows are written. When torch leaves
    a core free (:func:`overlaps`): decoded ahead on ``bedside-decode``, scored here, recorded on
    ``bedside-audit`` while the next image is scored; otherwise each image in turn on this
    thread. ``recorded`` gets each reading (on this thread) before its result is yielded.

    An image's rows are handed to the writer only after the previous result was taken, so a
    consumer that stops after a result leaves no row for an image it never got (the next image
    was scored, and its score is dropped unrecorded and unshown). Ctrl-C (or any failure)
    during a forward waits for the previous image's rows, then hands that result over before it
    is raised: a score recorded as shown is shown, and never half recorded.

    While the workers run, the GIL's switch interval is ``SWITCH_INTERVAL_S`` (restored after):
    the forward lets go of the GIL inside each torch operation and takes it back between them
    (a DenseNet-121 forward makes about 430 module calls); when a worker is running Python
    (pydicom's parse, the audit row) at that moment, the forward waits until the worker is asked
    to let go, which Python does only after the switch interval (``sys.setswitchinterval``, 5 ms
    by default). Measured, interleaved (bench/bench_batch.py): no difference at load about 2
    (1.066x against 1.065x the bare forwards), 27.6 s against 31.6 s for 200 images under
    another program's CPU burners. The interval is the process's, also while a result is
    yielded: meant for the ``bedside infer`` process, which runs nothing else meanwhile (two
    overlapping pipelines in one process would restore it out of order)."""
    if not overlaps(model.predictor.requested_threads):
        for meta in metas:
            result, session = _record(desk, model, _score(model, meta, heatmap_dir=heatmap_dir))
            recorded(session)
            yield result
        return
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bedside-audit")
    decoded = _decoded_in_order(model.predictor.screen, metas)
    writing: Future[tuple[dict[str, Any], ReadingSession]] | None = None
    switch = sys.getswitchinterval()
    sys.setswitchinterval(min(switch, SWITCH_INTERVAL_S))
    try:
        for meta, ahead in decoded:
            try:
                scored = _score(model, meta, heatmap_dir=heatmap_dir, image=ahead.image,
                                decode_ms=ahead.decode_ms)  # fmt: skip
            except BaseException:
                if writing is not None:  # the previous result is recorded as shown: show it
                    result, session = writing.result()
                    writing = None
                    recorded(session)
                    yield result
                raise
            if writing is not None:
                result, session = writing.result()
                writing = None
                recorded(session)
                yield result
            writing = writer.submit(_record, desk, model, scored)
        if writing is not None:
            result, session = writing.result()
            writing = None
            recorded(session)
            yield result
    finally:
        decoded.close()
        writer.shutdown(wait=True)  # the rows in flight are written
        sys.setswitchinterval(switch)
        if writing is not None and writing.exception() is None:
            recorded(writing.result()[1])


def run(args: argparse.Namespace, *, err: TextIO | None = None) -> Iterator[dict[str, Any]]:
    """Open the audit log and the model (the session's policy), then yield one result object per
    image (errors included). Every score is recorded: a log that cannot be opened stops the
    command before any image is scored."""
    from viewer.audit import AuditLog

    settings = args.settings
    progress = _Progress(err or sys.stderr)
    try:
        log = AuditLog.open(settings)
    except AuditError as exc:
        raise AuditError(
            f"Nothing was scored, because every score must be recorded in the audit log: {exc}"
        ) from exc
    trail = AuditTrail(settings, log)
    if trail.forwarding_error:  # the rows stay in the log; `bedside audit ... send` catches up
        print(printable(f"Warning: audit forwarding did not start: {trail.forwarding_error}"),
              file=err or sys.stderr)  # fmt: skip
    waiting: list[ReadingSession] = []  # scored readings the shadow candidate has yet to score
    shadow: ShadowRunner | None = None
    pipeline: Generator[dict[str, Any], None, None] | None = None
    try:
        desk = ReadingDesk(settings, trail, channel="cli")
        model = open_model(
            settings, audit=log, bundle=args.bundle, model_id=args.model, threads=args.threads
        )
        desk.set_model(model.predictor, model.loaded.digest, demo_model=model.source == "demo")
        if model.source == "demo":
            print(f"bedside: warning: {DEMO_MODEL_WARNING}", file=err or sys.stderr)
        metas, errors = _collect(args.paths, progress)
        for error in errors:
            yield {**error, "demo": settings.demo}
        heatmap_dir = Path(args.heatmap) if args.heatmap else None
        total = len(metas)
        shadow = store_shadow(settings, model, audit=lambda: log, threads=args.threads)

        def recorded(session: ReadingSession) -> None:
            if session.prediction is not None:
                waiting.append(session)

        pipeline = _pipeline(desk, model, metas, heatmap_dir, recorded)
        for done, result in enumerate(pipeline, start=1):
            progress.show(done, total, "scoring", result["file"])
            yield result
        progress.clear()
        # every active result is out before the candidate runs (on this thread, as the active
        # model did; each image read again, its pixels checked against the reading's)
        while waiting:
            _shadow_after(shadow, waiting[0], err or sys.stderr)
            waiting.pop(0)
    finally:
        if pipeline is not None:  # its rows are written before the trail closes
            pipeline.close()
        for session in waiting:  # stopped early: each reading says the candidate did not run
            skipped = shadow.skipped(SHADOW_NOT_RUN) if shadow is not None else None
            if skipped is not None:
                record_shadow(session, skipped)
        trail.close()


def _shadow_after(shadow: ShadowRunner, session: ReadingSession, err: TextIO) -> None:
    """The shadow candidate (if one is set) on one scored reading: recorded, never printed
    (``viewer.session.shadow``)."""
    if session.meta is None or shadow.locate() is None:
        return
    result = shadow.run(session.meta)
    if result is None:
        return
    row = record_shadow(session, result)
    if row.error:
        print(f"bedside: warning: a shadow result was not recorded: {row.error}", file=err)


def _heatmap_folder(path: Path) -> None:
    """``--heatmap`` names a folder, made now when missing: a file, FIFO or device there, or a
    file on the way, is refused before an image is read (it was a traceback after every image
    had been scored and recorded)."""
    if path.exists() and not path.is_dir():
        raise BedsideError(
            f"--heatmap {path} is not a folder (a file, pipe or device); give a folder for the "
            "heatmap PNGs."
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BedsideError(
            f"--heatmap {path}: the folder cannot be made ({exc.strerror or exc})."
        ) from exc


def _cmd_infer(args: argparse.Namespace) -> int:
    if isinstance(args.threads, int) and not 1 <= args.threads <= 64:
        raise BedsideError(f"--threads must be between 1 and 64, not {args.threads}.")
    if args.heatmap:
        _heatmap_folder(Path(args.heatmap))
    out = sys.stdout
    failed = 0
    count = 0
    for result in run(args):
        count += 1
        if result["status"] != "scored" or not result.get("recorded", True):
            failed += 1
        if args.json:
            out.write(printable_json(json.dumps(result, ensure_ascii=False, allow_nan=False)))
            out.write("\n")
        else:
            out.write(_human(result) + "\n")
        out.flush()
    if not args.json:
        print(f"{count - failed} of {count} image(s) scored.", file=sys.stderr)
    if count == 0:
        print("bedside: no DICOM images found.", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_FAILED if failed else EXIT_OK
