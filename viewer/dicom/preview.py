"""A reduced-resolution first image of a JPEG 2000 file while its full decode runs.

Why: a 3000 x 3000 lossless JPEG 2000 CR takes over a second to decode in full; its codestream
holds the lower wavelet resolution levels first, and decoding only those (ISO/IEC 15444-1 Annex B,
"reduce") costs a few per cent of that. The preview is for the eye only: it goes through the same
grey-scale pipeline as the full image (reader.assemble_image), is never scored, measured or
annotated, and is replaced by the full image, which is decoded unchanged.

Only single-frame, single-component, unsigned JPEG 2000 (1.2.840.10008.1.2.4.90/.91) is previewed;
anything else, or any surprise in the codestream, gives no preview (the full read says what is
wrong). OpenJPEG through Pillow does the decoding.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom import uid
from pydicom.encaps import generate_frames

from viewer.dicom.metadata import read_metadata
from viewer.dicom.model import DicomImage
from viewer.dicom.reader import _checked_meta, assemble_image, check_image_header
from viewer.dicom.safe_read import DEFAULT_LIMITS, Limits, read_dataset

__all__ = ["PREVIEW_SIDE", "CodestreamInfo", "codestream_info", "read_preview"]

#: the preview's longer side at most, in pixels (about a screen's height)
PREVIEW_SIDE = 1024

_J2K_SYNTAXES = frozenset({uid.JPEG2000Lossless, uid.JPEG2000})
_SOC, _SIZ, _COD = b"\xff\x4f", 0xFF51, 0xFF52


@dataclass(frozen=True)
class CodestreamInfo:
    """What the main header says (SIZ and COD marker segments, ISO/IEC 15444-1 A.5.1, A.6.1)."""

    width: int
    height: int
    components: int
    precision: int
    signed: bool
    levels: int  # wavelet decomposition levels: the codestream holds levels + 1 resolutions


def codestream_info(code: bytes) -> CodestreamInfo | None:
    """Parse the main header up to SIZ and COD; None when either is missing or malformed."""
    if not code.startswith(_SOC):
        return None
    pos, end = 2, min(len(code), 1 << 16)
    siz: tuple[int, int, int, int, int, int] | None = None
    levels: int | None = None
    while pos + 4 <= end and (siz is None or levels is None):
        marker, length = struct.unpack(">HH", code[pos : pos + 4])
        body = code[pos + 4 : pos + 2 + length]
        if length < 2 or len(body) != length - 2:
            return None
        if marker == _SIZ:
            if len(body) < 36 + 3:
                return None
            _rsiz, x1, y1, x0, y0 = struct.unpack(">HIIII", body[:18])
            ncomp = struct.unpack(">H", body[34:36])[0]
            ssiz = body[36]
            siz = (x1 - x0, y1 - y0, ncomp, (ssiz & 0x7F) + 1, ssiz >> 7, x0 | y0)
        elif marker == _COD:
            if len(body) < 6:
                return None
            levels = body[5]
        elif marker == 0xFF90:  # SOT: the first tile-part, the main header is over
            break
        pos += 2 + length
    if siz is None or levels is None:
        return None
    width, height, ncomp, precision, signed, origin = siz
    if origin:  # an image offset makes reduced sizes round differently: not worth the risk
        return None
    return CodestreamInfo(width, height, ncomp, precision, bool(signed), levels)


def reduce_for(info: CodestreamInfo, side: int = PREVIEW_SIDE) -> int:
    """The fewest discarded resolution levels that bring the longer side to ``side`` or less."""
    r = 0
    while max(info.width, info.height) >> r > side and r < info.levels:
        r += 1
    return r


def _decode_reduced(
    code: bytes, info: CodestreamInfo, reduce: int
) -> tuple[np.ndarray, int] | None:
    """(stored values, discarded levels) at 1/2**levels scale, or None. Pillow scales samples of
    precision p up to 16 bits (a left shift by 16 - p); shifting back gives the stored values."""
    from PIL import Image

    # OpenJPEG in some Pillow builds rejects a given reduction on some codestreams: try the
    # next finer one; a preview of 1/2 is still several times cheaper than the full decode
    for r in range(reduce, 0, -1):
        try:
            with Image.open(io.BytesIO(code)) as im:
                im.reduce = r  # type: ignore[assignment,method-assign]  # Pillow's J2K option
                im.load()
                arr = np.asarray(im)
        except (OSError, ValueError, SyntaxError):
            continue
        expect = (-(-info.height // (1 << r)), -(-info.width // (1 << r)))
        if arr.ndim != 2 or arr.shape != expect:
            return None
        shift = 16 - info.precision if arr.dtype == np.uint16 else 0
        return (arr >> shift).astype(np.uint16) if shift else arr.astype(np.uint16), r
    return None


def read_preview(
    path: str | Path, *, side: int = PREVIEW_SIDE, limits: Limits = DEFAULT_LIMITS
) -> tuple[DicomImage, int] | None:
    """(reduced image, scale factor) for a large JPEG 2000 file, or None.

    Never raises for a bad file: a preview is an extra; the full read reports the problem.
    """
    try:
        # the gate runs on every image opened: the fast header reader (no pydicom for an
        # ordinary file) decides, and only a large JPEG 2000 file is read further
        meta = read_metadata(path, limits=limits)
        if (
            meta.transfer_syntax_uid not in _J2K_SYNTAXES
            or meta.number_of_frames != 1
            or meta.samples_per_pixel != 1
            or meta.photometric not in ("MONOCHROME1", "MONOCHROME2")
            or max(meta.rows, meta.columns) <= side  # small enough to decode in full at once
        ):
            return None
        check_image_header(meta, limits)  # before any pixel byte is read, as read_image does
        notes: list[str] = []
        ds = read_dataset(path, header_only=False, limits=limits, notes=notes)
        meta = _checked_meta(ds, path, limits)  # every header limit, on what is decoded
        code = next(iter(generate_frames(ds.PixelData, number_of_frames=1)))
        info = codestream_info(code)
        if (
            info is None
            or info.components != 1
            or info.signed
            or info.precision > 16
            or (info.width, info.height) != (meta.columns, meta.rows)
        ):
            return None
        r = reduce_for(info, side)
        if r == 0:
            return None
        decoded = _decode_reduced(code, info, r)
        if decoded is None:
            return None
        stored, r = decoded
        del ds.PixelData
        return assemble_image(ds, meta, stored, notes, path), 1 << r
    except Exception:  # a preview never fails the read: the full decode reports the problem
        return None
