"""Open the prior (issue 14 item 1): the same patient's earlier studies among the opened images.

Qt-free so the window and a test ask the same question. A chest reading compares today's film
with the last one; the window shows the newest prior beside the current image (view only: the
AI result and the decision stay with the current image, ``viewer.session.reading``).

The same patient: the same non-empty Patient ID (0010,0020) and, where both images carry one,
the same birth date (0010,0030) — the index keeps no Issuer of Patient ID, so two sites' patients
who share an ID are told apart by what the header does hold. Earlier: Study Date (0008,0020)
strictly before the current one (the index keeps no Study Time; a second study on the same day is
not called a prior). An image without a date is never a prior.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the window imports this module at start-up: pydicom loads in workers
    from viewer.dicom.model import ImageMetadata

__all__ = ["PriorStudy", "find_priors", "same_patient", "study_date_text"]


@dataclass(frozen=True)
class PriorStudy:
    """One earlier study of the patient and its images (display order)."""

    study_instance_uid: str
    study_date: str  # DICOM DA, YYYYMMDD
    images: tuple[ImageMetadata, ...]

    def first_image(self, view_position: str = "") -> ImageMetadata:
        """The first image, preferring the current image's View Position (PA beside PA)."""
        if view_position:
            for meta in self.images:
                if meta.view_position.upper() == view_position.upper():
                    return meta
        return self.images[0]


def same_patient(a: ImageMetadata, b: ImageMetadata) -> bool:
    """Same non-empty Patient ID, and the same birth date where both have one."""
    if not a.patient_id.strip() or a.patient_id.strip() != b.patient_id.strip():
        return False
    births = (a.patient_birth_date.strip(), b.patient_birth_date.strip())
    return not all(births) or births[0] == births[1]


def _date(value: str) -> str:
    d = value.strip()
    return d if len(d) == 8 and d.isdigit() else ""


def study_date_text(value: str) -> str:
    """YYYYMMDD -> YYYY-MM-DD (ISO 8601); anything else as it is."""
    d = _date(value)
    return f"{d[:4]}-{d[4:6]}-{d[6:]}" if d else value.strip()


def _order(meta: ImageMetadata) -> tuple[int, int, str]:
    return (
        meta.series_number if meta.series_number is not None else 1 << 30,
        meta.instance_number if meta.instance_number is not None else 1 << 30,
        meta.path,
    )


def find_priors(current: ImageMetadata, images: Iterable[ImageMetadata]) -> list[PriorStudy]:
    """The current patient's studies dated before the current study, newest first."""
    now = _date(current.study_date)
    if not now:
        return []
    studies: dict[str, list[ImageMetadata]] = {}
    for meta in images:
        if not meta.is_image or meta.study_instance_uid == current.study_instance_uid:
            continue
        date = _date(meta.study_date)
        if not date or date >= now or not same_patient(current, meta):
            continue
        studies.setdefault(meta.study_instance_uid, []).append(meta)
    priors = [
        PriorStudy(uid, _date(metas[0].study_date), tuple(sorted(metas, key=_order)))
        for uid, metas in studies.items()
    ]
    priors.sort(key=lambda p: (p.study_date, p.study_instance_uid), reverse=True)
    return priors
