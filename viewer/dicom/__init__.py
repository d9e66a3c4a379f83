"""DICOM layer: read files, folders and DICOMDIRs, index studies, the greyscale display pipeline.

Public API (ARCHITECTURE.md, "Public faces"): :func:`read_metadata`, :func:`read_image`,
:class:`DisplayRenderer`, :func:`render`, :func:`iter_scan` and the data classes.

The names load on first use (PEP 562 ``__getattr__``), not when the package is imported: any
``viewer.dicom.<module>`` import runs this file first, and importing the pixel pipeline here
would load numpy and pydicom (~0.35 s) into ``bedside dicom info`` and into the window's start
even where only light modules (annotations, the header reader) are needed (issue 19).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
    from viewer.dicom.metadata import read_metadata
    from viewer.dicom.model import DicomImage, ImageMetadata, PixelSpacing, Window
    from viewer.dicom.pipeline import DisplayRenderer, render
    from viewer.dicom.reader import read_image
    from viewer.dicom.safe_read import DEFAULT_LIMITS, Limits

# public name -> the module that defines it
_HOMES = {
    "PatientNode": "index",
    "ScanError": "index",
    "ScanProgress": "index",
    "SeriesNode": "index",
    "StudyIndex": "index",
    "StudyNode": "index",
    "build_index": "index",
    "dicomdir_references": "index",
    "iter_scan": "index",
    "scan": "index",
    "read_metadata": "metadata",
    "DicomImage": "model",
    "ImageMetadata": "model",
    "PixelSpacing": "model",
    "Window": "model",
    "DisplayRenderer": "pipeline",
    "render": "pipeline",
    "read_image": "reader",
    "DEFAULT_LIMITS": "safe_read",
    "Limits": "safe_read",
}

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


def __getattr__(name: str) -> object:
    """Load a public name from its module on first use, then keep it here.

    Plain import statements, not ``importlib``: the layers' linter sees every import."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if home == "index":
        import viewer.dicom.index
    elif home == "metadata":
        import viewer.dicom.metadata
    elif home == "model":
        import viewer.dicom.model
    elif home == "pipeline":
        import viewer.dicom.pipeline
    elif home == "reader":
        import viewer.dicom.reader
    else:
        import viewer.dicom.safe_read
    value = getattr(getattr(viewer.dicom, home), name)
    globals()[name] = value
    return value
