"""``bedside infer`` reads ahead in one worker thread (issue 19.5): results and audit rows stay
in input order, refused and unreadable files are reported as before, and torch runs only on the
thread that called ``infer``."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from viewer.cli import infer
from viewer.cli.main import main


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
