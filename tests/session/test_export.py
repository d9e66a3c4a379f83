"""Export choice (issue 14 item 7), Qt-free: the de-identified header keeps what DICOM PS3.15
Annex E's Basic Profile keeps, the footer names nobody unless asked, the audit row carries the
choice and pseudonyms only."""

from __future__ import annotations

import json

import pydicom

from tests.session.fakes import meta
from viewer.audit import AuditLog
from viewer.config import Settings
from viewer.session.export import (
    REMOVED_FIELDS,
    ExportChoice,
    burned_in,
    deidentified_meta,
    header_meta,
    identity_lines,
    record_export,
)
from viewer.session.trail import AuditTrail

FULL = meta(
    "/cd/DOE_JANE/img1.dcm",
    patient_birth_date="19700101",
    patient_sex="F",
    study_date="20260102",
    study_description="CHEST PA",
    laterality="L",
)


def test_default_choice_is_deidentified_with_overlays() -> None:
    assert ExportChoice() == ExportChoice(overlays=True, header="deidentified")
    assert ExportChoice().deidentified and not ExportChoice(header="full").deidentified


def test_deidentified_header_removes_identity_and_keeps_the_image_description() -> None:
    m = deidentified_meta(FULL)
    for name in REMOVED_FIELDS:
        assert getattr(m, name) == "", name
    assert (m.modality, m.view_position, m.laterality, m.body_part) == ("CR", "PA", "L", "CHEST")
    assert (m.rows, m.columns) == (FULL.rows, FULL.columns)
    assert "Doe" not in repr(m) and "PAT-0001" not in repr(m) and "ACC1" not in repr(m)
    assert header_meta(FULL, ExportChoice(header="full")) is FULL


def test_identity_lines_only_for_the_full_header() -> None:
    assert identity_lines(FULL, ExportChoice()) == []
    assert identity_lines(FULL, ExportChoice(header="full")) == ["Doe^Jane", "PAT-0001", "20260102"]


def test_burned_in_annotation_is_read_from_the_header() -> None:
    ds = pydicom.Dataset()
    assert not burned_in(ds) and not burned_in(None)
    ds.BurnedInAnnotation = "YES"
    assert burned_in(ds)


def test_record_export_writes_the_choice_and_pseudonyms_only(
    settings: Settings, log: AuditLog
) -> None:
    trail = AuditTrail(settings, log)
    out = record_export(trail, FULL, ExportChoice(overlays=False, header="full"), "print")
    assert out.written and out.record is not None
    row = out.record
    assert row.type == "image_exported"
    assert row.detail == {"target": "print", "header": "full", "overlays": False}
    assert row.patient_pseudonym and row.patient_pseudonym != "PAT-0001"
    dumped = json.dumps(row.as_dict())
    assert "Doe" not in dumped and "PAT-0001" not in dumped and "DOE_JANE" not in dumped
