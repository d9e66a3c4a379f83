"""The DICOM objects one reading sends to PACS, built and encoded (issue 17; docs/pacs-objects.md).

``build_objects(report, kinds)`` gives, in this order, the SR (``"sr"``, TID 1500, always
possible), the Secondary Capture (``"sc"``, needs the displayed image) and the presentation state
(``"gsps"``, only when the reading has annotations: an empty one would show nothing). Every object
copies the source's patient and study, sits in its own new series, and has UIDs derived from the
reading id, so building the same reading again gives the same SOP Instance UIDs (a resend is the
same instance to PACS, never a second one). Anything that stops an object from being built is a
:class:`~viewer.pacs.model.PacsObjectError` with a sentence for the reader; nothing half-built is
returned.
"""

from __future__ import annotations

import io
import math
from collections.abc import Collection

from pydicom import dcmwrite
from pydicom.dataset import Dataset

from viewer.errors import BedsideError
from viewer.pacs.model import AiReport, PacsObjectError

KINDS: tuple[str, ...] = ("sr", "sc", "gsps")
MAX_NAME = 64  # PN component group (PS3.5 6.2)


def _check_report(report: AiReport, kinds: Collection[str]) -> None:
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise PacsObjectError(
            f"Unknown PACS object kind {', '.join(unknown)!s}: choose from {', '.join(KINDS)}."
        )
    if report.reading_time.tzinfo is None or report.reading_time.utcoffset() is None:
        raise PacsObjectError(
            "The reading's time has no time zone; PACS objects need an unambiguous time."
        )
    name = report.observer.name.strip()
    if not name:
        raise PacsObjectError(
            "The reader's name is empty; an SR must say who decided. Set your name in the user "
            "settings, then send again."
        )
    if any(len(group) > MAX_NAME for group in name.split("=")):
        raise PacsObjectError(
            f"The reader's name is longer than DICOM allows ({MAX_NAME} characters); shorten it "
            "in the user settings, then send again."
        )
    if not report.reading_id.strip():
        raise PacsObjectError("The reading has no id; its PACS objects could not be named.")
    for label in report.labels:
        numbers = (label.probability, label.threshold)
        if not all(isinstance(n, int | float) and math.isfinite(n) for n in numbers):
            raise PacsObjectError(
                f"The score or threshold of {label.label!r} is not a number; nothing was built."
            )
    if not report.labels and not report.decisions:
        raise PacsObjectError("The reading has no AI result and no decision: nothing to send.")


def build_objects(report: AiReport, kinds: Collection[str] = KINDS) -> list[Dataset]:
    """The reading's objects of the chosen ``kinds`` ("sr", "sc", "gsps"), SR first."""
    _check_report(report, kinds)
    # Imported here: highdicom and its code tables load only when a reading is sent.
    from viewer.pacs.gsps import build_gsps
    from viewer.pacs.sc import build_sc
    from viewer.pacs.sr import build_sr

    out: list[Dataset] = []
    for kind in KINDS:
        if kind not in kinds or (kind == "gsps" and not report.annotations):
            continue
        try:
            if kind == "sr":
                out.append(build_sr(report))
            elif kind == "sc":
                out.append(build_sc(report))
            else:
                out.append(build_gsps(report))
        except BedsideError:
            raise
        except Exception as exc:  # highdicom refuses a value: one sentence, not a traceback
            raise PacsObjectError(
                f"The {kind.upper()} for this reading could not be built: {exc}"
            ) from exc
    return out


def encode(ds: Dataset) -> bytes:
    """The object as a DICOM Part 10 file (preamble, file meta, Explicit VR Little Endian)."""
    buffer = io.BytesIO()
    try:
        dcmwrite(buffer, ds, enforce_file_format=True)
    except Exception as exc:  # a value that cannot be encoded in its VR or character set
        raise PacsObjectError(f"A PACS object could not be encoded: {exc}") from exc
    return buffer.getvalue()
