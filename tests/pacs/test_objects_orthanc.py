"""The built objects in a real Orthanc (Debian package, started by tests/pacs/conftest.py): filed
under the source's patient and study, not as a new patient (OHIF #3148); a resend stores nothing
new; Orthanc's own parser reads the UTF-8 content tree back as sent."""

from __future__ import annotations

import io
from typing import Any

from pydicom.uid import ExplicitVRLittleEndian

from tests.pacs.orthanc import OrthancServer
from tests.pacs.reports import JA_NAME, JA_REASON, make_report
from viewer.dicom.synthetic import make_cxr
from viewer.pacs.objects import build_objects, encode


def _find(value: Any, wanted: str) -> bool:
    if isinstance(value, dict):
        return any(_find(v, wanted) for v in value.values())
    if isinstance(value, list):
        return any(_find(v, wanted) for v in value)
    return value == wanted


def test_objects_are_filed_under_the_source_patient_and_study(orthanc: OrthancServer) -> None:
    report = make_report()
    source = make_cxr(3, opacity=True, size=(128, 128))  # the image the report was made from
    assert source.SOPInstanceUID == report.source.SOPInstanceUID
    source.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    buffer = io.BytesIO()
    source.save_as(buffer, enforce_file_format=True)
    orthanc.upload(buffer.getvalue())
    objects = [encode(ds) for ds in build_objects(report)]
    for data in objects:
        orthanc.upload(data)

    patients = orthanc.get_json("/patients")
    studies = orthanc.get_json("/studies?expand")
    assert isinstance(patients, list) and len(patients) == 1
    assert isinstance(studies, list) and len(studies) == 1
    study = studies[0]
    assert study["MainDicomTags"]["StudyInstanceUID"] == report.source.StudyInstanceUID
    assert study["PatientMainDicomTags"]["PatientID"] == report.source.PatientID
    assert len(study["Series"]) == 4  # the source's and one new series per object
    qido = orthanc.get_json(f"/dicom-web/studies?PatientID={report.source.PatientID}")
    assert isinstance(qido, list) and len(qido) == 1
    assert qido[0]["0020000D"]["Value"] == [report.source.StudyInstanceUID]

    # a resend (same reading, built again) is the same instances: nothing new is stored
    for ds in build_objects(report):
        orthanc.upload(encode(ds))
    uids = orthanc.sop_instance_uids()
    assert len(uids) == len(set(uids)) == 4

    # Orthanc's parser reads the UTF-8 SR as sent, and keeps its bytes
    sr_uid = build_objects(report, {"sr"})[0].SOPInstanceUID
    stored = orthanc.instance_bytes(sr_uid)
    assert JA_REASON.encode("utf-8") in stored and JA_NAME.encode("utf-8") in stored
    lookup = orthanc.get_json("/instances?expand")
    assert isinstance(lookup, list)
    sr_id = next(i["ID"] for i in lookup if i["MainDicomTags"]["SOPInstanceUID"] == sr_uid)
    tags = orthanc.get_json(f"/instances/{sr_id}/simplified-tags")
    assert _find(tags, JA_REASON) and _find(tags, JA_NAME)
    assert _find(tags, "AI second reader \u2014 not a diagnosis")
