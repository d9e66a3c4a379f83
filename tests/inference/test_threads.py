"""The thread policy (issue 19.3): a fixed count, or "auto" from the cores others leave free."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.inference.helpers import loaded
from viewer.errors import InferenceError
from viewer.inference import engine
from viewer.inference.predict import Predictor


class _Clock:
    """/proc/stat busy seconds, wall and own CPU time under the test's control."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.wall = 1000.0
        self.busy = 50.0
        self.own = 3.0
        monkeypatch.setattr(engine, "_busy_seconds", lambda: self.busy)
        monkeypatch.setattr(engine.time, "monotonic", lambda: self.wall)
        monkeypatch.setattr(engine.time, "process_time", lambda: self.own)
        monkeypatch.setattr(engine.time, "sleep", self.advance_idle)
        monkeypatch.setattr(engine, "_usable_cores", lambda: 2)
        monkeypatch.setattr(engine, "_SAMPLER", engine._LoadSampler())

    def advance_idle(self, seconds: float) -> None:
        self.wall += seconds

    def run(self, seconds: float, *, others: float, own: float) -> None:
        """``seconds`` of wall time with ``others`` cores busy elsewhere and ``own`` here."""
        self.wall += seconds
        self.busy += seconds * (others + own)
        self.own += seconds * own


def test_auto_uses_the_cores_other_processes_leave_free(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _Clock(monkeypatch)
    engine.prime_threads()
    clock.run(1.0, others=0.0, own=2.0)  # only our own forward: both cores are ours
    assert engine.choose_threads() == 2
    clock.run(1.0, others=2.0, own=0.3)  # two busy processes: one thread
    assert engine.choose_threads() == 1
    clock.run(1.0, others=1.0, own=1.0)  # one busy process on two cores
    assert engine.choose_threads() == 1
    clock.run(1.0, others=0.4, own=1.0)
    assert engine.choose_threads() == 2
    assert engine.choose_threads(limit=1) == 1


def test_a_first_or_stale_choice_samples_a_short_window(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _Clock(monkeypatch)
    assert engine.choose_threads() == 2  # no earlier sample: sampled over a short sleep
    clock.run(60.0, others=2.0, own=0.0)  # stale: the next choice samples afresh (idle now)
    assert engine.choose_threads() == 2


def test_a_too_short_window_keeps_the_last_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _Clock(monkeypatch)
    engine.prime_threads()
    clock.run(1.0, others=2.0, own=0.0)
    assert engine.choose_threads() == 1
    clock.run(0.001, others=0.0, own=0.0)
    assert engine.choose_threads() == 1


def test_without_proc_stat_the_load_average_stands_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "_busy_seconds", lambda: None)
    monkeypatch.setattr(engine, "_usable_cores", lambda: 2)
    monkeypatch.setattr(engine.os, "getloadavg", lambda: (3.0, 3.0, 3.0))
    assert engine.choose_threads() == 1


def test_resolve_threads() -> None:
    assert engine.resolve_threads(3) == 3
    assert 1 <= engine.resolve_threads("auto") <= 64
    with pytest.raises(InferenceError, match="auto"):
        engine.resolve_threads("many")  # type: ignore[arg-type]


def test_auto_predictor_records_the_count_it_used(cxr_path: Path) -> None:
    from viewer.dicom import read_image

    image: Any = read_image(cxr_path)
    prediction = Predictor(loaded(), threads="auto").predict(image)
    assert 1 <= prediction.threads <= 64
    assert prediction.audit_detail()["threads"] == prediction.threads


def test_the_setting_takes_a_count_or_auto_and_defaults_to_auto() -> None:
    from pydantic import ValidationError

    from viewer.config import InferenceSection

    assert InferenceSection().threads == "auto"
    assert InferenceSection(threads=1).threads == 1
    assert InferenceSection(threads="auto").threads == "auto"
    for bad in ("many", 0, 65, "2"):
        with pytest.raises(ValidationError):
            InferenceSection(threads=bad)
