"""Plain data the DICOM layer hands to the UI, the CLI and inference (ARCHITECTURE.md)."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # numpy and pydicom are not loaded for the metadata alone (issue 19)
    import numpy as np
    import pydicom

VoiFunction = Literal["LINEAR", "LINEAR_EXACT", "SIGMOID"]
VOI_FUNCTIONS: tuple[VoiFunction, ...] = ("LINEAR", "LINEAR_EXACT", "SIGMOID")


@dataclass(frozen=True)
class Window:
    """A VOI preset: Window Center/Width (0028,1050/1051) with VOI LUT Function (0028,1056).

    ``lut_index`` (an addition to the contract, default None) marks a preset that is item N of
    the VOI LUT Sequence (0028,3010) rather than a window; ``center``/``width`` then describe the
    LUT's input range so the UI can still show numbers.
    """

    center: float
    width: float
    function: VoiFunction = "LINEAR"
    explanation: str = ""
    lut_index: int | None = None

    def label(self) -> str:
        """Short human label for a preset menu."""
        if self.lut_index is not None:
            return self.explanation or f"VOI LUT {self.lut_index + 1}"
        text = f"C {self.center:g} / W {self.width:g}"
        if self.function != "LINEAR":
            text += f" ({self.function})"
        return f"{self.explanation}: {text}" if self.explanation else text


@dataclass(frozen=True)
class PixelSpacing:
    """Physical pixel size in mm and where it came from (measurements must say which).

    ``PixelSpacing`` is (0028,0030), calibrated to the patient; ``ImagerPixelSpacing`` is
    (0018,1164) at the detector; ``ImagerPixelSpacingCorrected`` is (0018,1164) divided by the
    Estimated Radiographic Magnification Factor (0018,1114), PS3.3 C.8.11.4.
    """

    row_mm: float
    col_mm: float
    source: Literal["PixelSpacing", "ImagerPixelSpacing", "ImagerPixelSpacingCorrected"]


@dataclass(frozen=True)
class ImageMetadata:
    """Header-only description of one DICOM object (image or not)."""

    path: str
    sop_class_uid: str
    sop_instance_uid: str
    study_instance_uid: str
    series_instance_uid: str
    accession_number: str
    patient_id: str
    patient_name: str
    patient_birth_date: str
    patient_sex: str
    study_date: str
    study_description: str
    series_description: str
    series_number: int | None
    instance_number: int | None
    modality: str
    view_position: str
    laterality: str
    body_part: str
    patient_orientation: str
    photometric: str
    bits_stored: int
    bits_allocated: int
    pixel_representation: int
    rows: int
    columns: int
    samples_per_pixel: int
    number_of_frames: int
    pixel_spacing: PixelSpacing | None
    manufacturer: str
    model_name: str
    transfer_syntax_uid: str
    is_image: bool
    # Patient Species Description (0010,2201) or the meaning of the Patient Species Code Sequence
    # (0010,2202), PS3.3 C.7.1.1: present only in veterinary imaging; empty for human patients
    patient_species: str = ""


@dataclass
class DicomImage:
    """A decoded greyscale image, ready for display and for inference."""

    meta: ImageMetadata
    stored: np.ndarray
    modality: np.ndarray
    windows: tuple[Window, ...]
    auto_window: Window
    default_window: Window
    header: pydicom.Dataset
    # Addition to the contract (defaulted): non-fatal problems met while reading, e.g. pydicom
    # warnings about invalid values or a stored window that was ignored; for the tag browser.
    notes: tuple[str, ...] = ()
    # Additions to the contract (defaulted; viewer.dicom.display): the window menu in order,
    # the default first (stored windows, automatic, chest presets, full range, then too-wide
    # stored windows), and the stored windows judged too wide to be the default. Display only:
    # inference uses ``windows`` as stored.
    presets: tuple[Window, ...] = ()
    wide_windows: tuple[Window, ...] = ()
    # stored windows that miss every value of the image (display.outside): not the default
    outside_windows: tuple[Window, ...] = ()

    @functools.cached_property
    def pixel_sha256(self) -> str:
        """SHA-256 of the stored pixel values (shape, dtype and bytes), computed once.

        Why: SOP Instance UID (0008,0018) should name one image, but real archives hold
        different images under one UID; a reading is keyed by UID *and* pixels so that two such
        files never share a decision. ~30 ms for 3000 x 3000 16-bit: call it off the GUI thread.
        """
        import numpy as np

        arr = np.ascontiguousarray(self.stored)
        digest = hashlib.sha256(f"{arr.shape}|{arr.dtype.str}|".encode())
        digest.update(arr.data.cast("B"))
        return digest.hexdigest()
