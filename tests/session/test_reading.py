"""The reading session's rules, without Qt and without torch, against a fake predictor.

Read-first hides the score until the own read; a second decision is an amendment; a failed audit
write never reports "saved"; refused inputs carry no score. Each rule is checked in the rows the
audit log holds, since that is what a regulator reads.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.session.fakes import DIGEST, FakeImage, FakePredictor, meta
from tests.session.fakes import make_desk as _desk
from tests.session.fakes import read as _read
from viewer.audit import AuditLog
from viewer.config import Settings
from viewer.errors import AuditWriteError, InferenceError
from viewer.session.reading import ReadingSession, score_image


def _types(log: AuditLog) -> list[str]:
    return [r.type for r in log.records()]


# ----------------------------------------------------------------------------- read-first


def test_read_first_hides_the_score_until_the_own_read(settings: Settings, log: AuditLog) -> None:
    desk = _desk(settings, log, order="read_first")
    session = _read(desk)
    assert session.prediction is not None and session.score_hidden
    assert session.stage == "hidden" and not session.can_decide
    assert "ai_result_shown" not in _types(log)  # nothing shown, nothing recorded as shown
    refused = session.decide("confirmed", "")
    assert not refused.saved and refused.code == "not_ready"
    assert "decision" not in _types(log)

    row = session.own_read("present")
    assert row is not None and row.written
    assert session.revealed and session.ai_shown == "after_read" and session.can_decide
    shown = log.records(types=("ai_result_shown",))[-1]
    assert shown.ai_shown == "after_read" and shown.detail["reading_order"] == "read_first"

    saved = session.decide("confirmed", "")
    assert saved.saved and saved.record is not None
    assert saved.record.ai_shown == "after_read"
    assert saved.record.detail["provisional_finding"] == "present"


def test_ai_first_shows_the_score_before_the_read(settings: Settings, log: AuditLog) -> None:
    session = _read(_desk(settings, log))
    assert session.revealed and session.ai_shown == "before_read"
    (shown,) = log.records(types=("ai_result_shown",))
    assert shown.ai_shown == "before_read"
    assert shown.score == pytest.approx(0.8) and shown.ai_finding == "opacity: positive"
    assert shown.bundle_digest == DIGEST and shown.model == "fake-cxr 1.2.3"
    assert shown.detail["warnings"][0]["code"] == "view_missing"


# ----------------------------------------------------------------------------- amendments


def test_a_second_decision_on_a_decided_image_is_an_amendment(
    settings: Settings, log: AuditLog
) -> None:
    desk = _desk(settings, log)
    session = _read(desk)
    first = session.decide("confirmed", "")
    assert first.saved and first.decision is not None and not first.decision.amendment
    second = session.decide("overrode", "artefact")
    assert second.saved and second.decision is not None and second.decision.amendment
    assert second.record is not None and second.record.type == "amendment"
    assert second.record.corrects == first.decision.seq
    assert second.record.clinician_finding == "opacity: negative"
    assert _types(log).count("decision") == 1

    # reopened in the same run: the decision is offered, the next act amends the latest row
    again = _read(desk)
    assert again is not session and again.decision == second.decision
    third = again.decide("confirmed", "")
    assert third.record is not None and third.record.type == "amendment"
    assert third.record.corrects == second.decision.seq


def test_an_image_decided_in_an_earlier_run_is_amended(settings: Settings, log: AuditLog) -> None:
    earlier = _read(_desk(settings, log)).decide("confirmed", "")
    assert earlier.saved and earlier.decision is not None
    later = _read(_desk(settings, log))  # a new desk: nothing remembered but the log
    assert later.decision is not None and later.decision.seq == earlier.decision.seq
    assert later.stage == "decided"
    amended = later.decide("overrode", "second look")
    assert amended.record is not None and amended.record.type == "amendment"
    assert amended.record.corrects == earlier.decision.seq
    other = _read(_desk(settings, log), "/data/other.dcm")  # another image: a first decision
    assert other.decision is None
    assert other.decide("confirmed", "").record.type == "decision"  # type: ignore[union-attr]


def test_two_images_claiming_one_uid_are_decided_separately(
    settings: Settings, log: AuditLog
) -> None:
    """Two different files under one SOP Instance UID never share a decision (issue 12)."""
    uid = "1.2.3.999"
    a = _read(_desk(settings, log), "/data/a.dcm", sop_instance_uid=uid, pixels="a" * 64)
    saved = a.decide("confirmed", "")
    assert saved.record is not None and saved.record.detail["pixel_sha256"] == "a" * 64
    desk = _desk(settings, log)  # later, or another run: only the log remembers
    b = _read(desk, "/data/b.dcm", sop_instance_uid=uid, pixels="b" * 64)
    assert b.decision is None and b.stage == "revealed"  # not "Saved — Confirmed"
    first_b = b.decide("overrode", "other image")
    assert first_b.record is not None and first_b.record.type == "decision"
    again = _read(desk, "/data/a-copy.dcm", sop_instance_uid=uid, pixels="a" * 64)
    assert again.decision is not None and again.decision.seq == saved.record.seq  # same pixels


# ----------------------------------------------------------------------------- never "saved"


def test_a_failed_audit_write_never_reports_saved(
    settings: Settings, log: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = _read(_desk(settings, log))

    def full_disk(_event: Any) -> Any:
        raise AuditWriteError("The decision was NOT saved: the disk is full.")

    monkeypatch.setattr(log, "append_all", full_disk)
    outcome = session.decide("overrode", "artefact")
    assert not outcome.saved and outcome.record is None and outcome.code == "write"
    assert "NOT saved" in outcome.error
    assert session.decision is None and session.stage == "revealed"

    def crash(_event: Any) -> Any:
        raise RuntimeError("unexpected")

    monkeypatch.setattr(log, "append_all", crash)
    outcome = session.decide("overrode", "artefact")
    assert not outcome.saved and "unexpected" in outcome.error
    monkeypatch.undo()
    retried = session.decide("overrode", "artefact")  # the disk has space again
    assert retried.saved and retried.record is not None and retried.record.type == "decision"


def test_no_log_no_saved_decision(settings: Settings) -> None:
    trail_desk = _desk(settings, None)
    trail_desk.trail.open_failed("The audit log is on a read-only disk.")
    session = _read(trail_desk)
    assert session.revealed  # the reader still sees the AI result...
    outcome = session.decide("confirmed", "")
    assert not outcome.saved and outcome.code == "log_not_open"  # ...but nothing is "saved"
    assert outcome.error == "The audit log is on a read-only disk."


def test_rows_wait_for_a_log_that_is_still_opening(settings: Settings, log: AuditLog) -> None:
    desk = _desk(settings, None)
    session = _read(desk)
    assert not desk.trail.settled and desk.trail.wait_open(0) is None
    assert not session.decide("confirmed", "").saved  # never saved before the log is open
    outcomes = desk.trail.attach(log)
    assert [o.written for o in outcomes] == [True, True]
    assert _types(log)[-2:] == ["image_opened", "ai_result_shown"]
    assert desk.trail.wait_open(0) is log
    assert session.decide("confirmed", "").saved


def test_a_queue_lost_with_a_failed_open_is_counted(settings: Settings) -> None:
    desk = _desk(settings, None)
    _read(desk)
    assert desk.trail.open_failed("no space") == 2
    after = desk.trail.append("app_stop")
    assert not after.written and after.error == "no space"


# ----------------------------------------------------------------------------- refusals


def test_a_refused_input_carries_no_score(settings: Settings, log: AuditLog) -> None:
    desk = _desk(settings, log)
    session = _read(desk, "/data/ct.dcm", modality="CT")
    assert session.prediction is None and session.stage == "refused"
    assert "Modality" in session.refusal and [c.code for c in session.refusal_checks] == [
        "modality_refused"
    ]
    assert not session.can_decide and not session.decide("confirmed", "").saved
    assert session.own_read("present") is None and not session.revealed  # nothing to reveal
    (row,) = log.records(types=("ai_result_shown",))
    assert row.outcome == "failure" and row.score is None and row.ai_finding is None
    assert row.model == "fake-cxr 1.2.3" and row.detail["refused"] is True
    assert desk.scores == {}  # never cached as a score
    assert desk.scorer is not None and desk.scorer.calls == []  # type: ignore[attr-defined]


def test_a_failed_prediction_carries_no_score(settings: Settings, log: AuditLog) -> None:
    desk = _desk(settings, log)
    desk.set_model(FakePredictor(predict_error=InferenceError("The network failed.")), DIGEST)
    session = _read(desk)
    assert session.prediction is None and session.refusal == "The network failed."
    assert not session.can_decide


def test_a_stale_score_from_another_model_is_dropped(settings: Settings, log: AuditLog) -> None:
    desk = _desk(settings, log)
    old = desk.scorer
    assert old is not None
    header = meta()
    outcome = score_image(old, header, image=FakeImage(header))  # type: ignore[arg-type]
    desk.set_model(FakePredictor(score=0.1), DIGEST)
    assert not desk.remember_score(header.path, old, outcome)
    assert desk.scores == {}
    session = desk.open("/data/img2.dcm")
    assert desk.is_current(session)
    desk.open("/data/img3.dcm")
    assert not desk.is_current(session)  # the reader moved on: its results are dropped


# ----------------------------------------------------------------------------- no torch, no Qt


def test_the_session_runs_without_torch_or_qt(tmp_path: Path) -> None:
    """A reading from open to amendment in a process where torch and Qt cannot be imported."""
    root = Path(__file__).resolve().parents[2]
    script = f"""
import sys
sys.path.insert(0, {str(root)!r})
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "PySide6", "shiboken6"):
            raise ImportError("blocked: " + name)
        return None
sys.meta_path.insert(0, Block())
from tests.session.fakes import DIGEST, FakeImage, FakePredictor, meta
from viewer.audit import AuditLog
from viewer.config import load_settings
from viewer.session.reading import ReadingDesk, score_image
from viewer.session.trail import AuditTrail
settings = load_settings()
with AuditLog.open(settings) as log:
    desk = ReadingDesk(settings, AuditTrail(settings, log))
    desk.set_model(FakePredictor(), DIGEST)
    session = desk.open("/x.dcm")
    header = meta("/x.dcm")
    session.opened(header)
    session.scored(score_image(desk.scorer, header, image=FakeImage(header)))
    assert session.decide("confirmed", "").saved
    assert session.decide("overrode", "why").record.type == "amendment"
print("ok", "torch" in sys.modules, "PySide6" in sys.modules)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ok", "False", "False"]


def test_rows_made_with_the_demo_model_say_so(settings: Settings, log: AuditLog) -> None:
    desk = _desk(settings, log)
    assert desk.scorer is not None
    desk.set_model(desk.scorer, DIGEST, demo_model=True)
    session = _read(desk)
    assert session.decide("confirmed", "").saved
    shown, decided = log.records(types=("ai_result_shown",))[-1], log.records()[-1]
    assert shown.detail["demo_model"] is True and decided.detail["demo_model"] is True
    desk.set_model(FakePredictor(), DIGEST)  # a real model: no flag
    _read(desk, "/data/other.dcm")
    assert "demo_model" not in log.records(types=("ai_result_shown",))[-1].detail


def test_read_first_shows_a_case_decided_in_an_earlier_run(
    settings: Settings, log: AuditLog
) -> None:
    """A case already read and decided is not read again from scratch (issue 14 item 5): it
    shows its decision and the AI result, and the next act is an amendment."""
    first = _read(_desk(settings, log, order="read_first"))
    first.own_read("present")
    saved = first.decide("confirmed", "")
    assert saved.record is not None
    later = _read(_desk(settings, log, order="read_first"))  # a new run: only the log knows
    assert later.decision is not None and later.decision.seq == saved.record.seq
    assert later.revealed and not later.score_hidden and later.stage == "decided"
    shown = log.records(types=("ai_result_shown",))[-1]
    assert shown.ai_shown == "after_read" and shown.detail["decided_before"] == saved.record.seq
    amended = later.decide("overrode", "second look")
    assert amended.record is not None and amended.record.type == "amendment"
    assert amended.record.corrects == saved.record.seq
    new_case = _read(_desk(settings, log, order="read_first"), "/data/new.dcm")
    assert new_case.score_hidden and new_case.decision is None  # undecided: read first


# ----------------------------------------------------------------------------- several findings


def _multi(settings: Settings, log: AuditLog) -> ReadingSession:
    from tests.session.fakes import MultiLabelPredictor

    desk = _desk(settings, log)
    desk.set_model(MultiLabelPredictor(), DIGEST)
    return _read(desk, "/data/multi.dcm")


def test_confirm_acts_on_every_positive_finding_in_one_act(
    settings: Settings, log: AuditLog
) -> None:
    from viewer.session.reading import headline, ranked

    session = _multi(settings, log)
    assert session.prediction is not None
    assert headline(session.prediction).label == "Effusion"
    assert [r.label for r in ranked(session.prediction)] == [
        "Effusion", "Atelectasis", "Nodule", "Mass"
    ]  # fmt: skip
    shown = log.records(types=("ai_result_shown",))[-1]
    assert shown.ai_finding == "Effusion: positive" and shown.score == pytest.approx(0.9)
    outcome = session.decide("confirmed", "")
    assert outcome.saved and len(outcome.records) == 2  # the two positive findings, no more
    rows = log.records(types=("decision",))
    assert [r.detail["label"] for r in rows] == ["Effusion", "Atelectasis"]
    assert {r.detail["reading_id"] for r in rows} == {rows[0].detail["reading_id"]}
    assert [r.detail["finding"] for r in rows] == [[1, 2], [2, 2]]
    assert [r.ai_finding for r in rows] == ["Effusion: positive", "Atelectasis: positive"]
    assert [r.threshold for r in rows] == [0.5, 0.6]  # each finding's own threshold


def test_each_finding_decided_with_reasons_and_missed_ones_amended_per_label(
    settings: Settings, log: AuditLog
) -> None:
    from viewer.session.reading import FindingChoice

    session = _multi(settings, log)
    no_reason = session.decide_findings(
        [FindingChoice("Effusion", True), FindingChoice("Atelectasis", False)]
    )
    assert not no_reason.saved and no_reason.code == "reason"  # a rejection needs a reason
    assert log.records(types=("decision",)) == []
    outcome = session.decide_findings(
        [FindingChoice("Effusion", True), FindingChoice("Atelectasis", False, "plate artefact")],
        missed=["Pneumothorax", "Nodule"],
    )
    assert outcome.saved and outcome.decision is not None
    rows = log.records(types=("decision",))
    assert [(r.detail["label"], r.meaning, r.clinician_finding) for r in rows] == [
        ("Effusion", "confirmed", "Effusion: positive"),
        ("Atelectasis", "overrode", "Atelectasis: negative"),
        ("Pneumothorax", "overrode", "Pneumothorax: positive"),
        ("Nodule", "overrode", "Nodule: positive"),
    ]
    assert rows[1].reason == "plate artefact" and rows[2].detail["missed_by_ai"] is True
    assert rows[2].ai_finding == "Pneumothorax: not assessed" and rows[2].score is None
    assert rows[3].ai_finding == "Nodule: negative" and rows[3].score == pytest.approx(0.2)
    assert outcome.decision.meaning == "overrode"

    amended = session.decide_findings([FindingChoice("Atelectasis", True)])
    assert amended.saved and len(amended.records) == 1
    (row,) = amended.records
    assert row.type == "amendment" and row.corrects == rows[1].seq  # that finding's own row

    later = _multi(settings, log)  # reopened in another run: each label's latest row is known
    assert later.decision is not None
    latest = dict(later.decision.rows)
    assert latest["Atelectasis"] == row.seq and latest["Effusion"] == rows[0].seq
    again = later.decide_findings([FindingChoice("Effusion", False, "on second look")])
    assert again.records[0].corrects == rows[0].seq


def test_a_decision_on_several_findings_is_saved_whole_or_not_at_all(
    settings: Settings, log: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    from viewer.session.reading import FindingChoice

    session = _multi(settings, log)
    real = log.append_all
    seen: list[int] = []

    def second_row_fails(events: Any) -> Any:
        seen.append(len(events))
        events[1].corrects = 999_999  # the log refuses the act at its second row
        return real(events)

    monkeypatch.setattr(log, "append_all", second_row_fails)
    outcome = session.decide_findings(
        [FindingChoice("Effusion", True), FindingChoice("Atelectasis", True)]
    )
    assert seen == [2] and not outcome.saved and outcome.code == "write"
    assert log.records(types=("decision", "amendment")) == [] and session.decision is None


def test_a_calibrated_label_records_its_raw_pair_in_the_columns(
    settings: Settings, log: AuditLog
) -> None:
    """Calibrated (op_norm) scores are shown; the row's score/threshold columns hold the model's
    raw pair (its own rule, what monitoring and recalibration read), the shown pair is in the
    detail (issue 13 item 3)."""
    from viewer.inference.postprocess import LabelResult
    from viewer.inference.predict import Prediction

    class Calibrated(FakePredictor):
        def predict(self, image: Any, *, cancel: Any = None) -> Prediction:
            result = LabelResult(
                "Effusion", 0.62, 0.3, True, "txv op_thresh", raw_score=0.41, calibrated=True
            )
            return Prediction([result], [], "txv", "1.0.0", DIGEST, 1, {}, ["Effusion"])

    desk = _desk(settings, log)
    desk.set_model(Calibrated(), DIGEST)
    session = _read(desk)
    shown = log.records(types=("ai_result_shown",))[-1]
    assert shown.score == pytest.approx(0.41) and shown.threshold == pytest.approx(0.3)
    assert shown.ai_positive is True  # score >= threshold on the raw pair
    assert shown.detail["labels"] == {"Effusion": pytest.approx(0.41)}
    decided = session.decide("confirmed", "")
    assert decided.record is not None and decided.record.score == pytest.approx(0.41)


@pytest.mark.parametrize(
    ("missed", "why"),
    [
        (["x" * 100_000], "plain name"),
        (["\x1b[31mred"], "plain name"),
        (["Pneumothorax", "Pneumothorax"], "named twice"),
        (["Effusion"], "did not miss Effusion"),  # the AI called it positive
    ],
    ids=["too-long", "control-characters", "twice", "not-missed"],
)
def test_findings_named_as_missed_are_checked_before_anything_is_saved(
    settings: Settings, log: AuditLog, missed: list[str], why: str
) -> None:
    """Typed names go into the log: a hostile or contradictory list saves nothing."""
    from viewer.session.reading import FindingChoice

    session = _multi(settings, log)
    outcome = session.decide_findings([FindingChoice("Atelectasis", True)], missed=missed)
    assert not outcome.saved and outcome.code == "missed" and why in outcome.error
    assert log.records(types=("decision", "amendment")) == [] and session.decision is None
