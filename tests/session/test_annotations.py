"""A reading's annotations (issue 14 item 2): kept per image in the run, saved with the decision
in a sidecar named by the SOP Instance pseudonym, shown again after a restart, and counted by
kind in the decision rows — never the text's words, never a raw identifier."""

from __future__ import annotations

import json

from tests.session.fakes import make_desk as _desk
from tests.session.fakes import read as _read
from viewer.audit import AuditLog
from viewer.config import Settings
from viewer.dicom.annotations import Annotation
from viewer.session import annotation_store
from viewer.session.reading import ReadingDesk
from viewer.session.trail import AuditTrail

NOTE = "Mr Smith's nodule"
ITEMS = [
    Annotation("distance", ((1.0, 2.0), (30.0, 40.0))),
    Annotation("distance", ((5.0, 5.0), (9.0, 9.0))),
    Annotation("ctr", ((10, 50), (60, 50), (0, 80), (100, 80))),
    Annotation("text", ((7.0, 8.0),), NOTE),
]


def test_kept_in_the_run_saved_with_the_decision_and_restored(
    settings: Settings, log: AuditLog
) -> None:
    desk = _desk(settings, log)
    session = _read(desk)
    session.set_annotations(ITEMS)
    # another image, then back: this run's annotations come back before any decision
    _read(desk, "/data/img2.dcm")
    assert _read(desk).annotations == ITEMS

    saved = desk.current.decide("confirmed", "")
    assert saved.saved and not saved.annotation_error
    row = saved.record
    assert row is not None
    assert row.detail["annotations"] == {"distance": 2, "ctr": 1, "text": 1}
    files = list((settings.data_dir / annotation_store.FOLDER).iterdir())
    assert [f.stem for f in files] == [log.pseudonym("sop", desk.current.meta.sop_instance_uid)]
    # the words are in the sidecar, never in the log; no raw UID names the file
    assert NOTE in files[0].read_text(encoding="utf-8")
    assert desk.current.meta.sop_instance_uid not in files[0].name
    assert NOTE.encode() not in settings.audit_db_path.read_bytes()

    # a new run (a fresh desk) shows them again on reopen
    fresh = ReadingDesk(desk.settings, AuditTrail(desk.settings, log))
    fresh.set_model(desk.scorer, desk.model_digest)
    assert _read(fresh).annotations == ITEMS
    # other pixels under the same UID do not inherit them
    uid = desk.current.meta.sop_instance_uid
    copy = _read(fresh, "/data/copy.dcm", pixels="1" * 64, sop_instance_uid=uid)
    assert copy.annotations == []


def test_an_amendment_after_deleting_them_all_saves_the_empty_list(
    settings: Settings, log: AuditLog
) -> None:
    desk = _desk(settings, log)
    session = _read(desk)
    session.set_annotations(ITEMS[:1])
    assert session.decide("confirmed", "").saved
    session.set_annotations([])
    second = session.decide("overrode", "artefact")
    assert second.saved and "annotations" not in second.record.detail
    fresh = ReadingDesk(desk.settings, AuditTrail(desk.settings, log))
    fresh.set_model(desk.scorer, desk.model_digest)
    assert _read(fresh).annotations == []


def test_an_unreadable_sidecar_is_reported_not_a_crash(settings: Settings, log: AuditLog) -> None:
    desk = _desk(settings, log)
    session = _read(desk)
    session.set_annotations(ITEMS[:1])
    assert session.decide("confirmed", "").saved
    (path,) = (settings.data_dir / annotation_store.FOLDER).iterdir()
    path.write_text(json.dumps({"format": 1, "annotations": [{"kind": "laser"}]}))
    fresh = ReadingDesk(desk.settings, AuditTrail(desk.settings, log))
    fresh.set_model(desk.scorer, desk.model_digest)
    again = _read(fresh)
    assert again.annotations == [] and "laser" in again.annotation_error
    path.write_text("{not json")
    uid = again.meta.sop_instance_uid
    other = _read(fresh, "/data/other.dcm", sop_instance_uid=uid)
    assert "cannot be read" in other.annotation_error


def test_a_hostile_sidecar_is_refused_with_a_reason(settings: Settings, log: AuditLog) -> None:
    desk = _desk(settings, log)
    session = _read(desk)
    session.set_annotations(ITEMS[:1])
    assert session.decide("confirmed", "").saved
    (path,) = (settings.data_dir / annotation_store.FOLDER).iterdir()
    uid = session.meta.sop_instance_uid
    fresh = ReadingDesk(desk.settings, AuditTrail(desk.settings, log))
    fresh.set_model(desk.scorer, desk.model_digest)
    path.write_text("[" * 200_000 + "]" * 200_000)  # nested past the parser's recursion limit
    assert "cannot be read" in _read(fresh, "/data/a.dcm", sop_instance_uid=uid).annotation_error
    path.write_bytes(b" " * (annotation_store.MAX_BYTES + 1))
    assert "too large" in _read(fresh, "/data/b.dcm", sop_instance_uid=uid).annotation_error
    many = [{"kind": "arrow", "points": [[0, 0], [1, 1]]}] * 501
    path.write_text(json.dumps({"format": 1, "annotations": many}))
    assert "more than 500" in _read(fresh, "/data/c.dcm", sop_instance_uid=uid).annotation_error
