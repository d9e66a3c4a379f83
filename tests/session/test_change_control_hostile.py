"""Hostile evidence files for ``bundle activate --evidence``: each a clear refusal, no hang."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.bundle.conftest import build_bundle, key, make_key, trust
from tests.waits import WAIT_S
from viewer.errors import BedsideError
from viewer.session.change_control import MAX_EVIDENCE_BYTES, read_evidence

__all__ = ["build_bundle", "key", "make_key", "trust"]  # fixtures used here


def _write(tmp_path: Path, kind: str) -> Path:
    p = tmp_path / "evidence.json"
    if kind == "huge":
        with p.open("wb") as fh:
            fh.truncate(MAX_EVIDENCE_BYTES + 10)
    elif kind == "not-json":
        p.write_bytes(b"%PDF-1.7 this is a PDF\n")
    elif kind == "deep-list":
        p.write_bytes(b"[" * 200_000 + b"]" * 200_000)
    elif kind == "deep-object":
        p.write_bytes(b'{"noninferiority": 1, "candidate": ' + b'{"a":' * 100_000 + b"1"
                      + b"}" * 100_000 + b"}")  # fmt: skip
    elif kind == "non-utf8":
        p.write_bytes(b'{"noninferiority": "\xff\xfe", "candidate": 1}')
    elif kind == "utf16":
        p.write_bytes(json.dumps({"noninferiority": 1, "candidate": 1}).encode("utf-16"))
    elif kind == "nan":
        p.write_bytes(b'{"noninferiority": NaN, "candidate": 1}')
    elif kind == "huge-int":
        p.write_bytes(b'{"noninferiority": ' + b"9" * 100_000 + b', "candidate": 1}')
    elif kind == "lone-surrogate":
        p.write_bytes(b'{"noninferiority": "\\ud800", "candidate": 1}')
    elif kind == "array":
        p.write_bytes(b"[]")
    elif kind == "empty":
        p.write_bytes(b"")
    elif kind == "directory":
        p.mkdir()
    elif kind == "missing":
        pass
    return p


@pytest.mark.parametrize(
    "kind",
    ["huge", "not-json", "deep-list", "deep-object", "non-utf8", "utf16", "nan", "huge-int",
     "lone-surrogate", "array", "empty", "directory", "missing"],
)  # fmt: skip
def test_hostile_evidence_is_a_clear_refusal(tmp_path: Path, kind: str) -> None:
    path = _write(tmp_path, kind)
    try:
        evidence = read_evidence(path)
    except BedsideError as exc:
        assert "evidence file" in exc.message
        if kind in ("nan", "lone-surrogate"):
            assert "canonical JSON cannot carry" in exc.message
        assert "\n" not in exc.message and len(exc.message) < 300
    else:  # only a report of a known kind may pass; it is then cited by its digests
        assert evidence.kind == "comparison", kind


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom"], ids=["zero", "urandom"])
def test_device_files_are_refused_without_reading_them(target: str) -> None:
    if not Path(target).exists():
        pytest.skip(f"no {target} here")
    with pytest.raises(BedsideError, match="not a regular file"):
        read_evidence(target)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "evidence.json"
    os.mkfifo(fifo)
    outcome: list[BaseException | object] = []

    def run() -> None:
        try:
            outcome.append(read_evidence(fifo))
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    # the ceiling, not 2 s: a loaded machine can run the thread later than that (a false
    # "waited for a writer"); a reader blocked on the FIFO never returns by itself
    worker.join(WAIT_S)
    if worker.is_alive():  # unblock the reader so the test run can end
        with fifo.open("wb"):
            pass
        worker.join(2.0)
        pytest.fail("read_evidence waited for a writer on a FIFO")
    assert isinstance(outcome[0], BedsideError) and "not a regular file" in str(outcome[0])


def test_the_model_managers_history_rows_are_printable(
    settings: Any, trust: Any, build_bundle: Callable[..., Path]
) -> None:
    """A printed name with a right-to-left override and a terminal escape, from user settings:
    the model manager's table shows each as a visible mark, never reordered text."""
    from viewer.audit import AuditLog, User
    from viewer.bundle import ModelStore
    from viewer.session import change_control as cc
    from viewer.session.model_admin import change_history

    mallory = User(os_account="mallory", name="Dr \u202eotI ecilA\u202c \x1b[2J", role="r")
    with AuditLog.open(settings) as log:
        store = ModelStore(settings, log, trust=trust)
        store.install(build_bundle(version="1.0.0"))
        cc.activate(settings, log, store, "test-cxr", "1.0.0", user=mallory, rationale="x")
    rows = change_history(settings, "test-cxr")
    assert rows and rows[-1].verified
    assert "\u202e" not in rows[-1].approvers and "\x1b" not in rows[-1].approvers
    assert "\ufffd" in rows[-1].approvers
