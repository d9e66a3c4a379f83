"""Opening one file: the header check and the pixel decode, on top of the safe reader.

Why: this is the public entry of the DICOM layer (:func:`read_metadata`, :func:`read_image`);
the bounded parse is in safe_read.py, the metadata in metadata.py, field access in fields.py.
Every failure is a :class:`~viewer.errors.DicomError` naming the file and what is wrong. The
declared image size (Rows x Columns x frames x samples x bytes, PS3.3 C.7.6.3) is checked from
a bounded header-only pass *before* the full read (:func:`check_image_header`); pixel data
shorter than declared is refused. Decoders that crash on corrupt data are not used first
(codecs.py).

Header-only reads (:func:`read_metadata`, defined in metadata.py so that the index and
``bedside dicom info`` load neither numpy nor pydicom) go through the fast raw reader in
header.py when the file is ordinary, and through pydicom otherwise; both give the same
ImageMetadata (tested).

Decisions (deliberate, for a chest X-ray reader):
- colour images (RGB, YBR, PALETTE COLOR) are refused: Bedside shows greyscale radiographs and a
  colour-to-grey conversion would not be the grey scale the standard defines;
- multi-frame images (Number of Frames > 1) are refused rather than silently showing frame 1: a
  chest radiograph is one frame, and inference must never score a part of a series.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pydicom
from pydicom import uid
from pydicom.dataset import Dataset

from viewer.dicom import codecs
from viewer.dicom.display import grey_scale
from viewer.dicom.metadata import (
    MEDIA_STORAGE_DIRECTORY,
    check_image_size,
    incomplete_image_message,
    metadata_from_dataset,
    pixel_data_problem,
    raw_header,
)
from viewer.dicom.metadata import read_metadata as read_metadata  # the public entry, re-exported
from viewer.dicom.model import DicomImage, ImageMetadata
from viewer.dicom.pipeline import apply_lut
from viewer.dicom.safe_read import DEFAULT_LIMITS, Limits, quiet, read_dataset, short_error
from viewer.errors import DicomError


def _kind(meta: ImageMetadata) -> str:
    names = {
        "SR": "structured report (SR)",
        "PR": "presentation state (PR)",
        "KO": "key object selection (KOS)",
        "DOC": "encapsulated document",
    }
    if meta.modality in names:
        return names[meta.modality]
    if meta.sop_class_uid.startswith("1.2.840.10008.5.1.4.1.1.88."):
        return "structured report or key object selection"
    if meta.sop_class_uid.startswith("1.2.840.10008.5.1.4.1.1.11."):
        return "presentation state"
    if meta.sop_class_uid == MEDIA_STORAGE_DIRECTORY:
        return "DICOMDIR (open it as a folder index)"
    name = uid.UID(meta.sop_class_uid).name if meta.sop_class_uid else ""
    return f"non-image object ({name or meta.modality or 'unknown SOP class'})"


def check_image_header(meta: ImageMetadata, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse, before any pixel allocation, what Bedside will not or must not decode."""
    path = meta.path
    problem = incomplete_image_message(meta)
    if problem:
        raise DicomError(problem, path=path)
    if not meta.is_image:
        raise DicomError(f"is a {_kind(meta)}, not an image; it is listed but not shown", path=path)
    check_image_size(meta, limits)
    problem = codecs.missing_decoder_message(meta.transfer_syntax_uid)
    if problem:
        raise DicomError(f"cannot be decoded: {problem}", path=path)


def _decode_with_plugins(ds: Dataset, tsyntax: uid.UID) -> np.ndarray:
    """Try our decoder order (codecs.decoder_order); the last failure propagates."""
    order = codecs.decoder_order(tsyntax)
    failures: list[str] = []
    for plugin in order:
        try:
            ds.pixel_array_options(decoding_plugin=plugin)
            return np.asarray(ds.pixel_array)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # decoders may panic (pyo3 PanicException)
            failures.append(f"{plugin or 'pydicom'}: {short_error(exc)}")
    raise ValueError("; ".join(failures) or "no decoder available")


def _decode(ds: Dataset, meta: ImageMetadata, notes: list[str]) -> np.ndarray:
    path = meta.path
    tsyntax = uid.UID(meta.transfer_syntax_uid)
    try:
        with quiet(notes):
            if "PixelData" not in ds:
                raise DicomError("has no Pixel Data (7FE0,0010)", path=path)
            data = ds.PixelData
            if not tsyntax.is_encapsulated:
                expected = meta.rows * meta.columns * meta.bits_allocated // 8
                if data is None or len(data) < expected:
                    got = 0 if data is None else len(data)
                    raise DicomError(
                        f"has truncated pixel data ({got} of {expected} bytes)", path=path
                    )
            elif not data:
                raise DicomError("has empty compressed pixel data", path=path)
            if "file_meta" not in ds.__dict__ or "TransferSyntaxUID" not in ds.file_meta:
                ds.file_meta = getattr(ds, "file_meta", pydicom.dataset.FileMetaDataset())
                ds.file_meta.TransferSyntaxUID = tsyntax
            arr = _decode_with_plugins(ds, tsyntax)
    except DicomError:
        raise
    except MemoryError as exc:
        raise DicomError("is too large to decode in memory", path=path) from exc
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        # BaseException: Rust decoders (pylibjpeg-rle via pyo3) panic with PanicException,
        # which is not an Exception subclass, on corrupt data.
        hint = ""
        if tsyntax in (uid.JPEGExtended12Bit, uid.JPEGLosslessSV1, uid.JPEGLossless):
            hint = f" (an optional decoder may help: {codecs.GPL_ONLY_HINT})"
        # the decoders' own words name plugins and Python objects ("pylibjpeg: Unable to
        # decode as exceptions were raised by all available plugins"); they stay in the cause
        raise DicomError(
            f"pixel data could not be decoded ({tsyntax.name or tsyntax}): the compressed data "
            "is damaged, or does not match the image size and bit depth its header declares"
            f"{hint}"
            if tsyntax.is_encapsulated
            else f"pixel data could not be decoded ({tsyntax.name or tsyntax}): it does not "
            "match the image size and bit depth its header declares",
            path=path,
        ) from exc
    arr = np.asarray(arr)
    if arr.shape != (meta.rows, meta.columns):
        raise DicomError(
            f"decoded to shape {arr.shape}, not the declared {meta.rows} x {meta.columns}",
            path=path,
        )
    if arr.dtype.kind not in "iu":
        raise DicomError(f"decoded to {arr.dtype} values, not integers", path=path)
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr


def read_image(path: str | Path, *, limits: Limits = DEFAULT_LIMITS) -> DicomImage:
    """Full decode of a single-frame greyscale image, ready for display; raises DicomError."""
    notes: list[str] = []
    with quiet(notes):
        return _read_image(path, limits, notes)


# Image Pixel module elements (PS3.3 C.7.6.3) that must parse when present.
_PIXEL_INTS = (
    ("Rows", "(0028,0010)"),
    ("Columns", "(0028,0011)"),
    ("BitsAllocated", "(0028,0100)"),
    ("BitsStored", "(0028,0101)"),
    ("PixelRepresentation", "(0028,0103)"),
    ("SamplesPerPixel", "(0028,0002)"),
    ("NumberOfFrames", "(0028,0008)"),
)


def _check_pixel_module_values(ds: Dataset, path: str | Path) -> None:
    """An invalid value (wrong VR content) in the pixel module is a clear error, not a guess."""
    for keyword, tag in _PIXEL_INTS:
        if keyword not in ds:
            continue
        try:
            raw = ds[keyword].value
        except Exception as exc:
            raise DicomError(
                f"has an unreadable {keyword} {tag} (a damaged or truncated value)", path=path
            ) from exc
        if raw is None or raw == "":
            if keyword == "NumberOfFrames":  # pydicom's decode: "invalid literal for int()"
                raise DicomError(
                    f"has an empty {keyword} {tag} value (a whole number of frames is needed)",
                    path=path,
                )
            continue
        try:
            int(raw)
        except (TypeError, ValueError) as exc:
            raise DicomError(
                f"has an invalid {keyword} {tag} value {str(raw)[:40]!r} (not an integer)",
                path=path,
            ) from exc


def _checked_meta(ds: Dataset, path: str | Path, limits: Limits) -> ImageMetadata:
    try:
        meta = metadata_from_dataset(ds, path)
        if meta.is_image:
            _check_pixel_module_values(ds, path)
    except DicomError:
        raise
    except Exception as exc:
        raise DicomError(f"has an unreadable header: {short_error(exc)}", path=path) from exc
    check_image_header(meta, limits)
    return meta


def _read_image(path: str | Path, limits: Limits, notes: list[str]) -> DicomImage:
    # A bounded header-only pass first: every limit is checked before the full read, which
    # then re-parses the same (proven small) header and reads or decodes the pixels. A file
    # cut short, or with less Pixel Data than it declares, gets the words the index gives it
    # (metadata.pixel_data_problem), after the limits and before a pixel byte is read.
    header = raw_header(Path(path), limits)
    problem = None if header is None else pixel_data_problem(Path(path), header)
    if problem and header is not None and (header.pixel is None or header.pixel.value_at < 0):
        # cut inside the header or Pixel Data's own tag and length, or no Pixel Data at all:
        # said first, as pydicom's header pass would fail or blame a missing element
        raise DicomError(problem, path=path)
    _checked_meta(read_dataset(path, header_only=True, limits=limits, notes=notes), path, limits)
    if problem:
        raise DicomError(problem, path=path)
    ds = read_dataset(path, header_only=False, limits=limits, notes=notes)
    meta = _checked_meta(ds, path, limits)
    stored = _decode(ds, meta, notes)
    with contextlib.suppress(AttributeError, KeyError):
        del ds.PixelData  # the header keeps no pixel bytes (tag browser, memory)
    return assemble_image(ds, meta, stored, notes, path)


def assemble_image(
    ds: Dataset, meta: ImageMetadata, stored: np.ndarray, notes: list[str], path: str | Path
) -> DicomImage:
    """The grey-scale pipeline over decoded stored values: Modality LUT / Rescale (PS3.3
    C.11.1), stored and automatic windows (C.11.2), presets. One path for the full image and
    for the reduced-resolution preview (viewer.dicom.preview), so both show the same grey scale.
    """
    grey = grey_scale(ds, meta, stored, notes, str(path))
    try:
        modality = apply_lut(grey.mod_values.astype(np.float32), grey.domain.index)
    except Exception as exc:
        raise DicomError(
            f"has an invalid grey-scale pipeline: {short_error(exc)}", path=path
        ) from exc
    windows, choice = grey.windows, grey.choice
    return DicomImage(
        meta=meta,
        stored=stored,
        modality=modality,
        windows=windows,
        auto_window=choice.auto,
        default_window=choice.default,
        header=ds,
        notes=tuple(dict.fromkeys(note[:300] for note in notes))[:20],
        presets=choice.presets,
        wide_windows=choice.wide,
        outside_windows=choice.outside,
    )
