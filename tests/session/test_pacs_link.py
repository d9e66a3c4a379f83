"""A saved reading on its way to PACS, without Qt or a network (viewer.session.pacs_link).

Real parts: a generated chest X-ray on disk read by the real reader, the reading session and its
audit log, the real object builders and the real outbox of ``PacsDelivery`` (queued, not
drained: PACS is not needed to show what was queued). The scorer is the session tests' fake
predictor (real ``Prediction`` objects, no torch).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from tests.session.fakes import DIGEST, MultiLabelPredictor
from tests.session.fakes import make_desk as _desk
from viewer.audit import AuditLog
from viewer.config import Settings, load_settings
from viewer.dicom.annotations import Annotation
from viewer.session.pacs_link import PacsLink, PacsLinkError, pacs_state, source_header
from viewer.session.reading import FindingChoice, ReadingDesk, ReadingSession, score_image

SITE = """
[pacs]
enabled = true
send = ["sr", "sc"]
dicomweb_url = "http://127.0.0.1:9/dicom-web"
"""


@pytest.fixture
def pacs_settings(site_file: Path) -> Settings:
    """PACS on (an address nobody answers: these tests only queue)."""
    site_file.write_text(SITE, encoding="utf-8")
    return load_settings(demo=False)


@pytest.fixture
def pacs_log(pacs_settings: Settings) -> Any:
    with AuditLog.open(pacs_settings) as opened:
        yield opened


def _read(desk: ReadingDesk, path: Path) -> tuple[ReadingSession, Any]:
    """Open and score a file as the window does: the real reader, then the desk's scorer."""
    from viewer.dicom import read_image

    image = read_image(str(path))
    session = desk.open(str(path))
    session.opened(image.meta, pixel_sha256=image.pixel_sha256)
    assert desk.scorer is not None
    session.scored(score_image(desk.scorer, image.meta, image=image))
    return session, image


def _display(image: Any) -> Any:
    """The image as the window displays it (its default window), uint8."""
    from viewer.dicom import DisplayRenderer

    return DisplayRenderer(image).render(image.default_window)


def _link(desk: ReadingDesk) -> PacsLink:
    return PacsLink(desk.settings, desk.trail)


def _multi_desk(settings: Settings, log: AuditLog) -> ReadingDesk:
    desk: ReadingDesk = _desk(settings, log)
    desk.set_model(MultiLabelPredictor(), DIGEST)
    return desk


def _rows(log: AuditLog, type_: str) -> list[Any]:
    return [r for r in log.records() if r.type == type_]


def _waiting(link: PacsLink, reading_id: str | None = None) -> Any:
    delivery = link.delivery()
    try:
        return delivery.status(reading_id)
    finally:
        close = getattr(delivery, "close", None)
        if callable(close):
            close()


def test_report_matches_the_saved_decision(
    pacs_settings: Settings, pacs_log: AuditLog, cxr_path: Path
) -> None:
    desk = _multi_desk(pacs_settings, pacs_log)
    session, image = _read(desk, cxr_path)
    arrow = Annotation("arrow", ((10.0, 10.0), (40.0, 30.0)))
    session.set_annotations([arrow])
    outcome = session.decide_findings(
        [FindingChoice("Effusion", True), FindingChoice("Atelectasis", False, "Skin fold")],
        missed=["Nodule"],
    )
    assert outcome.saved
    report = _link(desk).report(session, outcome, source=image.header)

    pred = session.prediction
    assert pred is not None
    assert [(s.label, s.probability, s.threshold, s.positive) for s in report.labels] == [
        (r.label, r.score, r.shown_threshold, r.positive) for r in pred.labels
    ]
    assert {s.threshold_source for s in report.labels} == {"bundle"}
    assert [
        (d.label, d.meaning, d.ai_positive, d.final_positive, d.reason) for d in report.decisions
    ] == [
        ("Effusion", "confirmed", True, True, ""),
        ("Atelectasis", "overrode", True, False, "Skin fold"),
        ("Nodule", "overrode", False, True, "missed by the AI"),
    ]
    assert (report.observer.name, report.observer.role) == ("Dr Test", "radiologist")
    assert report.algorithm.digest == DIGEST and report.algorithm.version == "2.0.0"
    assert report.reading_id == outcome.records[0].detail["reading_id"]
    assert report.reading_time == outcome.records[0].when
    assert report.annotations == (arrow,)
    # the header without its pixels, with the identity PACS files the objects under
    assert "PixelData" not in report.source
    assert report.source.PatientID == image.header.PatientID
    assert report.source.SOPInstanceUID == image.header.SOPInstanceUID


def test_site_threshold_is_named_as_the_sites(
    pacs_settings: Settings, pacs_log: AuditLog, cxr_path: Path
) -> None:
    from viewer.inference.postprocess import SiteThreshold

    desk = _desk(pacs_settings, pacs_log)
    session, image = _read(desk, cxr_path)
    assert session.prediction is not None
    site = SiteThreshold(0.7, 0.5, "2026-01-01T00:00:00Z", "Dr QA", 200, "ab" * 32)
    first = dataclasses.replace(session.prediction.labels[0], threshold=0.7, site=site)
    session.prediction = dataclasses.replace(session.prediction, labels=[first])
    outcome = session.decide("confirmed", "")
    report = _link(desk).report(session, outcome, source=image.header)
    assert [(s.threshold, s.threshold_source) for s in report.labels] == [(0.7, "site")]


def test_nothing_is_queued_before_a_decision(
    pacs_settings: Settings, pacs_log: AuditLog, cxr_path: Path
) -> None:
    # read first: the score is hidden until the reader's own read, so nothing can be decided
    desk = _desk(pacs_settings, pacs_log, order="read_first")
    session, image = _read(desk, cxr_path)
    assert session.score_hidden
    link = _link(desk)
    for refused in (session.decide("confirmed", ""), session.decide_findings([])):
        assert not refused.saved
        with pytest.raises(PacsLinkError, match="before the decision is saved"):
            link.report(session, refused, source=image.header)
        assert link.after_decision(session, refused, source=image.header) is None
    session.own_read("present")  # revealed, still undecided: nothing either
    assert session.decision is None
    status = _waiting(link)
    assert (status.pending, status.held, status.sent) == (0, 0, 0)
    # the decision (after the own read) is what is queued, and only it
    queued = link.after_decision(
        session, session.decide("confirmed", ""), source=image.header, display=_display(image)
    )
    assert queued is not None and queued.ok and queued.count == 2
    assert len(_rows(pacs_log, "pacs_queued")) == 1 and _rows(pacs_log, "pacs_not_queued") == []


def test_decision_then_amendment_queue_two_versions(
    pacs_settings: Settings, pacs_log: AuditLog, cxr_path: Path
) -> None:
    desk = _desk(pacs_settings, pacs_log)
    session, image = _read(desk, cxr_path)
    link = _link(desk)
    shown = _display(image)
    first = link.after_decision(
        session, session.decide("confirmed", ""), source=image.header, display=shown
    )
    assert first is not None and first.ok, first
    assert first.kinds == ("sr", "sc") and first.count == 2
    second = link.after_decision(
        session,
        session.decide("overrode", "Old scar, no change"),
        source=image.header,
        display=shown,
    )
    assert second is not None and second.ok, second
    assert second.reading_id != first.reading_id and second.count == 2
    assert _waiting(link, first.reading_id).pending == 2
    assert _waiting(link, second.reading_id).pending == 2
    assert _waiting(link).pending == 4
    queued = _rows(pacs_log, "pacs_queued")
    assert [r.detail["reading_id"] for r in queued] == [first.reading_id, second.reading_id]
    assert all(r.sop_pseudonym for r in queued)  # filed under the image, by pseudonym
    # the same reading again (a retry after a crash): the same objects, nothing new queued
    report = link.report(session, session.decide("confirmed", ""), source=image.header)
    again = link.queue(dataclasses.replace(report, reading_id=first.reading_id), display=shown)
    assert again.ok and again.count == 0
    assert _waiting(link).pending == 4  # the same UIDs: nothing was added


def test_shadow_output_never_reaches_pacs(
    pacs_settings: Settings, pacs_log: AuditLog, cxr_path: Path
) -> None:
    from tests.session.test_shadow import TARGET, CandidatePredictor
    from viewer.session.shadow import ShadowRunner, record_shadow

    desk = _desk(pacs_settings, pacs_log)
    session, image = _read(desk, cxr_path)
    runner = ShadowRunner(
        lambda: TARGET,
        lambda _t: CandidatePredictor(score=0.3),
        active={"model_id": "fake-cxr", "model_version": "1.2.3", "bundle_digest": DIGEST},
    )
    assert session.meta is not None
    result = runner.run(session.meta, image)
    assert result is not None
    record_shadow(session, result)
    assert _rows(pacs_log, "shadow_result")
    outcome = session.decide("confirmed", "")
    report = _link(desk).report(session, outcome, source=image.header)
    assert [s.probability for s in report.labels] == [0.8]  # the active's score, not 0.3
    assert report.algorithm.digest == DIGEST and report.algorithm.version == "1.2.3"
    # a result on screen that the active model did not make is refused outright
    assert session.prediction is not None
    session.prediction = dataclasses.replace(
        session.prediction, bundle_digest=TARGET.digest, model_version=TARGET.version
    )
    with pytest.raises(PacsLinkError, match="not made by the active model"):
        _link(desk).report(session, outcome, source=image.header)
    # nor when the active model is not known (no digest to compare the result with)
    session.prediction = dataclasses.replace(session.prediction, bundle_digest=DIGEST)
    desk.model_digest = None
    with pytest.raises(PacsLinkError, match="not made by the active model"):
        _link(desk).report(session, outcome, source=image.header)


def test_a_report_that_cannot_be_built_is_recorded_and_the_decision_stays(
    pacs_settings: Settings, pacs_log: AuditLog, cxr_path: Path
) -> None:
    desk = _desk(pacs_settings, pacs_log)
    session, image = _read(desk, cxr_path)
    header = source_header(image.header)
    del header.PatientID  # PACS would file it as a new patient: nothing is built
    outcome = session.decide("confirmed", "")
    queued = _link(desk).after_decision(session, outcome, source=header, display=_display(image))
    assert queued is not None and not queued.ok
    assert "PatientID" in queued.error
    failed = _rows(pacs_log, "pacs_not_queued")
    assert len(failed) == 1 and failed[0].outcome == "failure"
    assert failed[0].reason == queued.error
    assert len(_rows(pacs_log, "decision")) == 1  # the decision is saved all the same
    assert _waiting(_link(desk)).pending == 0


def test_off_unless_the_site_turns_it_on(settings: Settings, log: AuditLog, cxr_path: Path) -> None:
    desk = _desk(settings, log)  # the built-in defaults: PACS off
    session, image = _read(desk, cxr_path)
    link = _link(desk)
    assert not link.enabled
    assert (
        link.after_decision(session, session.decide("confirmed", ""), source=image.header) is None
    )
    assert not settings.pacs_outbox_path.exists()


def test_state_follows_the_outbox() -> None:
    from viewer.outbox import OutboxStatus

    def status(**kw: Any) -> OutboxStatus:
        base: dict[str, Any] = dict(
            pending=0, held=0, sent=0, oldest_pending=None, last_sent=None, last_error=None,
            failing_since=None, next_attempt=None,
        )  # fmt: skip
        return OutboxStatus(**{**base, **kw})

    assert pacs_state(status()).kind == "idle"
    assert pacs_state(status(pending=2)).kind == "queued"
    sent = pacs_state(status(sent=3, last_sent=1_700_000_000.0))
    assert sent.kind == "sent" and sent.when is not None and sent.when.timestamp() == 1_700_000_000
    waiting = pacs_state(status(pending=2, failing_since=1_700_000_000.0, last_error="refused"))
    assert (waiting.kind, waiting.waiting, waiting.error) == ("waiting", 2, "refused")
    held = pacs_state(status(pending=1, held=1, failing_since=1.0, last_error="0xA700"))
    assert (held.kind, held.waiting, held.error) == ("held", 2, "0xA700")
