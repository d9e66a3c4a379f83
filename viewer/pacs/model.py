"""What one AI reading sends to PACS: the :class:`AiReport` and its parts, plain and Qt-free.

The session builds an :class:`AiReport` after a decision is saved (``viewer.session.pacs_link``);
``viewer.pacs.objects.build_objects`` turns it into DICOM objects (SR, SC, GSPS). Every UID of
those objects is derived from the reading's ``reading_id`` (:func:`derive_uid`), so building the
same reading twice gives the same SOP Instance UIDs and a resend never makes a second object in
PACS (PACS treat a second C-STORE / STOW of a known SOP Instance UID as the same instance).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydicom.dataset import Dataset

from viewer.dicom.annotations import Annotation
from viewer.errors import BedsideError

__all__ = [
    "AiReport",
    "Algorithm",
    "FindingDecision",
    "InputCheck",
    "LabelScore",
    "Observer",
    "PacsObjectError",
    "derive_uid",
]

ThresholdSource = Literal["bundle", "site"]
Meaning = Literal["confirmed", "overrode"]
Severity = Literal["ok", "warning", "refusal"]


class PacsObjectError(BedsideError):
    """A DICOM object for PACS cannot be built from this reading (e.g. the source image lacks the
    patient or study identity PACS files it under): nothing is sent rather than an orphan."""


def derive_uid(*parts: str) -> str:
    """A UID under the ``2.25`` arc (PS3.5 B.2, ISO/IEC 9834-8) from SHA-256 of ``parts``.

    The first 128 bits of the digest, with the UUID version (8, "custom", RFC 9562 section 5.8)
    and variant bits set, read as one decimal integer: the same parts always give the same UID,
    different parts a different one (collision odds of a random 122-bit UUID). At most 44
    characters, within the 64 of a UI value."""
    digest = bytearray(hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80  # version 8
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122/9562 variant
    return f"2.25.{int.from_bytes(digest, 'big')}"


@dataclass(frozen=True)
class LabelScore:
    """One label's AI result: the shown probability, the threshold it was compared with, where
    that threshold came from (the bundle's manifest or a site amendment) and its operating point."""

    label: str
    probability: float
    threshold: float
    positive: bool
    threshold_source: ThresholdSource = "bundle"
    operating_point: str = ""


@dataclass(frozen=True)
class InputCheck:
    """One input check's outcome (``viewer.inference.checks.CheckResult``: code, level, message)."""

    code: str
    severity: Severity
    passed: bool
    message: str


@dataclass(frozen=True)
class FindingDecision:
    """The clinician's decision on one finding: agreed with the AI ("confirmed") or not
    ("overrode"), the final finding, and the reason given (may be empty when confirmed)."""

    label: str
    ai_positive: bool
    meaning: Meaning
    final_positive: bool
    reason: str = ""


@dataclass(frozen=True)
class Observer:
    """The person who decided: printed name (DICOM PN form "Family^Given" or free text) and role."""

    name: str
    role: str


@dataclass(frozen=True)
class Algorithm:
    """The model bundle that produced the scores (IHE AIR: Contributing Equipment)."""

    bundle_id: str
    name: str
    version: str
    digest: str  # SHA-256 hex of the bundle
    manufacturer: str = "Bedside"

    @property
    def device_uid(self) -> str:
        """Device UID (0018,1002) of the algorithm: derived from the bundle digest, so it changes
        with every retraining (a new bundle) and is stable for one bundle (IHE AIR 6.5.3.2)."""
        return derive_uid("device", self.digest.lower())


@dataclass(frozen=True, eq=False)
class AiReport:
    """One decided AI reading of one source image, as sent to PACS.

    ``source`` is the source image's header (no pixels needed); its patient and study attributes
    are copied into every object. ``display`` is the displayed image (uint8, rows x columns,
    after the grey-scale pipeline), ``heatmap`` the explanation in [0, 1] of the same shape; both
    are needed only for the Secondary Capture. ``annotations`` are in the source image's pixel
    space (for the presentation state). ``reading_id`` is stable for one reading: every UID of
    the objects derives from it (:func:`derive_uid`)."""

    source: Dataset
    labels: tuple[LabelScore, ...]
    checks: tuple[InputCheck, ...]
    decisions: tuple[FindingDecision, ...]
    observer: Observer
    algorithm: Algorithm
    reading_id: str
    reading_time: dt.datetime
    display: np.ndarray | None = field(default=None, repr=False)
    heatmap: np.ndarray | None = field(default=None, repr=False)
    annotations: tuple[Annotation, ...] = ()

    def uid(self, kind: str) -> str:
        """The UID of this reading's ``kind`` ("sr", "sr-series", "sc", ...): deterministic."""
        return derive_uid("bedside-pacs", self.reading_id, kind)
