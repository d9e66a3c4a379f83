"""The pydicom-free render: uncompressed greyscale pixels read straight from the file.

Why: ``bedside dicom render`` of a small image is mostly start-up, and importing pydicom costs
~0.25 s of it (issue 19 item 2: <= 8x a bare Python start). For the ordinary file, one frame of
native (uncompressed) MONOCHROME1/2 pixels in Implicit or Explicit VR Little Endian (PS3.5 A.1,
A.2) with the fast header reader able to read its header (header.py), the pixels are a numpy
view of the file's bytes from the Pixel Data offset, and the grey scale is the same code over
the same values (display.grey_scale, pipeline.DisplayRenderer) with the header's values in a
:class:`~viewer.dicom.pipeline.PlainHeader`: Rescale Slope/Intercept (PS3.3 C.11.1.1.2) and
Window Center/Width with the VOI LUT Function (C.11.2.1.2, C.11.2.1.3) by the standard's
equations (pipeline.rescale, pipeline.equation_window_lut) where read_image uses pydicom's.

Anything else goes to the pydicom path (:func:`read_display` falls back, so the result or the
message is that path's): compressed, deflated or big endian files, no preamble, colour or
several frames, a Modality or VOI LUT Sequence (0028,3000 / 0028,3010), Rescale Slope without
Intercept or the reverse, a value that is empty, multi-valued where one is expected or not a
plain number, a character set the header reader leaves to pydicom, Pixel Data
that is not exactly the declared size or is followed by anything but Data Set Trailing Padding.
The size limits are checked before a pixel byte is read (metadata.check_image_size, as
read_image does).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from viewer.dicom.display import grey_scale
from viewer.dicom.header import EXPLICIT_LE, IMPLICIT_LE, RawHeader
from viewer.dicom.metadata import check_image_size, fast_header
from viewer.dicom.model import ImageMetadata, Window
from viewer.dicom.pipeline import PlainHeader
from viewer.dicom.safe_read import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from viewer.dicom.model import DicomImage

_PIXEL_DATA = 0x7FE00010
_UNDEFINED = 0xFFFFFFFF
# A DS value (PS3.5 6.2) that Python's float reads as pydicom's DSfloat does; anything else
# (inf, nan, 1_0, an empty value) is left to pydicom
_DS = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_IS = re.compile(r"[+-]?\d+")
# The pipeline's text elements (read with .strip().upper(), or shown: the explanation)
_TEXT = ("Modality", "BodyPartExamined", "RescaleType", "VOILUTFunction", "PresentationLUTShape")
_PIXEL_US = (
    "Rows",
    "Columns",
    "BitsAllocated",
    "BitsStored",
    "PixelRepresentation",
    "SamplesPerPixel",
)


@dataclass(frozen=True)
class DirectImage:
    """What the render needs of an image read without pydicom (a subset of DicomImage)."""

    meta: ImageMetadata
    stored: np.ndarray
    header: PlainHeader
    windows: tuple[Window, ...]
    auto_window: Window
    default_window: Window
    presets: tuple[Window, ...]
    notes: tuple[str, ...] = ()


class _UnsureError(Exception):
    """The direct path does not read this file as pydicom would: use pydicom."""


def _numbers(text: str) -> float | list[float]:
    parts = [p.strip(" ") for p in text.split("\\")]
    if not all(_DS.fullmatch(p) for p in parts):
        raise _UnsureError
    values = [float(p) for p in parts]
    return values[0] if len(values) == 1 else values


def _one_int(raw: tuple[str, bytes], pixel_representation: int) -> int:
    """A US / SS value (PS3.5 6.2) of exactly one number; "US or SS" (implicit VR) resolved by
    Pixel Representation as pydicom resolves it."""
    vr, value = raw
    if len(value) != 2:
        raise _UnsureError
    if vr == "US or SS":
        vr = "US" if pixel_representation == 0 else "SS"
    if vr not in ("US", "SS"):
        raise _UnsureError
    (number,) = struct.unpack("<H" if vr == "US" else "<h", value)
    return int(number)


def _clean_text(header: RawHeader, raw: bytes) -> list[str]:
    """A text value's components as pydicom's convert_text gives them (split on backslash,
    each with trailing NULs and spaces removed)."""
    parts = [p.rstrip("\x00 ") for p in header.text(raw).split("\\")]
    if any("\x00" in p for p in parts):
        raise _UnsureError
    return parts


def _plain_pixel_module(header: RawHeader) -> bool:
    """The Image Pixel module's integers (PS3.3 C.7.6.3) are single US values and Number of
    Frames a plain IS: what read_image checks first (its _check_pixel_module_values)."""
    for keyword in _PIXEL_US:
        raw = header.raw(keyword)
        if raw is None or raw[0] != "US" or len(raw[1]) != 2:
            return False
    frames = header.raw("NumberOfFrames")
    if frames is None:
        return True
    text = frames[1].decode("ascii", "replace").strip()
    return bool(_IS.fullmatch(text)) and int(text) >= 1  # pydicom refuses a negative count


def grey_fields(header: RawHeader, meta: ImageMetadata) -> PlainHeader:
    """The pipeline's values from the raw header; _UnsureError when pydicom must read them."""
    values: dict[str, Any] = {}
    if header.has("ModalityLUTSequence") or header.has("VOILUTSequence"):
        raise _UnsureError  # a LUT: pydicom's apply_modality_lut / apply_voi
    if header.has("RescaleSlope") != header.has("RescaleIntercept"):
        raise _UnsureError  # one without the other (Type 1C together): pydicom decides
    for keyword in ("BitsStored", "PixelRepresentation"):
        raw = header.raw(keyword)
        if raw is None:
            raise _UnsureError
        values[keyword] = _one_int(raw, 0)
    if values["PixelRepresentation"] not in (0, 1):
        raise _UnsureError
    for keyword in ("RescaleSlope", "RescaleIntercept", "WindowCenter", "WindowWidth"):
        raw = header.raw(keyword)
        if raw is not None:
            number = _numbers(raw[1].decode("ascii", "replace"))
            if isinstance(number, list) and keyword.startswith("Rescale"):
                raise _UnsureError  # VM 1 (PS3.3 C.11.1)
            values[keyword] = number
    for keyword in ("PixelPaddingValue", "PixelPaddingRangeLimit"):
        raw = header.raw(keyword)
        if raw is not None:
            values[keyword] = _one_int(raw, meta.pixel_representation)
    for keyword in _TEXT:
        raw = header.raw(keyword)
        if raw is not None:
            parts = _clean_text(header, raw[1])
            if len(parts) != 1:
                raise _UnsureError
            values[keyword] = parts[0]
    raw = header.raw("WindowCenterWidthExplanation")
    if raw is not None:
        parts = _clean_text(header, raw[1])
        values["WindowCenterWidthExplanation"] = parts[0] if len(parts) == 1 else parts
    return PlainHeader(values)


def _stored_pixels(path: Path, header: RawHeader, meta: ImageMetadata) -> np.ndarray:
    """One frame of native pixels from the file as pydicom 3.0 decodes them (little endian,
    signed per Pixel Representation, bits above Bits Stored shifted out: PS3.5 8.1.1)."""
    at = header.pixel_at
    expected = meta.rows * meta.columns * (meta.bits_allocated // 8)
    with path.open("rb") as fh:
        fh.seek(at)
        head = fh.read(12)
        if len(head) < 8 or struct.unpack_from("<I", head)[0] != (0x0010 << 16 | 0x7FE0):
            raise _UnsureError  # Float / Double Float Pixel Data: pydicom
        if header.transfer_syntax == IMPLICIT_LE:
            (length,) = struct.unpack_from("<I", head, 4)
            value_at = at + 8
        else:
            if head[4:6] not in (b"OB", b"OW") or len(head) < 12:
                raise _UnsureError
            (length,) = struct.unpack_from("<I", head, 8)
            value_at = at + 12
        size = fh.seek(0, 2)
        if length == _UNDEFINED or length not in (expected, expected + (expected & 1)):
            raise _UnsureError  # encapsulated, truncated or longer: pydicom's message or warning
        end = value_at + length
        if end != size and not _only_trailing_padding(fh, end, size, header):
            raise _UnsureError  # other elements after Pixel Data: pydicom judges them
        buffer = bytearray(expected)
        fh.seek(value_at)
        if fh.readinto(buffer) != expected:
            raise _UnsureError
    kind = "u" if meta.pixel_representation == 0 else "i"
    dtype = np.dtype(f"<{kind}{meta.bits_allocated // 8}")
    arr = np.frombuffer(buffer, dtype=dtype).reshape(meta.rows, meta.columns)
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    shift = meta.bits_allocated - meta.bits_stored
    if shift:
        np.left_shift(arr, shift, out=arr)
        np.right_shift(arr, shift, out=arr)
    return arr


def _only_trailing_padding(fh: BinaryIO, end: int, size: int, header: RawHeader) -> bool:
    """Pixel Data is followed by one Data Set Trailing Padding (FFFC,FFFC) element running to
    the end of the file (PS3.10 7.2; pydicom reads it as plain bytes), and nothing else."""
    fh.seek(end)
    head = fh.read(12)
    if len(head) < 8 or struct.unpack_from("<I", head)[0] != (0xFFFC << 16 | 0xFFFC):
        return False
    if header.transfer_syntax == IMPLICIT_LE:
        (length,) = struct.unpack_from("<I", head, 4)
        return bool(end + 8 + length == size)
    if len(head) < 12 or head[4:6] != b"OB":
        return False
    (length,) = struct.unpack_from("<I", head, 8)
    return bool(end + 12 + length == size)


def read_direct(path: str | Path, *, limits: Limits = DEFAULT_LIMITS) -> DirectImage | None:
    """The image without pydicom, or None when only the pydicom path reads it as it must be
    read (module docstring). Raises DicomError for what read_image refuses from the header
    alone (the size limits), with the same words."""
    p = Path(path)
    found = fast_header(p, limits)
    if found is None:
        return None
    header, meta = found
    if header.transfer_syntax not in (IMPLICIT_LE, EXPLICIT_LE) or not meta.is_image:
        return None
    if not _plain_pixel_module(header):
        return None  # read_image names the invalid value
    check_image_size(meta, limits)  # before any pixel byte, with read_image's words
    if header.pixel_at < 0:
        return None
    try:
        fields = grey_fields(header, meta)
        stored = _stored_pixels(p, header, meta)
    except (_UnsureError, OSError, ValueError, struct.error):
        return None
    notes: list[str] = []
    grey = grey_scale(fields, meta, stored, notes, str(path))
    return DirectImage(
        meta=meta,
        stored=stored,
        header=fields,
        windows=grey.windows,
        auto_window=grey.choice.auto,
        default_window=grey.choice.default,
        presets=grey.choice.presets,
        notes=tuple(notes),
    )


def read_display(path: str | Path, *, limits: Limits = DEFAULT_LIMITS) -> DirectImage | DicomImage:
    """The image for display: :func:`read_direct` when it can, else ``reader.read_image``."""
    image = read_direct(path, limits=limits)
    if image is not None:
        return image
    from viewer.dicom.reader import read_image  # pydicom: only for the files that need it

    return read_image(path, limits=limits)
