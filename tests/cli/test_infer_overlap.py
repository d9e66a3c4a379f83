"""``bedside infer`` overlaps everything but torch with the forward (issue 19.5): one worker
thread reads ahead, another writes each image's rows while the next is scored. Results and audit
rows are those of the sequential loop, in input order; refused and unreadable files are reported
as before; a consumer that stops leaves rows only for the results it got; torch runs only on the
thread that called ``infer``."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from viewer.cli import infer
from viewer.cli.main import main

# what differs between two runs of one batch: when, the row's place in the chain, the timings
_VOLATILE_ROW = {"seq", "time", "event_id", "prev_hash", "hash"}


def _sequential(
    desk: Any, model: Any, metas: Any, heatmap_dir: Any, recorded: Callable[[Any], None]
) -> Iterator[dict[str, Any]]:
    """The loop before the overlap: each image decoded, scored and recorded in turn on the
    calling thread, the reference the overlapped pipeline must equal."""
    for meta in metas:
        result, session = infer._record(
            desk, model, infer._score(model, meta, heatmap_dir=heatmap_dir)
        )
        recorded(session)
        yield result


needs_two_cores = pytest.mark.skipif(
    not infer.overlaps(1), reason="one usable core: infer scores one image after another"
)


def _args(settings: Any, folder: Path, bundle: Path) -> argparse.Namespace:
    return argparse.Namespace(settings=settings, paths=[str(folder)], bundle=str(bundle),
                              model=None, json=True, heatmap=None, threads=1)  # fmt: skip


def _rows(settings: Any, after: int = 0) -> list[dict[str, Any]]:
    from viewer.audit import AuditLog

    with AuditLog.open(settings) as log:
        records = [r for r in log.iter_records() if r.seq > after]
    return [
        {k: v for k, v in vars(r).items() if k not in _VOLATILE_ROW}
        for r in records
        if r.type in ("image_opened", "ai_result_shown")
    ]


def _last_seq(settings: Any) -> int:
    from viewer.audit import AuditLog

    with AuditLog.open(settings) as log:
        return max((r.seq for r in log.iter_records()), default=0)


def _stable(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "timings_ms"}


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """Six images with, in the middle of them in input order, a CT slice (refused by its header),
    a file cut short inside Pixel Data (an error of the scan, never opened) and a blank image
    (refused by its pixels, after the decode)."""
    from viewer.dicom.synthetic import make_cxr, write_demo_set

    folder = tmp_path / "mixed"
    write_demo_set(folder, n=6, seed=4, size=(200, 180))
    ct = make_cxr(11, opacity=False, size=(160, 160))
    ct.Modality = "CT"
    ct.save_as(folder / "SYN0002a_ct.dcm", enforce_file_format=True)
    whole = make_cxr(12, opacity=False, size=(256, 256))
    whole.save_as(folder / "whole.tmp", enforce_file_format=True)
    data = (folder / "whole.tmp").read_bytes()
    (folder / "whole.tmp").unlink()
    (folder / "SYN0002b_cut.dcm").write_bytes(data[: len(data) - 60000])
    blank = make_cxr(13, opacity=False, size=(200, 180))
    blank.PixelData = bytes(len(blank.PixelData))
    blank.save_as(folder / "SYN0003a_blank.dcm", enforce_file_format=True)
    return folder


def test_read_ahead_keeps_input_order_and_skips_refused(cxr_dir: Path) -> None:
    from viewer.dicom import read_metadata
    from viewer.errors import BedsideError

    metas = [read_metadata(p) for p in sorted(cxr_dir.glob("*.dcm"))] * 2
    refused = {metas[1].path}
    threads: set[str] = set()

    def screen(meta: Any) -> None:
        threads.add(threading.current_thread().name)
        if meta.path in refused:
            raise BedsideError("refused")

    got = list(infer._decoded_in_order(screen, metas))
    assert [m.path for m, _ in got] == [m.path for m in metas]
    for meta, ahead in got:
        assert (ahead.image is None) == (meta.path in refused)
        if ahead.image is not None:
            assert ahead.image.meta.path == meta.path and ahead.decode_ms is not None
    assert threads and all(t.startswith("bedside-decode") for t in threads)


def test_torch_runs_only_on_the_calling_thread(
    make_bundle: Callable[..., Path], cxr_dir: Path, settings: Any,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    import viewer.inference.predict as predict
    from viewer.inference.engine import run_model as real

    calls: list[str] = []

    def spy(model: Any, tensor: Any) -> Any:
        calls.append(threading.current_thread().name)
        return real(model, tensor)

    monkeypatch.setattr(predict, "run_model", spy)
    code = main(["infer", str(cxr_dir), "--bundle", str(make_bundle()), "--json"])
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    assert calls and set(calls) == {threading.current_thread().name}
    assert [r["status"] for r in results] == ["scored"] * len(results)
    assert all(r["timings_ms"]["decode"] is not None for r in results)
    from viewer.audit import AuditLog

    with AuditLog.open(settings) as log:
        opened = [r for r in log.iter_records() if r.type == "image_opened"]
    assert len(opened) == len(results)


@needs_two_cores
def test_overlapped_batch_equals_the_sequential_loop_results_and_rows(
    make_bundle: Callable[..., Path], mixed: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = make_bundle()
    start = _last_seq(settings)
    overlapped = [_stable(r) for r in infer.run(_args(settings, mixed, bundle))]
    middle = _last_seq(settings)
    monkeypatch.setattr(infer, "_pipeline", _sequential)
    sequential = [_stable(r) for r in infer.run(_args(settings, mixed, bundle))]
    assert overlapped == sequential
    statuses = {Path(r["file"]).name: r["status"] for r in overlapped}
    assert statuses.pop("SYN0002a_ct.dcm") == "refused"
    assert statuses.pop("SYN0002b_cut.dcm") == "error"
    assert statuses.pop("SYN0003a_blank.dcm") == "refused"
    assert set(statuses.values()) == {"scored"} and len(statuses) == 6
    for r in overlapped:  # each bad file says why, in a sentence of its own
        assert r["status"] == "scored" or r["error"].strip()
    rows_overlapped = _rows(settings, start)
    rows_overlapped = rows_overlapped[: len(rows_overlapped) // 2]
    assert rows_overlapped == _rows(settings, middle)
    # in input order: image_opened then ai_result_shown, image by image, none missing (the
    # file cut short is the scan's error, in the scan's words, and never opened)
    cut = next(r for r in overlapped if r["file"].endswith("SYN0002b_cut.dcm"))
    assert cut["error"].startswith("has truncated pixel data (") and "recorded" not in cut
    read = [r for r in overlapped if "recorded" in r]
    assert len(read) == 8 and all(r["recorded"] for r in read)
    kinds = [row["type"] for row in rows_overlapped]
    assert kinds == ["image_opened", "ai_result_shown"] * 8
    shown = [row for row in rows_overlapped if row["type"] == "ai_result_shown"]
    assert [row["outcome"] for row in shown] == [
        "success" if r["status"] == "scored" else "failure" for r in read
    ]


@needs_two_cores
def test_rows_are_written_off_the_torch_thread_and_the_workers_end(
    make_bundle: Callable[..., Path], cxr_dir: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from viewer.session.trail import AuditTrail

    writers: list[str] = []
    real = AuditTrail.append

    def spy(self: AuditTrail, type_: str, **fields: Any) -> Any:
        writers.append(threading.current_thread().name)
        return real(self, type_, **fields)

    monkeypatch.setattr(AuditTrail, "append", spy)
    results = list(infer.run(_args(settings, cxr_dir, make_bundle())))
    assert [r["status"] for r in results] == ["scored"] * 4
    assert len(writers) == 8 and all(w.startswith("bedside-audit") for w in writers)
    assert _infer_threads_alive() == []


@needs_two_cores
def test_a_consumer_that_stops_leaves_rows_only_for_the_results_it_got(
    make_bundle: Callable[..., Path], cxr_dir: Path, settings: Any
) -> None:
    start = _last_seq(settings)
    results = infer.run(_args(settings, cxr_dir, make_bundle()))
    got = [next(results), next(results)]
    results.close()
    rows = _rows(settings, start)
    assert [row["type"] for row in rows] == ["image_opened", "ai_result_shown"] * 2
    opened = [row["sop_pseudonym"] for row in rows if row["type"] == "image_opened"]
    assert len(set(opened)) == 2 and all(r["recorded"] for r in got)
    assert _infer_threads_alive() == []


@needs_two_cores
def test_ctrl_c_during_a_forward_records_and_shows_the_result_in_flight(
    make_bundle: Callable[..., Path], cxr_dir: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import viewer.inference.predict as predict
    from viewer.inference.engine import run_model as real

    forwards: list[int] = []

    def interrupted(model: Any, tensor: Any) -> Any:
        forwards.append(1)
        if len(forwards) == 3:  # the third image's forward: the second's rows are in flight
            raise KeyboardInterrupt
        return real(model, tensor)

    start = _last_seq(settings)
    monkeypatch.setattr(predict, "run_model", interrupted)
    got: list[dict[str, Any]] = []
    with pytest.raises(KeyboardInterrupt):
        for result in infer.run(_args(settings, cxr_dir, make_bundle())):
            got.append(result)
    assert len(got) == 2  # the second result, recorded as shown, was handed over first
    rows = _rows(settings, start)  # the second image, scored, is recorded whole
    assert [row["type"] for row in rows] == ["image_opened", "ai_result_shown"] * 2
    assert all(row["outcome"] == "success" for row in rows)


def test_overlap_with_auto_or_a_core_left_free() -> None:
    import os

    cores = len(os.sched_getaffinity(0))
    assert infer.overlaps("auto")  # it drops to fewer threads when the cores are busy
    assert not infer.overlaps(cores) and infer.overlaps(cores - 1) == (cores > 1)


@needs_two_cores
def test_the_gil_switch_interval_is_short_while_the_workers_run_and_restored_after(
    make_bundle: Callable[..., Path], cxr_dir: Path, settings: Any
) -> None:
    """Shortened for the overlapped loop only: back to the caller's value when the loop ends,
    when the consumer stops early, and when a failure ends it."""
    before = sys.getswitchinterval()
    assert before > infer.SWITCH_INTERVAL_S  # Python's 5 ms, unless something changed it
    bundle = make_bundle()
    during = [sys.getswitchinterval() for _ in infer.run(_args(settings, cxr_dir, bundle))]
    assert during == [infer.SWITCH_INTERVAL_S] * 4
    assert sys.getswitchinterval() == before
    results = infer.run(_args(settings, cxr_dir, bundle))
    next(results)
    assert sys.getswitchinterval() == infer.SWITCH_INTERVAL_S
    results.close()
    assert sys.getswitchinterval() == before
    results = infer.run(_args(settings, cxr_dir, bundle))
    next(results)
    with pytest.raises(KeyboardInterrupt):
        results.throw(KeyboardInterrupt)
    assert sys.getswitchinterval() == before


def _infer_threads_alive() -> list[str]:
    """infer's own workers still running (the grey-scale LUT pool, bedside-lut, lives for the
    process by design: a test of the DICOM pipeline run earlier starts it)."""
    own = ("bedside-decode", "bedside-audit")
    return [t.name for t in threading.enumerate() if t.name.startswith(own)]
