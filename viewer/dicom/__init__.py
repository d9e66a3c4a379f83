"""DICOM layer: read files, folders and DICOMDIRs, index studies, the greyscale display pipeline.

Public API (ARCHITECTURE.md, "Public faces"): :func:`read_metadata`, :func:`read_image`,
:class:`DisplayRenderer`, :func:`render`, :func:`iter_scan` and the data classes.
"""

from viewer.dicom.index import (
    PatientNode,
    ScanError,
    ScanProgress,
    SeriesNode,
    StudyIndex,
    StudyNode,
    build_index,
    dicomdir_references,
    iter_scan,
    scan,
)
from viewer.dicom.model import DicomImage, ImageMetadata, PixelSpacing, Window
from viewer.dicom.pipeline import DisplayRenderer, render
from viewer.dicom.reader import read_image, read_metadata
from viewer.dicom.safe_read import DEFAULT_LIMITS, Limits

__all__ = [
    "DEFAULT_LIMITS",
    "DicomImage",
    "DisplayRenderer",
    "ImageMetadata",
    "Limits",
    "PatientNode",
    "PixelSpacing",
    "ScanError",
    "ScanProgress",
    "SeriesNode",
    "StudyIndex",
    "StudyNode",
    "Window",
    "build_index",
    "dicomdir_references",
    "iter_scan",
    "read_image",
    "read_metadata",
    "render",
    "scan",
]
