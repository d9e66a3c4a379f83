"""Audit rows as IHE ATNA audit messages: the DICOM audit message format of PS3.15 Annex A.5
(``AuditMessage`` XML, the successor of RFC 3881), one message per local row.

Every :class:`~viewer.audit.events.EventType` has a row in :data:`MAPPING` (a test enumerates
them): the DCM EventID (PS3.16 CID 400), a DCM EventTypeCode where one fits, and always a second
EventTypeCode with the Bedside event type in a private coding scheme (:data:`LOCAL_SCHEME`,
"99" prefix per PS3.16 8.2) so the repository can tell the rows apart exactly.

What a message carries — the choice (issue 18 item 4): only what the local log holds, and of it
only what a security audit needs: who (OS account, printed name, role; NetworkAccessPointID is
the host), what and when, the outcome, and which objects — patient and study by the log's keyed
pseudonyms (HMAC-SHA256 with the site secret, ``viewer.audit.pseudonym``), never a name or a raw
ID or UID, because the log holds none; the hospital can still find a patient's events by
computing that patient's pseudonym with the site secret. Clinical content (scores, findings,
reasons) stays in the local log and the department store. The chain position (log id, seq,
row hash) travels in the syslog structured data (:mod:`viewer.audit.atna_transport`).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Literal
from xml.etree import ElementTree as ET

from viewer.audit.events import AuditRecord, EventType

__all__ = [
    "LOCAL_SCHEME",
    "MAPPING",
    "AtnaSource",
    "EventMapping",
    "audit_message",
    "mapping_for",
    "outcome_indicator",
]

#: private coding scheme designator for Bedside's own event types (PS3.16 8.2: "99" prefix)
LOCAL_SCHEME = "99BEDSIDE"

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'

Code = tuple[str, str, str]  # (csd-code, codeSystemName, originalText)

# DCM event IDs (PS3.16 CID 400 "Audit Event ID")
APPLICATION_ACTIVITY: Code = ("110100", "DCM", "Application Activity")
INSTANCES_ACCESSED: Code = ("110103", "DCM", "DICOM Instances Accessed")
INSTANCES_TRANSFERRED: Code = ("110104", "DCM", "DICOM Instances Transferred")
EXPORT: Code = ("110106", "DCM", "Export")
PATIENT_RECORD: Code = ("110110", "DCM", "Patient Record")
SECURITY_ALERT: Code = ("110113", "DCM", "Security Alert")

# DCM event type codes (CID 401 "Audit Event Type Code")
APPLICATION_START: Code = ("110120", "DCM", "Application Start")
APPLICATION_STOP: Code = ("110121", "DCM", "Application Stop")
NODE_AUTHENTICATION: Code = ("110126", "DCM", "Node Authentication")
SOFTWARE_CONFIGURATION: Code = ("110131", "DCM", "Software Configuration")
AUDIT_RECORDING_STARTED: Code = ("110134", "DCM", "Audit Recording Started")

# DCM participant role codes (CID 402 "Audit Active Participant Role ID Code")
ROLE_APPLICATION: Code = ("110150", "DCM", "Application")
ROLE_LAUNCHER: Code = ("110151", "DCM", "Application Launcher")
ROLE_DESTINATION: Code = ("110152", "DCM", "Destination Role ID")
ROLE_SOURCE: Code = ("110153", "DCM", "Source Role ID")
ROLE_DESTINATION_MEDIA: Code = ("110154", "DCM", "Destination Media")

# DCM media types (CID 405 "Media Type Code")
PAPER: Code = ("110038", "DCM", "Paper Document")
URI: Code = ("110037", "DCM", "URI")

ActionCode = Literal["C", "R", "U", "D", "E"]


@dataclass(frozen=True)
class EventMapping:
    """How one Bedside event type is told in DCM terms (PS3.15 A.5.3)."""

    event_id: Code
    action: ActionCode
    type_code: Code | None = None
    #: which objects the message names: "patient" (+ study), "model", "log"
    objects: tuple[str, ...] = ()
    #: the user is the application's launcher (Application Activity) rather than the requestor
    launcher: bool = False
    #: the act sends out of the workstation: the destination's role (Export: media; Transfer:
    #: the PACS), the user is then the source
    destination: Code | None = None


def _software(action: ActionCode, objects: tuple[str, ...] = ("model",)) -> EventMapping:
    """A change to what scores images (a model bundle, its threshold, a candidate): a Security
    Alert of type Software Configuration, naming the model."""
    return EventMapping(SECURITY_ALERT, action, SOFTWARE_CONFIGURATION, objects=objects)


def _transfer(action: ActionCode) -> EventMapping:
    """DICOM objects sent to PACS: the user is the source, the PACS the destination."""
    return EventMapping(
        INSTANCES_TRANSFERRED, action, objects=("patient",), destination=ROLE_DESTINATION
    )


MAPPING: dict[EventType, EventMapping] = {
    EventType.APP_START: EventMapping(APPLICATION_ACTIVITY, "E", APPLICATION_START, launcher=True),
    EventType.APP_STOP: EventMapping(APPLICATION_ACTIVITY, "E", APPLICATION_STOP, launcher=True),
    EventType.LOG_STARTED: EventMapping(
        SECURITY_ALERT, "C", AUDIT_RECORDING_STARTED, objects=("log",)
    ),
    EventType.BUNDLE_VERIFIED: _software("E"),
    EventType.BUNDLE_REFUSED: _software("E"),
    EventType.BUNDLE_INSTALLED: _software("C"),
    EventType.BUNDLE_ACTIVATED: _software("U"),
    EventType.BUNDLE_ROLLED_BACK: _software("U"),
    EventType.SITE_THRESHOLD_SET: _software("U"),
    EventType.CHANGE_RECORD: _software("C"),
    EventType.SHADOW_STARTED: _software("U"),
    EventType.SHADOW_STOPPED: _software("U"),
    EventType.IMAGE_OPENED: EventMapping(INSTANCES_ACCESSED, "R", objects=("patient",)),
    EventType.AI_RESULT_SHOWN: EventMapping(INSTANCES_ACCESSED, "R", objects=("patient", "model")),
    EventType.SHADOW_RESULT: EventMapping(INSTANCES_ACCESSED, "R", objects=("patient", "model")),
    EventType.DECISION: EventMapping(PATIENT_RECORD, "C", objects=("patient", "model")),
    EventType.AMENDMENT: EventMapping(PATIENT_RECORD, "U", objects=("patient", "model")),
    EventType.IMAGE_EXPORTED: EventMapping(
        EXPORT, "R", objects=("patient",), destination=ROLE_DESTINATION_MEDIA
    ),
    EventType.REPORT_EXPORTED: EventMapping(
        EXPORT, "R", objects=("log",), destination=ROLE_DESTINATION_MEDIA
    ),
    # PACS (issue 17): the reading's DICOM objects created and queued, sent, retrieved
    EventType.PACS_QUEUED: EventMapping(INSTANCES_ACCESSED, "C", objects=("patient",)),
    EventType.PACS_NOT_QUEUED: EventMapping(INSTANCES_ACCESSED, "C", objects=("patient",)),
    EventType.PACS_SENT: _transfer("R"),
    EventType.PACS_SEND_FAILED: _transfer("R"),
    EventType.PACS_RETRIEVED: EventMapping(INSTANCES_TRANSFERRED, "C", objects=("patient",)),
    # the repository (the destination participant) failed TLS authentication either way
    EventType.NODE_AUTHENTICATION_FAILED: EventMapping(
        SECURITY_ALERT, "E", NODE_AUTHENTICATION, destination=ROLE_DESTINATION
    ),
    # a failed verification is the tamper alarm: a serious-failure Security Alert
    EventType.VERIFICATION: EventMapping(SECURITY_ALERT, "E", objects=("log",)),
    EventType.MONITOR_ALERT: EventMapping(APPLICATION_ACTIVITY, "E", objects=("model",)),
}


def mapping_for(event_type: str) -> EventMapping:
    """The mapping of a stored type; one this version does not know (a row a newer version
    wrote, read after a downgrade) is Application Activity rather than a stalled forwarder."""
    try:
        return MAPPING[EventType(event_type)]
    except ValueError:
        return EventMapping(APPLICATION_ACTIVITY, "E")


def outcome_indicator(record: AuditRecord, mapping: EventMapping) -> str:
    """PS3.15 EventOutcomeIndicator: 0 success, 4 minor failure, 8 serious failure.

    A failed Security Alert (a verification that found tampering, a refused bundle, a lost log)
    is serious; other failures (an image that could not be scored) are minor.
    """
    if record.outcome == "success":
        return "0"
    return "8" if mapping.event_id == SECURITY_ALERT else "4"


@dataclass(frozen=True)
class AtnaSource:
    """This workstation as an audit source (PS3.15 A.5.1 AuditSourceIdentification)."""

    source_id: str
    enterprise_site_id: str = ""
    app_name: str = "bedside"
    #: RFC 3881 / DCM audit source type: 1 end-user display device, 4 application server
    source_type: Literal["1", "4"] = "1"


_SOURCE_TYPES = {"1": "End-user display device, diagnostic device", "4": "Application Server"}


def _code(parent: ET.Element, tag: str, code: Code) -> ET.Element:
    csd, system, text = code
    return ET.SubElement(
        parent, tag, {"csd-code": csd, "codeSystemName": system, "originalText": text}
    )


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _detail(parent: ET.Element, kind: str, value: str) -> None:
    ET.SubElement(parent, "ParticipantObjectDetail", {"type": kind, "value": _b64(value)})


def _object(
    root: ET.Element,
    object_id: str,
    *,
    type_code: str,
    role: str,
    id_type: Code,
    details: list[tuple[str, str]],
) -> None:
    obj = ET.SubElement(
        root,
        "ParticipantObjectIdentification",
        {
            "ParticipantObjectID": object_id,
            "ParticipantObjectTypeCode": type_code,
            "ParticipantObjectTypeCodeRole": role,
        },
    )
    _code(obj, "ParticipantObjectIDTypeCode", id_type)
    for kind, value in details:
        _detail(obj, kind, value)


def _user_roles(record: AuditRecord, mapping: EventMapping) -> list[Code]:
    roles: list[Code] = [ROLE_LAUNCHER] if mapping.launcher else []
    if mapping.destination is not None:
        roles.append(ROLE_SOURCE)
    if record.user_role:
        # the site's free-text role ("Radiologist") in the private scheme, as written
        roles.append((record.user_role, f"{LOCAL_SCHEME}-ROLE", record.user_role))
    return roles


def _participants(root: ET.Element, record: AuditRecord, mapping: EventMapping, app: str) -> None:
    user_attrs = {
        "UserID": record.user_os or "unknown",
        "UserIsRequestor": "true",
        "NetworkAccessPointID": record.host,
        "NetworkAccessPointTypeCode": "1",  # machine name
    }
    if record.user_name:
        user_attrs["UserName"] = record.user_name
    user = ET.SubElement(root, "ActiveParticipant", user_attrs)
    for role in _user_roles(record, mapping):
        _code(user, "RoleIDCode", role)
    application = ET.SubElement(
        root,
        "ActiveParticipant",
        {
            "UserID": app,
            "AlternativeUserID": f"{app} {record.app_version}",
            "UserIsRequestor": "false",
            "NetworkAccessPointID": record.host,
            "NetworkAccessPointTypeCode": "1",
        },
    )
    _code(application, "RoleIDCode", ROLE_APPLICATION)
    if mapping.destination is not None:
        detail = record.detail
        where = detail.get("destination") or detail.get("target") or detail.get("format")
        peer = ET.SubElement(
            root,
            "ActiveParticipant",
            {"UserID": str(where or "unknown")[:64], "UserIsRequestor": "false"},
        )
        _code(peer, "RoleIDCode", mapping.destination)
        if mapping.destination == ROLE_DESTINATION_MEDIA:
            # A.5.3.6 Export: the media's type (CID 405); a page printed, else a file
            media = ET.SubElement(peer, "MediaIdentifier")
            _code(media, "MediaType", PAPER if where == "print" else URI)


def _objects(root: ET.Element, record: AuditRecord, mapping: EventMapping, log_id: str) -> None:
    pseudonym = f"HMAC-SHA256 pseudonym, site key {record.pseudonym_key}"
    if "patient" in mapping.objects and record.patient_pseudonym:
        _object(
            root,
            record.patient_pseudonym,
            type_code="1",  # person
            role="1",  # patient
            id_type=("2", "RFC-3881", "Patient Number"),
            details=[("Pseudonym", pseudonym)],
        )
    if "patient" in mapping.objects and record.study_pseudonym:
        details = [("Pseudonym", pseudonym)]
        if record.sop_pseudonym:
            details.append(("SOPInstancePseudonym", record.sop_pseudonym))
        if record.accession_pseudonym:
            details.append(("AccessionPseudonym", record.accession_pseudonym))
        _object(
            root,
            record.study_pseudonym,
            type_code="2",  # system object
            role="3",  # report
            id_type=("110180", "DCM", "Study Instance UID"),
            details=details,
        )
    if "model" in mapping.objects and record.model_id:
        details = [("ModelVersion", record.model_version or "")]
        if record.bundle_digest:
            details.append(("BundleSHA256", record.bundle_digest))
        _object(
            root,
            record.model_id,
            type_code="2",
            role="4",  # resource
            id_type=("model", LOCAL_SCHEME, "Model bundle id"),
            details=details,
        )
    if "log" in mapping.objects:
        _object(
            root,
            log_id or record.host,
            type_code="2",
            role="13",  # security resource
            id_type=("audit-log", LOCAL_SCHEME, "Bedside audit log id"),
            details=[("Outcome", record.outcome)],
        )


def audit_message(record: AuditRecord, source: AtnaSource, *, log_id: str = "") -> bytes:
    """One row as a DICOM PS3.15 A.5.1 ``AuditMessage`` (UTF-8 XML, with declaration)."""
    mapping = mapping_for(record.type)
    root = ET.Element("AuditMessage")
    ident = ET.SubElement(
        root,
        "EventIdentification",
        {
            "EventActionCode": mapping.action,
            "EventDateTime": record.time,
            "EventOutcomeIndicator": outcome_indicator(record, mapping),
        },
    )
    _code(ident, "EventID", mapping.event_id)
    if mapping.type_code is not None:
        _code(ident, "EventTypeCode", mapping.type_code)
    local = record.type or "unknown"
    _code(ident, "EventTypeCode", (local, LOCAL_SCHEME, local.replace("_", " ")))
    if record.outcome != "success":
        ET.SubElement(ident, "EventOutcomeDescription").text = _outcome_text(record)
    _participants(root, record, mapping, source.app_name)
    src_attrs = {"AuditSourceID": source.source_id or record.host}
    if source.enterprise_site_id:
        src_attrs["AuditEnterpriseSiteID"] = source.enterprise_site_id
    src = ET.SubElement(root, "AuditSourceIdentification", src_attrs)
    _code(
        src,
        "AuditSourceTypeCode",
        (source.source_type, "DCM", _SOURCE_TYPES[source.source_type]),
    )
    _objects(root, record, mapping, log_id)
    # one line: syslog receivers escape control characters such as a newline (rsyslog: #012)
    return XML_DECLARATION + ET.tostring(root, encoding="unicode").encode("utf-8")


def _outcome_text(record: AuditRecord) -> str:
    """A short failure description from the row's own codes (a refusal code, the first bad row
    of a verification); never its free text."""
    detail = record.detail
    parts = [
        f"{key}={json.dumps(detail[key])}"
        for key in ("code", "error_code", "first_bad_seq", "status")
        if isinstance(detail.get(key), str | int | bool)
    ]
    return f"{record.type} failed" + (": " + ", ".join(parts) if parts else "")[:200]
