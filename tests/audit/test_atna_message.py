"""Every audit event type as a DICOM PS3.15 A.5 audit message: mapped, well-formed, structurally
valid against the A.5.1 schema, and holding no identifier the local log does not hold."""

from __future__ import annotations

import base64
import dataclasses

import pytest

from tests.audit.atna_helpers import RAW_IDENTIFIERS, check_audit_message, every_record
from viewer.audit import AuditLog, EventType
from viewer.audit.atna import LOCAL_SCHEME, MAPPING, AtnaSource, audit_message, outcome_indicator

SOURCE = AtnaSource(source_id="ws-ct-1", enterprise_site_id="Tokyo General")


def test_every_event_type_has_a_mapping() -> None:
    # a new EventType without a row in MAPPING fails here, before any message is lost to a
    # KeyError in the forwarder
    assert set(MAPPING) == set(EventType)


@pytest.mark.parametrize("etype", list(EventType))
def test_each_type_is_a_valid_audit_message(log: AuditLog, etype: EventType) -> None:
    records = [r for r in every_record(log) if r.type == etype.value]
    assert [r.outcome for r in records] == ["success", "failure"]
    mapping = MAPPING[etype]
    for record in records:
        root = check_audit_message(audit_message(record, SOURCE, log_id=log.log_id))
        ev = root.find("EventIdentification")
        assert ev is not None
        event_id = ev.find("EventID")
        assert event_id is not None and event_id.get("csd-code") == mapping.event_id[0]
        assert ev.get("EventActionCode") == mapping.action
        assert ev.get("EventDateTime") == record.time
        local = [c.get("csd-code") for c in ev.findall("EventTypeCode")
                 if c.get("codeSystemName") == LOCAL_SCHEME]  # fmt: skip
        assert local == [etype.value]
        expected = (
            "0"
            if record.outcome == "success"
            else ("8" if event_id.get("csd-code") == "110113" else "4")
        )
        assert ev.get("EventOutcomeIndicator") == expected
        assert (ev.find("EventOutcomeDescription") is None) == (record.outcome == "success")
        requestor = next(a for a in root.findall("ActiveParticipant")
                     if a.get("UserIsRequestor") == "true")  # fmt: skip
        assert requestor.get("UserID") == "dr_sato" and requestor.get("UserName") == "佐藤 花子"
        assert requestor.get("NetworkAccessPointID") == record.host
        src = root.find("AuditSourceIdentification")
        assert src is not None and src.get("AuditSourceID") == "ws-ct-1"
        objects = {o.get("ParticipantObjectTypeCodeRole"): o.get("ParticipantObjectID")
                   for o in root.findall("ParticipantObjectIdentification")}  # fmt: skip
        if "patient" in mapping.objects:
            assert objects["1"] == record.patient_pseudonym
            assert objects["3"] == record.study_pseudonym
        if "model" in mapping.objects:
            assert objects["4"] == "demo-cxr"
        if "log" in mapping.objects:
            assert objects["13"] == log.log_id


def test_a_message_holds_no_raw_identifier_and_no_clinical_text(log: AuditLog) -> None:
    for record in every_record(log):
        xml = audit_message(record, SOURCE, log_id=log.log_id)
        decoded = xml + b"".join(
            base64.b64decode(part.split(b'"')[0]) for part in xml.split(b' value="')[1:]
        )
        for raw in (*RAW_IDENTIFIERS, "old scar", "0.71"):
            assert raw.encode() not in decoded, (record.type, raw)


def test_security_alert_for_a_failed_verification_is_a_serious_failure(log: AuditLog) -> None:
    record = next(
        r for r in every_record(log) if r.type == "verification" and r.outcome == "failure"
    )
    root = check_audit_message(audit_message(record, SOURCE, log_id=log.log_id))
    ev = root.find("EventIdentification")
    assert ev is not None and ev.get("EventOutcomeIndicator") == "8"
    assert "first_bad_seq=3" in (ev.findtext("EventOutcomeDescription") or "")


def test_a_type_this_version_does_not_know_is_still_a_valid_message(log: AuditLog) -> None:
    """A row a newer version wrote (read after a downgrade) must not stall forwarding."""
    record = dataclasses.replace(every_record(log)[0], type="future_event")
    root = check_audit_message(audit_message(record, SOURCE, log_id=log.log_id))
    ev = root.find("EventIdentification")
    assert ev is not None
    assert [c.get("csd-code") for c in ev] == ["110100", "future_event"]


def test_the_fhir_export_uses_the_same_dicom_vocabulary(log: AuditLog) -> None:
    from viewer.audit.export import audit_event_resource

    for record in every_record(log):
        mapping = MAPPING[EventType(record.type)]
        resource = audit_event_resource(record, "site")
        assert resource["type"]["code"] == mapping.event_id[0]
        assert resource["action"] == mapping.action
        assert resource["outcome"] == outcome_indicator(record, mapping)


def test_an_export_names_its_destination_media(log: AuditLog) -> None:
    """PS3.15 A.5.3.6: the Destination Media participant carries its media type."""
    for record in every_record(log):
        if record.type not in ("image_exported", "report_exported"):
            continue
        root = check_audit_message(audit_message(record, SOURCE, log_id=log.log_id))
        media = [
            a for a in root.findall("ActiveParticipant") if a.find("MediaIdentifier") is not None
        ]
        assert len(media) == 1
        role = media[0].find("RoleIDCode")
        assert role is not None and role.get("csd-code") == "110154"
