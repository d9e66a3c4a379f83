"""The reading as a DICOM Structured Report: TID 1500 Measurement Report in a Comprehensive SR.

Content tree (PS3.16 TID 1500 / 1501; docs/pacs-objects.md shows it whole):

- root "Imaging Measurement Report" (DCM 126000) with the person observer (the clinician who
  decided: name, role) and a device observer (the model: Device UID from the bundle digest),
  procedure "Plain chest X-ray" (SCT 399208008) (the source image is each group's "Source");
- one Measurement Group (TID 1501) per label: tracking id = the label, finding type = the
  label's code, algorithm identification (TID 4019: name, version, manufacturer), the source
  image, NUM "Probability" (DCM 122157, UCUM "1"), NUM "Threshold Value" (DCM 122411), the AI's
  qualitative evaluation "<finding> = Present/Absent" (SCT 52101004 / 272519000), the
  threshold's source and operating point, and the clinician's decision, final finding and reason;
- one Measurement Group "Input checks": each check's outcome with its code and message.

Where no standard code exists, the private scheme ``99BEDSIDE`` is used and declared in the
Coding Scheme Identification Sequence (0008,0110) (PS3.3 C.12.1.1.3; PS3.16 8.2: "99" prefixed
designators are private). :data:`PRIVATE_CODES` lists every one.
"""

from __future__ import annotations

import hashlib

import highdicom as hd
from highdicom.sr import CodedConcept
from pydicom.dataset import Dataset

from viewer.pacs.model import AiReport, FindingDecision, LabelScore
from viewer.pacs.source import (
    finish_object,
    for_highdicom,
    identity,
    new_instance,
    our_text,
    person_name,
)

SCHEME = "99BEDSIDE"


def _private(value: str, meaning: str) -> CodedConcept:
    return CodedConcept(value=value, scheme_designator=SCHEME, meaning=our_text(meaning, 64))


# The private codes (99BEDSIDE): value -> meaning. Documented in docs/pacs-objects.md.
PRIVATE_CODES: dict[str, str] = {
    "THRSRC": "Threshold source",
    "BUNDLE": "Threshold of the model bundle",
    "SITE": "Site threshold amendment",
    "OPPOINT": "Operating point",
    "CLINDEC": "Clinician decision on the AI finding",
    "CONFIRMED": "Confirmed the AI finding",
    "OVERRODE": "Overrode the AI finding",
    "CLINFIND": "Clinician finding",
    "REASON": "Reason for the decision",
    "INCHECKS": "Input checks",
    "INCHECK": "Input check",
    "CHKPASS": "Input check passed",
    "CHKWARN": "Input check warning",
    "CHKREFUSE": "Input check refused the image",
    "CHKCODE": "Input check code",
    "CHKMSG": "Input check message",
    "NOTDECIDED": "No clinician decision recorded for this finding",
}
C = {value: _private(value, meaning) for value, meaning in PRIVATE_CODES.items()}

PRESENT = CodedConcept("52101004", "SCT", "Present")
ABSENT = CodedConcept("272519000", "SCT", "Absent")
PROBABILITY = CodedConcept("122157", "DCM", "Probability")
THRESHOLD = CodedConcept("122411", "DCM", "Threshold Value")
NO_UNITS = CodedConcept("1", "UCUM", "no units")
PLAIN_CHEST_XRAY = CodedConcept("399208008", "SCT", "Plain chest X-ray")

# Standard codes for common chest X-ray labels (names normalised: lower case, no "_"/"-"/" ").
# From PS3.16 (SNOMED CT and DCM concepts in its CIDs); any other label gets a 99BEDSIDE code.
FINDING_CODES: dict[str, CodedConcept] = {
    "atelectasis": CodedConcept("46621007", "SCT", "Atelectasis"),
    "cardiomegaly": CodedConcept("287272002", "SCT", "Cardiomegaly"),
    "effusion": CodedConcept("60046008", "SCT", "Pleural effusion"),
    "pleuraleffusion": CodedConcept("60046008", "SCT", "Pleural effusion"),
    "pneumothorax": CodedConcept("36118008", "SCT", "Pneumothorax"),
    "edema": CodedConcept("19242006", "SCT", "Pulmonary edema"),
    "pulmonaryedema": CodedConcept("19242006", "SCT", "Pulmonary edema"),
    "nodule": CodedConcept("27925004", "SCT", "Nodule"),
    "mass": CodedConcept("4147007", "SCT", "Mass"),
    "fibrosis": CodedConcept("112674009", "SCT", "Fibrosis"),
    "pneumonia": CodedConcept("233604007", "SCT", "Pneumonia"),
    "opacity": CodedConcept("112001", "DCM", "Opacity"),
    "lungopacity": CodedConcept("112001", "DCM", "Opacity"),
}
ROLE_CODES: dict[str, CodedConcept] = {
    "radiologist": CodedConcept("66862007", "SCT", "Radiologist"),
    "physician": CodedConcept("309343006", "SCT", "Physician"),
    "resident": CodedConcept("405277009", "SCT", "Resident physician"),
}


def _private_value(text: str, prefix: str) -> str:
    """A 99BEDSIDE code value for free text: the text itself when it is short plain ASCII
    (PS3.5 SH: 16 characters), else ``prefix`` + 12 hex digits of its SHA-256 (stable, and two
    long labels never share a code)."""
    plain = "".join(ch for ch in text.upper() if ch.isascii() and ch.isalnum())
    if plain and len(plain) <= 16 and plain == text.upper():
        return plain
    return prefix + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def finding_code(label: str) -> CodedConcept:
    """The label's code: a standard one when :data:`FINDING_CODES` knows the label, else a
    99BEDSIDE code (:func:`_private_value`) whose meaning is the label."""
    key = "".join(ch for ch in label.lower() if ch.isalnum())
    known = FINDING_CODES.get(key)
    if known is not None:
        return known
    return _private(_private_value(label, "F"), label or "Finding")


def role_code(role: str) -> CodedConcept:
    """The observer's role (TID 1003 "Person Observer's Role in the Organization"): SCT for the
    common roles, else 99BEDSIDE with the role's own words as meaning."""
    known = ROLE_CODES.get(role.strip().lower())
    if known is not None:
        return known
    words = our_text(role, 64) or "Reader"
    return _private(_private_value(words, "R"), words)


def _present(flag: bool) -> CodedConcept:
    return PRESENT if flag else ABSENT


def _code(name: CodedConcept, value: CodedConcept) -> hd.sr.CodeContentItem:
    return hd.sr.CodeContentItem(
        name=name, value=value, relationship_type=hd.sr.RelationshipTypeValues.CONTAINS
    )


def _text(name: CodedConcept, value: str, rel: str = "CONTAINS") -> hd.sr.TextContentItem:
    return hd.sr.TextContentItem(
        name=name, value=value, relationship_type=hd.sr.RelationshipTypeValues(rel)
    )


def _num(name: CodedConcept, value: float) -> hd.sr.Measurement:
    return hd.sr.Measurement(name=name, value=float(value), unit=NO_UNITS)


def _label_group(
    report: AiReport,
    evidence: Dataset,
    label: str,
    score: LabelScore | None,
    decision: FindingDecision | None,
) -> hd.sr.MeasurementsAndQualitativeEvaluations:
    alg = report.algorithm
    code = finding_code(label)
    measurements = []
    evaluations = []
    if score is not None:
        measurements = [_num(PROBABILITY, score.probability), _num(THRESHOLD, score.threshold)]
        evaluations.append(hd.sr.QualitativeEvaluation(code, _present(score.positive)))
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=report.uid(f"track:{label}"), identifier=label
        ),
        finding_type=code,
        algorithm_id=hd.sr.AlgorithmIdentification(
            name=alg.name, version=alg.version, manufacturer=alg.manufacturer
        )
        if score is not None
        else None,
        measurements=measurements or None,
        qualitative_evaluations=evaluations or None,
        source_images=[hd.sr.SourceImageForMeasurementGroup.from_source_image(evidence)],
    )
    items = group[0].ContentSequence
    if score is not None:
        items.append(
            _code(C["THRSRC"], C["BUNDLE" if score.threshold_source == "bundle" else "SITE"])
        )
        if score.operating_point:
            items.append(_text(C["OPPOINT"], score.operating_point))
    if decision is None:
        items.append(_code(C["CLINDEC"], C["NOTDECIDED"]))
    else:
        items.append(_code(C["CLINDEC"], C[decision.meaning.upper()]))
        items.append(_code(C["CLINFIND"], _present(decision.final_positive)))
        if decision.reason:
            items.append(_text(C["REASON"], decision.reason))
    return group


def _checks_group(
    report: AiReport, evidence: Dataset
) -> hd.sr.MeasurementsAndQualitativeEvaluations:
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=report.uid("track:input-checks"), identifier="Input checks"
        ),
        finding_type=C["INCHECKS"],
        source_images=[hd.sr.SourceImageForMeasurementGroup.from_source_image(evidence)],
    )
    outcome = {"ok": "CHKPASS", "warning": "CHKWARN", "refusal": "CHKREFUSE"}
    for check in report.checks:
        value = "CHKPASS" if check.passed else outcome[check.severity]
        item = _code(C["INCHECK"], C[value])
        item.ContentSequence = hd.sr.ContentSequence(
            [
                _text(C["CHKCODE"], check.code or "unnamed", "HAS PROPERTIES"),
                _text(C["CHKMSG"], check.message or "-", "HAS PROPERTIES"),
            ]
        )
        group[0].ContentSequence.append(item)
    return group


def build_sr(report: AiReport) -> hd.sr.ComprehensiveSR:
    """The reading's SR (Comprehensive SR, 1.2.840.10008.5.1.4.1.1.88.33), patient and study
    copied from the source, in a new series, UTF-8; UIDs derived from the reading id."""
    exact = identity(report)
    evidence = for_highdicom(exact)
    alg = report.algorithm
    observer = hd.sr.ObservationContext(
        observer_person_context=hd.sr.ObserverContext(
            observer_type=hd.sr.CodedConcept("121006", "DCM", "Person"),
            observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
                name=person_name(report.observer.name),
                role_in_organization=role_code(report.observer.role),
            ),
        ),
        observer_device_context=hd.sr.ObserverContext(
            observer_type=hd.sr.CodedConcept("121007", "DCM", "Device"),
            observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
                uid=alg.device_uid,
                name=alg.name[:64],
                manufacturer_name=alg.manufacturer[:64],
                model_name=alg.bundle_id[:64],
            ),
        ),
    )
    scores = {s.label: s for s in report.labels}
    decisions = {d.label: d for d in report.decisions}
    labels = [s.label for s in report.labels] + [
        d.label for d in report.decisions if d.label not in scores
    ]
    groups = [_label_group(report, evidence, x, scores.get(x), decisions.get(x)) for x in labels]
    groups.append(_checks_group(report, evidence))
    content = hd.sr.MeasurementReport(
        observation_context=observer,
        procedure_reported=PLAIN_CHEST_XRAY,
        imaging_measurements=groups,
    )
    when = report.reading_time  # local time of the reading, with its offset below
    sr = hd.sr.ComprehensiveSR(
        evidence=[evidence],
        content=content[0],
        **new_instance(report, "sr"),
        is_complete=True,
        content_date=when.date(),
        content_time=when.time().replace(tzinfo=None),
        series_date=when.date(),
        series_time=when.time().replace(tzinfo=None),
        coding_schemes=[
            hd.coding_schemes.CodingSchemeIdentificationItem(
                designator=SCHEME,
                name="Bedside private codes (docs/pacs-objects.md)",
                responsible_organization="Bedside",
            )
        ],
    )
    finish_object(sr, exact, report, image=False)
    sr.TimezoneOffsetFromUTC = when.strftime("%z")  # (0008,0201): dates above are local
    return sr
