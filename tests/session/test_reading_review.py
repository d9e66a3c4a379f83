"""Review of the session layer (issue 11): cases where a decision could be recorded against a
score the reader no longer sees, or as a second, unlinked decision on an image decided before.

Qt-free and torch-free, with the fake predictor; each rule is checked in the audit log's rows.
"""

from __future__ import annotations

from tests.session.fakes import DIGEST, FakeImage, FakePredictor
from tests.session.fakes import make_desk as _desk
from tests.session.fakes import read as _read
from viewer.audit import AuditLog
from viewer.config import Settings
from viewer.session.reading import score_image

OTHER_DIGEST = "cd" * 32


# ----------------------------------------------------------------------------- model change


def test_a_model_change_withdraws_the_score_on_screen(settings: Settings, log: AuditLog) -> None:
    """Reload model / the model manager changes the model while a result is shown: the old
    model's score must not stay decidable (the window shows no score while the model loads, and
    after it has loaded), and the image must be scored again by the model now loaded."""
    desk = _desk(settings, log)
    assert desk.scorer is not None
    desk.set_model(desk.scorer, DIGEST, demo_model=True)  # the demo model scores it
    session = _read(desk)
    assert session.can_decide

    desk.set_model(None)  # the window's load_model(): a reload begins
    assert not session.can_decide
    refused = session.decide("confirmed", "")
    assert not refused.saved and refused.code == "not_ready"

    desk.set_model(FakePredictor(score=0.1), OTHER_DIGEST)  # another (non-demo) model is loaded
    assert session.needs_score and not session.can_decide
    assert not [r for r in log.records() if r.type in ("decision", "amendment")]


def test_a_decision_after_a_model_change_is_recorded_with_the_model_that_scored(
    settings: Settings, log: AuditLog
) -> None:
    """Whatever the window does, a decision row never mixes one model's score with another
    model's demo flag: the demo model scored it, so the row says so."""
    desk = _desk(settings, log)
    assert desk.scorer is not None
    desk.set_model(desk.scorer, DIGEST, demo_model=True)
    session = _read(desk)
    desk.set_model(FakePredictor(), OTHER_DIGEST)  # a real model now loaded
    if session.needs_score:  # re-scored by the new model (the fixed behaviour)
        header = session.meta
        assert header is not None and desk.scorer is not None
        session.scored(score_image(desk.scorer, header, image=FakeImage(header)))  # type: ignore[arg-type]
    saved = session.decide("confirmed", "")
    assert saved.saved and saved.record is not None
    demo_scored = saved.record.bundle_digest == DIGEST and bool(
        log.records(types=("ai_result_shown",))[-1].detail.get("demo_model")
    )
    assert bool(saved.record.detail.get("demo_model")) == demo_scored


# ----------------------------------------------------------------------------- amendments


def test_a_decision_made_meanwhile_elsewhere_is_amended_not_duplicated(
    settings: Settings, log: AuditLog
) -> None:
    """Two app instances on one log (DESIGN: must survive), or a log that opened after the
    reveal: the image was decided after this reading looked it up. Deciding again must amend
    that row, never write a second, unlinked decision."""
    here = _read(_desk(settings, log))
    there = _read(_desk(settings, log))  # the same image in a second window
    first = there.decide("confirmed", "")
    assert first.saved and first.record is not None
    mine = here.decide("overrode", "artefact")
    assert mine.saved and mine.record is not None
    assert mine.record.type == "amendment" and mine.record.corrects == first.record.seq


def test_an_earlier_decision_counts_when_the_log_opened_after_the_reveal(
    settings: Settings, log: AuditLog
) -> None:
    earlier = _read(_desk(settings, log)).decide("confirmed", "")
    assert earlier.record is not None
    desk = _desk(settings, None)  # this run's log is still opening
    session = _read(desk)
    assert session.revealed
    desk.trail.attach(log)
    outcome = session.decide("overrode", "second look")
    assert outcome.saved and outcome.record is not None
    assert outcome.record.type == "amendment" and outcome.record.corrects == earlier.record.seq
