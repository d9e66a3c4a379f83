"""Shadow mode in the reading session, without Qt or torch: every scored reading carries the
active's ``ai_result_shown`` row and the candidate's ``shadow_result`` row; a candidate that fails
never touches the reading; the comparison pairs the two."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.session.fakes import DIGEST, FakeImage, FakePredictor, meta
from tests.session.fakes import make_desk as _desk
from tests.session.fakes import read as _read
from viewer.audit import AuditLog
from viewer.config import Settings
from viewer.errors import BundleError, InferenceError
from viewer.session.comparison import SCORED_TYPES, paired_cases
from viewer.session.reading import ReadingDesk, ReadingSession
from viewer.session.shadow import ShadowRunner, ShadowTarget, record_shadow

CANDIDATE = "cd" * 32
TARGET = ShadowTarget("fake-cxr", "1.3.0", CANDIDATE)
ACTIVE = {"model_id": "fake-cxr", "model_version": "1.2.3", "bundle_digest": DIGEST}


@dataclasses.dataclass
class CandidatePredictor(FakePredictor):
    """The fake predictor as another version of the same model (its own digest)."""

    def predict(self, image: Any, *, cancel: Any = None) -> Any:
        pred = super().predict(image, cancel=cancel)
        return dataclasses.replace(pred, model_version="1.3.0", bundle_digest=CANDIDATE)


def _runner(scorer: Any = None, *, load_error: Exception | None = None) -> ShadowRunner:
    calls = {"find": 0}

    def find() -> ShadowTarget:
        calls["find"] += 1
        return TARGET

    def load(_target: ShadowTarget) -> Any:
        if load_error is not None:
            raise load_error
        return scorer if scorer is not None else CandidatePredictor(score=0.3)

    runner = ShadowRunner(find, load, active=ACTIVE)
    runner.calls = calls  # type: ignore[attr-defined]
    return runner


def _shadow(runner: ShadowRunner, session: ReadingSession, pixels: str = "0" * 64) -> Any:
    """What the window's follow-up job and the command do after the active result."""
    assert session.meta is not None and session.prediction is not None
    result = runner.run(session.meta, FakeImage(session.meta, pixels))
    assert result is not None
    return record_shadow(session, result)


def _read_all(desk: ReadingDesk, runner: ShadowRunner, paths: list[str]) -> list[ReadingSession]:
    out = []
    for path in paths:
        session = _read(desk, path, "CT" if path.endswith("ct.dcm") else "CR")
        if session.prediction is not None:
            _shadow(runner, session)
        out.append(session)
    return out


def test_every_scored_reading_carries_both_rows(settings: Settings, log: AuditLog) -> None:
    desk, runner = _desk(settings, log), _runner()
    paths = [f"/data/img{i}.dcm" for i in range(5)] + ["/data/ct.dcm"]
    sessions = _read_all(desk, runner, paths)
    shown = [r for r in log.records(types=("ai_result_shown",)) if r.outcome == "success"]
    shadow = log.records(types=("shadow_result",))
    assert len(shown) == 5 and len(shadow) == 5  # 100 %: the refused CT has neither score
    assert {r.sop_pseudonym for r in shown} == {r.sop_pseudonym for r in shadow}
    for row in shadow:
        assert row.outcome == "success" and row.ai_shown is None
        assert (row.model_version, row.bundle_digest) == ("1.3.0", CANDIDATE)
        assert row.score == pytest.approx(0.3) and row.threshold == pytest.approx(0.5)
        assert row.ai_finding == "opacity: negative"
        assert row.detail["shown"] is False and row.detail["active"] == ACTIVE
        assert row.detail["labels"] == {"opacity": pytest.approx(0.3)}
        assert row.detail["pixel_sha256"] == "0" * 64
    # the reading itself only ever holds the active model's result
    for session in sessions[:5]:
        assert session.prediction is not None
        assert session.prediction.bundle_digest == DIGEST
    assert all(p.bundle_digest == DIGEST for p in desk.scores.values())
    assert runner.calls["find"] == 1  # type: ignore[attr-defined]


def test_a_candidate_that_cannot_load_is_recorded_and_the_reading_goes_on(
    settings: Settings, log: AuditLog
) -> None:
    desk = _desk(settings, log)
    runner = _runner(load_error=BundleError("The stored file changed.", code="store"))
    (session,) = _read_all(desk, runner, ["/data/img1.dcm"])
    (row,) = log.records(types=("shadow_result",))
    assert row.outcome == "failure" and row.detail["stage"] == "load"
    assert "could not be loaded: The stored file changed." in (row.reason or "")
    assert (row.model_version, row.bundle_digest) == ("1.3.0", CANDIDATE)
    assert row.score is None
    saved = session.decide("confirmed", "")
    assert saved.saved and saved.record is not None
    assert saved.record.bundle_digest == DIGEST


def test_a_candidate_failing_on_an_image_is_recorded_and_the_reading_goes_on(
    settings: Settings, log: AuditLog
) -> None:
    desk = _desk(settings, log)
    broken = CandidatePredictor(predict_error=InferenceError("out of memory"))
    exploding = CandidatePredictor(predict_error=RuntimeError("bug"))
    for scorer, reason in ((broken, "out of memory"), (exploding, "RuntimeError: bug")):
        (session,) = _read_all(desk, _runner(scorer), ["/data/img1.dcm"])
        row = log.records(types=("shadow_result",))[-1]
        assert row.outcome == "failure" and row.detail["stage"] == "score"
        assert reason in (row.reason or "")
        assert session.can_decide and session.decide("confirmed", "").saved


def test_the_candidates_own_refusal_is_recorded(settings: Settings, log: AuditLog) -> None:
    desk = _desk(settings, log)
    strict = CandidatePredictor(refuse=frozenset({"CR"}))
    _read_all(desk, _runner(strict), ["/data/img1.dcm"])
    (row,) = log.records(types=("shadow_result",))
    assert row.outcome == "failure" and row.detail["refused"] is True
    assert row.detail["refusal_codes"] == ["modality_refused"]


def test_no_candidate_no_rows(settings: Settings, log: AuditLog) -> None:
    runner = ShadowRunner(lambda: None, lambda _t: FakePredictor(), active=ACTIVE)
    header = meta()
    assert runner.run(header, FakeImage(header)) is None
    assert runner.run(header, FakeImage(header)) is None


def test_comparison_pairs_the_active_with_the_shadow_rows(
    settings: Settings, log: AuditLog
) -> None:
    desk, runner = _desk(settings, log), _runner()
    sessions = _read_all(desk, runner, [f"/data/img{i}.dcm" for i in range(4)])
    for i, session in enumerate(sessions):  # the clinician agrees on two, overrides two
        assert session.decide("confirmed" if i % 2 else "overrode", "" if i % 2 else "clear").saved
    pairs = paired_cases(
        log.records(types=SCORED_TYPES),
        label="opacity",
        first_digest=CANDIDATE,
        second_digest=DIGEST,
    )
    assert pairs.truth == [False, True, False, True]
    assert pairs.first == [pytest.approx(0.3)] * 4 and pairs.second == [pytest.approx(0.8)] * 4
    assert pairs.first_threshold == [0.5] * 4


def test_shadow_rows_are_hash_chained(settings: Settings, log: AuditLog) -> None:
    from viewer.audit import verify_log

    _read_all(_desk(settings, log), _runner(), ["/data/img1.dcm", "/data/img2.dcm"])
    assert verify_log(log).ok
