"""Export and print of the current view: the reader's choice, the header it keeps, its audit row.

Why a de-identified header by default (issue 14 item 7): an exported PNG or a printed page leaves
the audit log's protection (a slide, an e-mail, a teaching file), so unless the reader asks for
the full header, the corner text and the print footer keep only what DICOM PS3.15 Annex E, Basic
Application Level Confidentiality Profile (Table E.1-1) lets a de-identified object keep:

- removed (Table E.1-1 action Z or X: "zero length / dummy" or "remove"): Patient's Name
  (0010,0010), Patient ID (0010,0020), Patient's Birth Date (0010,0030), Patient's Sex
  (0010,0040), Accession Number (0008,0050), Study Date (0008,0020), Study and Series
  Description (0008,1030 / 0008,103E), the Study, Series and SOP Instance UIDs (U), Institution
  Name (0008,0080, never shown in the view anyway), and the file's path (it often carries the
  patient's name). Study Date stays only under the profile's Retain Longitudinal Temporal
  Information with Full Dates Option (E.3.6), which a one-off export cannot promise, so it goes.
- kept (not in Table E.1-1: they describe the image, not the person): Modality (0008,0060),
  View Position (0018,5101), Laterality (0020,0060), Body Part Examined, the matrix size, pixel
  spacing (the measurement's millimetres), and the view state (window, zoom, rotation, flip).

The pixels themselves are not cleaned: PS3.15 E.3.1 (Clean Pixel Data Option) is about text
burned into the image, which only a person looking at it can judge; :func:`burned_in` says when
the file itself declares Burned In Annotation (0028,0301) YES, and the dialog warns.

Every export and print is one ``image_exported`` row: the image's keyed pseudonyms (as every
row), where it went (``png`` or ``print``), the header choice and whether overlays were drawn —
never the file's name, path or content.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from viewer.dicom import ImageMetadata
from viewer.session.reading import image_ids
from viewer.session.trail import AppendOutcome, AuditTrail

__all__ = [
    "REMOVED_FIELDS",
    "ExportChoice",
    "HeaderChoice",
    "Target",
    "burned_in",
    "deidentified_meta",
    "header_meta",
    "identity_lines",
    "record_export",
]

HeaderChoice = Literal["deidentified", "full"]
Target = Literal["png", "print"]

# ImageMetadata fields a de-identified export blanks (PS3.15 Table E.1-1, see the module text)
REMOVED_FIELDS: tuple[str, ...] = (
    "path",
    "patient_name",
    "patient_id",
    "patient_birth_date",
    "patient_sex",
    "accession_number",
    "study_date",
    "study_description",
    "series_description",
    "study_instance_uid",
    "series_instance_uid",
    "sop_instance_uid",
)


@dataclass(frozen=True)
class ExportChoice:
    """What the reader chose: overlays and annotations drawn or not, which header."""

    overlays: bool = True
    header: HeaderChoice = "deidentified"

    @property
    def deidentified(self) -> bool:
        return self.header != "full"


def burned_in(header: Any) -> bool:
    """The file declares identifying text burned into its pixels (0028,0301) = YES."""
    value = header.get("BurnedInAnnotation", "") if header is not None else ""
    return str(value).strip().upper() == "YES"


def deidentified_meta(meta: ImageMetadata) -> ImageMetadata:
    """``meta`` with every identifying field of :data:`REMOVED_FIELDS` empty."""
    blank: dict[str, Any] = dict.fromkeys(REMOVED_FIELDS, "")
    return dataclasses.replace(meta, **blank)


def header_meta(meta: ImageMetadata, choice: ExportChoice) -> ImageMetadata:
    """The header an export shows: the file's own, or the de-identified one."""
    return deidentified_meta(meta) if choice.deidentified else meta


def identity_lines(meta: ImageMetadata, choice: ExportChoice) -> list[str]:
    """The identifying values a printed page's footer names (none when de-identified)."""
    if choice.deidentified:
        return []
    return [v for v in (meta.patient_name, meta.patient_id, meta.study_date) if v]


def record_export(
    trail: AuditTrail, meta: ImageMetadata, choice: ExportChoice, target: Target
) -> AppendOutcome:
    """The ``image_exported`` row of one written file or printed page."""
    return trail.append(
        "image_exported",
        detail={"target": target, "header": choice.header, "overlays": choice.overlays},
        **image_ids(meta),
    )
