"""The source image's identity, checked and copied: what every object for PACS inherits.

PACS file an object under the patient and study its header names (PS3.3 C.7.1.1 Patient, C.7.2.1
General Study). An SR without them becomes a new patient in Orthanc (OHIF #3148); one with a
garbled name or an over-long ID is filed under a patient nobody finds. So the source header is
read here once, strictly: every attribute copied is decoded in the source's own character set
(a decoding that needs replacement characters is refused), checked against its VR (PS3.5 6.2),
and written into a fresh dataset that holds nothing else. Anything wrong raises
:class:`~viewer.pacs.model.PacsObjectError` naming the attribute: nothing is sent rather than an
orphan or a misfiled object (the reading itself stays in the audit log).
"""

from __future__ import annotations

import copy
import re
import warnings
from typing import Any

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence as DicomSequence
from pydicom.valuerep import PersonName

from viewer.pacs.model import AiReport, PacsObjectError

# (keyword, VR, required): the Patient and General Study modules' identifying attributes, then
# the references the objects need (PS3.3 C.12.1 SOP Common, C.7.3.1 General Series).
PATIENT_STUDY: tuple[tuple[str, str, bool], ...] = (
    ("PatientName", "PN", False),
    ("PatientID", "LO", True),
    ("IssuerOfPatientID", "LO", False),
    ("PatientBirthDate", "DA", False),
    ("PatientSex", "CS", False),
    ("StudyInstanceUID", "UI", True),
    ("StudyDate", "DA", False),
    ("StudyTime", "TM", False),
    ("AccessionNumber", "SH", False),
    ("ReferringPhysicianName", "PN", False),
    ("StudyID", "SH", False),
    ("StudyDescription", "LO", False),
)
REFERENCES: tuple[tuple[str, str, bool], ...] = (
    ("SOPClassUID", "UI", True),
    ("SOPInstanceUID", "UI", True),
    ("SeriesInstanceUID", "UI", True),
    ("Modality", "CS", True),
    ("Laterality", "CS", False),
    ("BodyPartExamined", "CS", False),
)
SERIES_DESCRIPTION = "AI second reader \u2014 not a diagnosis"
SERIES_NUMBERS = {"sr": 9701, "sc": 9702, "gsps": 9703}  # one new series per kind of object
MAX_SIDE = 16384  # rows/columns beyond this are not a chest X-ray Bedside displayed

_MAX_CHARS = {"LO": 64, "SH": 16, "CS": 16, "PN": 64 * 3 + 2}
_UID = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")
_DA = re.compile(r"^\d{8}$")
_TM = re.compile(r"^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$")
_CS = re.compile(r"^[A-Z0-9 _]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ufffd]")  # ISO 2022 escapes are gone once decoded


def _decoded(ds: Dataset, keyword: str) -> Any:
    """The element's value decoded in the dataset's character set; a decoding pydicom had to
    patch with replacement characters (it warns) is refused."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = ds.get(keyword)
        except Exception as exc:  # a malformed element (wrong length, bad VR) in a hostile file
            raise PacsObjectError(
                f"The source image's {keyword} cannot be read ({type(exc).__name__}); no PACS "
                "object was built."
            ) from exc
    charset = ds.get("SpecificCharacterSet") or "ISO_IR 6"
    default = charset in ("ISO_IR 6", ["ISO_IR 6"], "", [""])
    # PS3.5 6.1.2.1: without a Specific Character Set only ASCII is allowed; pydicom reads such
    # bytes as Latin-1 without a word, which turns a UTF-8 or JIS name into a wrong one.
    plausible = not default or not isinstance(value, str | PersonName) or str(value).isascii()
    if not plausible or any("decode" in str(w.message).lower() for w in caught):
        raise PacsObjectError(
            f"The source image's {keyword} is not valid text in its character set "
            f"({charset}); no PACS object was built, so nothing is filed under a garbled name."
        )
    return value


def _valid(vr: str, text: str) -> bool:
    """``text`` is a value of ``vr`` (PS3.5 6.2): UI digits and dots, DA/TM digits, CS upper."""
    if vr == "UI":
        return len(text) <= 64 and bool(_UID.match(text))
    if vr == "DA":
        return not text or bool(_DA.match(text))
    if vr == "TM":
        return not text or bool(_TM.match(text))
    if vr == "CS":
        return bool(_CS.match(text))
    return True


def _text(keyword: str, vr: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, MultiValue | list | tuple):  # every attribute copied here is VM 1
        raise PacsObjectError(
            f"The source image's {keyword} holds {len(value)} values where DICOM allows one; "
            "no PACS object was built."
        )
    text = str(value)
    if _CONTROL.search(text):
        raise PacsObjectError(
            f"The source image's {keyword} holds control or undecodable characters; "
            "no PACS object was built, so nothing is filed under a garbled value."
        )
    text = text.strip() if vr != "PN" else text.rstrip()
    limit = _MAX_CHARS.get(vr)
    if limit is not None and len(text) > limit:
        raise PacsObjectError(
            f"The source image's {keyword} is {len(text)} characters long, more than DICOM "
            f"allows ({limit}, PS3.5 6.2); no PACS object was built."
        )
    if not _valid(vr, text):
        # the value itself is not named: this sentence is the reason of the pacs_not_queued
        # audit row (forwarded to the department store and ATNA), and a birth date or a study
        # UID there is PHI the log otherwise holds only as pseudonyms
        raise PacsObjectError(
            f"The source image's {keyword} is not a valid {vr} value (PS3.5 6.2); no PACS "
            "object was built."
        )
    return text


def identity(report: AiReport) -> Dataset:
    """A fresh dataset with the source's checked patient, study and reference attributes (and its
    image size), in UTF-8 (ISO_IR 192): what highdicom copies into each object as evidence."""
    src = report.source
    if not isinstance(src, Dataset):
        raise PacsObjectError("The reading has no source image header; no PACS object was built.")
    out = Dataset()
    out.SpecificCharacterSet = "ISO_IR 192"
    for keyword, vr, required in PATIENT_STUDY + REFERENCES:
        text = _text(keyword, vr, _decoded(src, keyword))
        if required and not text:
            raise PacsObjectError(
                f"The source image has no {keyword}: a PACS object without it would be filed as "
                "a new patient or study (an orphan), so none was built."
            )
        if keyword in ("PatientName", "ReferringPhysicianName"):
            out.add_new(keyword, vr, text)
        elif text or not required:
            setattr(out, keyword, text)
    for keyword in ("Rows", "Columns"):
        size = _decoded(src, keyword)
        if not isinstance(size, int) or not 1 <= size <= MAX_SIDE:
            raise PacsObjectError(
                f"The source image's {keyword} ({str(size)[:20]}) is not a plausible image size "
                f"(1..{MAX_SIDE}); no PACS object was built."
            )
        setattr(out, keyword, size)
    return out


def new_instance(report: AiReport, kind: str) -> dict[str, Any]:
    """highdicom's arguments every object shares: its own new series (General Series C.7.3.1)
    with the "not a diagnosis" description, UIDs derived from the reading, UTF-8."""
    return {
        "series_instance_uid": report.uid(f"{kind}-series"),
        "series_number": SERIES_NUMBERS[kind],
        "sop_instance_uid": report.uid(kind),
        "instance_number": 1,
        "manufacturer": "Bedside",
        "series_description": SERIES_DESCRIPTION,
        "specific_character_set": "ISO_IR 192",
    }


def for_highdicom(evidence: Dataset) -> Dataset:
    """The identity as highdicom accepts it: it refuses a person name without a caret ("DOE",
    valid DICOM, common in real files), so such a name gets the equivalent trailing "^"
    (PS3.5 6.2.1: trailing empty components may be omitted). :func:`finish_object` puts the
    source's exact value back."""
    out = copy.deepcopy(evidence)
    for keyword in ("PatientName", "ReferringPhysicianName"):
        name = str(out.get(keyword, ""))
        if name and "^" not in name:
            out.add_new(keyword, "PN", name + "^")
    return out


def person_name(name: str) -> str:
    """A reader's printed name as a PN value highdicom accepts ("Yamada" -> "Yamada^")."""
    name = our_text(name, 64 * 3 + 2)
    return name if "^" in name else name + "^"


def finish_object(target: Dataset, evidence: Dataset, report: AiReport, *, image: bool) -> None:
    """What every object gets after highdicom built it: the source's patient and study values
    exactly as checked (highdicom saw :func:`for_highdicom`'s), for an image-like object Body
    Part Examined and Laterality (General Series C.7.3.1: Laterality is Type 2C, needed for a
    paired body part, left out for a chest), and the model in the Contributing Equipment
    Sequence after highdicom's own item (:func:`processing_algorithm`)."""
    for keyword, _, _ in PATIENT_STUDY:
        if keyword in evidence:
            target[keyword] = evidence[keyword]
    if image:
        for keyword in ("BodyPartExamined", "Laterality"):
            if evidence.get(keyword):
                setattr(target, keyword, evidence.get(keyword))
    items = list(target.get("ContributingEquipmentSequence", []))
    target.ContributingEquipmentSequence = DicomSequence([*items, processing_algorithm(report)])


def processing_algorithm(report: AiReport) -> Dataset:
    """One Contributing Equipment Sequence (0018,A001) item naming the AI model, as IHE AI Results
    (AIR) asks: Purpose of Reference (DCM 109103 "Processing Algorithm"), Manufacturer, Model
    Name (the bundle's name and id), Software Versions (the bundle version) and Device UID
    (0018,1002) derived from the bundle digest (a new UID with every retraining)."""
    alg = report.algorithm
    purpose = Dataset()
    purpose.CodeValue = "109103"
    purpose.CodingSchemeDesignator = "DCM"
    purpose.CodeMeaning = "Processing Algorithm"
    item = Dataset()
    item.PurposeOfReferenceCodeSequence = [purpose]
    item.Manufacturer = our_text(alg.manufacturer, 64)
    item.ManufacturerModelName = our_text(f"{alg.name} ({alg.bundle_id})", 64)
    item.SoftwareVersions = our_text(alg.version, 64)
    item.DeviceUID = alg.device_uid
    item.ContributionDateTime = report.reading_time.strftime("%Y%m%d%H%M%S.%f%z")
    item.ContributionDescription = our_text(f"AI second reader; bundle sha256 {alg.digest}", 1024)
    return item


def our_text(text: str, limit: int) -> str:
    """Text of ours (a bundle name, a label, the reader's name) fit for a LO/LT/PN value: no
    backslash (the value delimiter, PS3.5 6.2), no control characters, cut to ``limit``."""
    return _CONTROL.sub(" ", str(text).replace("\\", "/")).strip()[:limit]
