"""Exports: CSV and FHIR R4 JSON contents, checkpoints and report_exported rows, cancel."""

from __future__ import annotations

import csv
import hashlib
import json
import uuid
from pathlib import Path

import pytest

from tests.audit.helpers import CLINICIAN, decision, fill
from viewer.audit import (
    AuditEvent,
    AuditLog,
    Checkpoint,
    ExportCancelledError,
    export,
    export_report,
    verify_log,
)
from viewer.audit.chain import ALL_COLUMNS
from viewer.config import Settings


@pytest.fixture
def populated(settings: Settings) -> Settings:
    with AuditLog.open(settings) as log:
        log.append(AuditEvent(type="app_start"))
        fill(log, 12)
        log.append(
            AuditEvent(
                type="amendment", user=CLINICIAN, meaning="overrode", reason="再読影", corrects=3
            )
        )
        evil = decision(50, overrode=True)
        evil.reason = '=HYPERLINK("http://x")'
        log.append(evil)
    return settings


def test_csv_has_every_column_and_row(populated: Settings, tmp_path: Path) -> None:
    out = tmp_path / "log.csv"
    result = export(populated, "csv", out)
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == ALL_COLUMNS
    assert len(rows) - 1 == result.rows == 15
    with AuditLog.open(populated) as log:
        hashes = [r.hash for r in log.records()][:15]
    assert [r[-1] for r in rows[1:]] == hashes
    reasons = [r[ALL_COLUMNS.index("reason")] for r in rows[1:]]
    assert "再読影" in reasons
    assert '\'=HYPERLINK("http://x")' in reasons  # shown as text, never run as a formula


def test_export_writes_checkpoint_and_records_itself(populated: Settings, tmp_path: Path) -> None:
    out = tmp_path / "log.csv"
    result = export(populated, "csv", out)
    assert result.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    cp = Checkpoint.read(result.checkpoint_path)
    assert cp == result.checkpoint and cp.count == 15 and cp.signature_valid()
    rec = result.record
    assert rec.type == "report_exported" and rec.seq == 16
    assert rec.detail["sha256"] == result.sha256
    assert rec.detail["checkpoint"]["head_hash"] == cp.head_hash
    with AuditLog.open(populated) as log:
        verified = verify_log(log, [("file", cp)])
        assert verified.ok, verified.problems
        assert len(log.stored_checkpoints()) == 1


def test_fhir_bundle_structure(populated: Settings, tmp_path: Path) -> None:
    out = tmp_path / "log.json"
    export(populated, "json", out)
    text = out.read_text(encoding="utf-8")
    assert "PAT0003" not in text and "1.2.3.3.1.1" not in text  # pseudonyms only
    bundle = json.loads(text)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    resources = [e["resource"] for e in bundle["entry"]]
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(set(urls)) == len(urls)
    for url in urls:  # FHIR: urn:uuid must hold a real UUID
        assert url.startswith("urn:uuid:") and str(uuid.UUID(url[9:])) == url[9:]
    assert resources[0]["resourceType"] == "Basic"
    events = [r for r in resources if r["resourceType"] == "AuditEvent"]
    provs = [r for r in resources if r["resourceType"] == "Provenance"]
    assert len(events) == 15 and len(provs) == 14  # 13 decisions + 1 amendment
    for ev in events:
        assert ev["type"]["system"] == "http://dicom.nema.org/resources/ontology/DCM"
        assert ev["recorded"].endswith("Z") and ev["outcome"] in ("0", "4")
        assert ev["agent"] and isinstance(ev["agent"][0]["requestor"], bool)
        assert ev["source"]["observer"]["display"]
    start = events[0]
    assert start["subtype"][0]["code"] == "110120"  # DICOM "Application Start"
    decision_event = events[1]
    assert decision_event["action"] == "C"
    assert decision_event["entity"][0]["role"]["code"] == "1"  # patient, by pseudonym
    for prov in provs:
        assert prov["target"] and prov["recorded"] and prov["agent"]
        assert prov["agent"][0]["who"]["display"] == CLINICIAN.name
        assert prov["signature"][0]["who"]["display"] == CLINICIAN.name
    amendment = next(p for p in provs if p["activity"]["coding"][0]["code"] == "UPDATE")
    assert amendment["reason"] == [{"text": "再読影"}]


def test_cancel_leaves_no_file_and_no_event(populated: Settings, tmp_path: Path) -> None:
    out = tmp_path / "log.csv"
    with pytest.raises(ExportCancelledError):
        export(populated, "csv", out, cancel=lambda: True)
    gen = export_report(populated, "pdf", tmp_path / "log.pdf")
    next(gen)
    gen.close()  # the GUI stops iterating
    assert list(tmp_path.iterdir()) == [tmp_path / "bedside-data", tmp_path / "site"]
    with AuditLog.open(populated) as log:
        assert log.records(types=("report_exported",)) == []
        assert verify_log(log).ok


def test_progress_is_monotonic_and_complete(populated: Settings, tmp_path: Path) -> None:
    gen = export_report(populated, "pdf", tmp_path / "r.pdf")
    steps = []
    while True:
        try:
            steps.append(next(gen))
        except StopIteration as stop:
            result = stop.value
            break
    done = [d for d, _ in steps]
    assert done == sorted(done) and steps[-1][0] == steps[-1][1]
    assert result.path.read_bytes().startswith(b"%PDF")


def test_unknown_format_and_missing_folder(populated: Settings, tmp_path: Path) -> None:
    from viewer.errors import AuditError

    with pytest.raises(AuditError, match="format"):
        export(populated, "xml", tmp_path / "x.xml")
    with pytest.raises(AuditError, match="does not exist"):
        export(populated, "csv", tmp_path / "missing" / "x.csv")


def test_export_not_recorded_means_no_report(
    populated: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the report_exported row cannot be written (disk full), the report is not kept."""
    from viewer.errors import AuditWriteError

    real_append = AuditLog.append

    def failing(self: AuditLog, event: AuditEvent) -> object:
        if event.type == "report_exported":
            raise AuditWriteError("The 'report_exported' event was NOT saved: disk full.")
        return real_append(self, event)

    monkeypatch.setattr(AuditLog, "append", failing)
    out = tmp_path / "r.csv"
    with pytest.raises(AuditWriteError, match="report was not kept"):
        export(populated, "csv", out)
    assert not out.exists() and not (tmp_path / "r.checkpoint.json").exists()


def test_filtered_export_never_records_the_raw_patient_id(
    populated: Settings, tmp_path: Path
) -> None:
    from viewer.audit import Filters

    result = export(populated, "csv", tmp_path / "one.csv", Filters(patient_id="PAT0003"))
    assert result.rows == 1
    with AuditLog.open(populated) as log:
        exported = log.records(types=("report_exported",))[0]
    assert "PAT0003" not in exported.detail_json
    assert exported.detail["filters"] == {"Patient": "one patient (searched by pseudonym)"}


def test_fhir_export_validates_against_the_fhir_models(populated: Settings, tmp_path: Path) -> None:
    """Every resource passes the fhir.resources R4B models (AuditEvent and Provenance are the
    same in R4 and R4B): required elements, value types, instant format, code bindings."""
    pytest.importorskip("fhir.resources")
    from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent
    from fhir.resources.R4B.basic import Basic
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.provenance import Provenance

    out = tmp_path / "log.json"
    export(populated, "json", out)
    bundle = json.loads(out.read_text(encoding="utf-8"))
    Bundle.model_validate(bundle)
    models = {"AuditEvent": FhirAuditEvent, "Provenance": Provenance, "Basic": Basic}
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    for entry in bundle["entry"]:
        models[entry["resource"]["resourceType"]].model_validate(entry["resource"])
    assert set(kinds) == set(models)
