"""Reading DICOM files safely: sniffing, limits before allocation, header and pixel decoding.

Every failure is a :class:`~viewer.errors.DicomError` naming the file and what is wrong. Hostile
input is bounded before any allocation (:class:`Limits`): file size; bytes read while parsing a
header (an "element bomb" of millions of tiny elements); inflated size of a deflated file (a zip
bomb: we inflate in chunks up to the declared image size plus an allowance, pydicom never
inflates it); sequence nesting depth (iterative check, and a
RecursionError inside pydicom becomes the same message); declared image size (Rows x Columns x
frames x samples x bytes) from a bounded header-only pass *before* the full read; pixel data
shorter than declared. Decoders that crash on corrupt data are not used first (codecs.py).

Header-only reads (the index) go through the fast raw reader in header.py when the file is
ordinary, and through pydicom otherwise; both give the same ImageMetadata (tested).

Decisions (deliberate, for a chest X-ray reader):
- colour images (RGB, YBR, PALETTE COLOR) are refused: Bedside shows greyscale radiographs and a
  colour-to-grey conversion would not be the grey scale the standard defines;
- multi-frame images (Number of Frames > 1) are refused rather than silently showing frame 1: a
  chest radiograph is one frame, and inference must never score a part of a series;
- files without the 128-byte preamble / file meta are read with ``force=True`` only when their
  first bytes look like a DICOM data element of group 0002 or 0008 (implicit or explicit VR,
  little or big endian).
"""

from __future__ import annotations

import contextlib
import functools
import io
import struct
import threading
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np
import pydicom
from pydicom import uid
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from viewer.dicom import codecs
from viewer.dicom.header import NeedMoreError, scan_header
from viewer.dicom.model import DicomImage, ImageMetadata, PixelSpacing
from viewer.dicom.pipeline import (
    apply_lut,
    auto_window,
    modality_values,
    stored_domain,
    stored_windows,
)
from viewer.errors import DicomError

# SOP classes / modalities that are listed but never opened as images.
NON_IMAGE_MODALITIES = frozenset({"SR", "PR", "KO", "DOC", "RTPLAN", "RTSTRUCT", "ECG", "REG"})
MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"
_VALID_VRS = frozenset(
    b"AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN "
    b"UR US UT UV".split()
)


@dataclass(frozen=True)
class Limits:
    """Bounds applied before allocation (hostile or broken files).

    Sized for radiographs, not for any DICOM: a CR/DX chest image is at most about 4300 x 4300
    (18.5 Mpx), a mammogram about 5000 x 6000 (30 Mpx), a stitched long-length image about
    4000 x 12000 (48 Mpx). ``max_pixels`` is 48 Mi (50.3 Mpx). Peak memory measured on this
    stack (2 cores, 16-bit 7000 x 7100 = 49.7 Mpx uncompressed, peak RSS minus the command's
    baseline): ``bedside dicom render`` 347 MB, about 7 bytes per pixel (stored uint16, float32
    modality values, LUT output, PNG); ``bedside --demo infer`` 681 MB, about 14 bytes per pixel
    (float preprocessing at full size before the resize). The GUI holds the display buffers and
    a full-size heatmap on top; estimated at most 24 bytes per pixel, about 1.2 GB at the limit.
    The former limits (16384 per side, 1 GiB) let an 8 MB RLE file cost 2-3 GB. RLE cannot be
    held to a compression ratio instead: PackBits reaches 64:1 on flat data, which is exactly
    what that file used.
    """

    max_file_bytes: int = 512 * 1024 * 1024
    max_dimension: int = 12000
    max_pixels: int = 48 * 1024 * 1024
    # 48 Mi pixels x 4 bytes (Bits Allocated 32): the largest single-frame image we accept.
    max_pixel_bytes: int = 192 * 1024 * 1024
    max_sequence_depth: int = 64
    # Bytes pydicom may read while parsing a header (large values are deferred, not read): an
    # "element bomb" of millions of tiny elements would otherwise parse for minutes.
    max_header_bytes: int = 8 * 1024 * 1024
    # Deflated files (PS3.5 A.5) may inflate to the declared pixel bytes plus this much (the
    # header, overlays, private blobs); more is a "zip bomb". Never more than max_pixel_bytes
    # plus this is held in memory.
    max_deflate_allowance: int = 64 * 1024 * 1024


DEFAULT_LIMITS = Limits()
# Elements larger than this are not read during the header pass (Pixel Data, big private blobs).
_DEFER_BYTES = 64 * 1024


class _WarningRouter:
    """Collects pydicom's warnings per thread as notes, without serialising the readers.

    ``warnings.catch_warnings`` swaps process-global state, so two threads entering and leaving
    it out of order corrupt the filters for good. Instead the first reader to enter installs
    one process-wide catch (filter "always", ``showwarning`` routed here) and the last to leave
    removes it; each warning goes to the notes of the thread that raised it, or, from a thread
    that is not reading DICOM, on to the original ``showwarning``. Entering and leaving take a
    short lock; reading and decoding (seconds for JPEG 2000) run in parallel.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._catch: warnings.catch_warnings[None] | None = None
        self._forward: Any = None
        self._local = threading.local()

    def _show(
        self,
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: Any = None,
        line: str | None = None,
    ) -> None:
        notes: list[str] | None = getattr(self._local, "notes", None)
        if notes is not None:
            if len(notes) < 50:
                notes.append(str(message))
        elif self._forward is not None:
            self._forward(message, category, filename, lineno, file, line)

    @contextmanager
    def collect(self, notes: list[str]) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                catch: warnings.catch_warnings[None] = warnings.catch_warnings()
                catch.__enter__()
                self._catch = catch
                self._forward = warnings.showwarning
                warnings.simplefilter("always")
                warnings.showwarning = self._show
            self._depth += 1
        outer = getattr(self._local, "notes", None)
        self._local.notes = notes if outer is None else outer
        try:
            yield
        finally:
            self._local.notes = outer  # nested: warnings went to the outermost list
            with self._lock:
                self._depth -= 1
                if self._depth == 0 and self._catch is not None:
                    self._catch.__exit__(None, None, None)
                    self._catch = None
                    self._forward = None


_router = _WarningRouter()


@contextmanager
def _quiet(notes: list[str]) -> Iterator[None]:
    """Collect pydicom's warnings as notes instead of printing or raising them."""
    with _router.collect(notes):
        yield


def _looks_like_dicom_without_preamble(head: bytes) -> bool:
    """True when ``head`` starts with a plausible group 0002/0008 data element (PS3.5 7.1)."""
    if len(head) < 8:
        return False
    for endian in "<>":
        group, element = struct.unpack(endian + "HH", head[:4])
        if group not in (0x0002, 0x0008) or element > 0x0FFF:
            continue
        vr = head[4:6]
        if vr in _VALID_VRS:
            return True  # explicit VR
        (length,) = struct.unpack(endian + "I", head[4:8])
        if length < 0x10000 or length == 0xFFFFFFFF:
            return True  # implicit VR with a sane length
    return False


@dataclass(frozen=True)
class _FileCheck:
    force: bool  # no preamble: pydicom must be told to read anyway
    deflated: bool  # Deflated Explicit VR Little Endian (inflation already bounded)
    head: bytes  # the first bytes of the file
    complete: bool  # head is the whole file


def _check_file(path: Path, limits: Limits, head_size: int = 4096) -> _FileCheck:
    """Size and sniff checks before pydicom sees the file."""
    try:
        if not path.is_file():
            raise DicomError("is not a file (missing, a folder or a special file)", path=path)
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(head_size)
    except OSError as exc:
        raise DicomError(f"cannot be read: {exc.strerror or exc}", path=path) from exc
    if size > limits.max_file_bytes:
        raise DicomError(
            f"is {size / 2**20:.0f} MiB, larger than the {limits.max_file_bytes / 2**20:.0f} MiB "
            "limit for one DICOM file",
            path=path,
        )
    complete = len(head) >= size
    if len(head) >= 132 and head[128:132] == b"DICM":
        return _FileCheck(False, _is_deflated(path, head), head, complete)
    if _looks_like_dicom_without_preamble(head):
        return _FileCheck(True, False, head, complete)
    raise DicomError(
        "is not a DICOM file (no 'DICM' marker after the 128-byte preamble and no DICOM data "
        "element at the start)",
        path=path,
    )


_LONG_LENGTH_VRS = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT", b"SV", b"UV"}
)


def _meta_layout(data: bytes) -> tuple[int, str, int, int]:
    """Walk the File Meta elements (group 0002, explicit VR little endian, PS3.10 7.1) after
    the preamble; return where the data set starts, the Transfer Syntax UID, and where its
    value sits (offset, length)."""
    pos, tsyntax, ts_at, ts_len = 132, "", 0, 0
    while pos + 8 <= len(data):
        group, element = struct.unpack_from("<HH", data, pos)
        if group != 0x0002:
            break
        vr = data[pos + 4 : pos + 6]
        if vr in _LONG_LENGTH_VRS:
            if pos + 12 > len(data):
                break
            (length,) = struct.unpack_from("<I", data, pos + 8)
            value_at = pos + 12
        else:
            (length,) = struct.unpack_from("<H", data, pos + 6)
            value_at = pos + 8
        if element == 0x0010:
            tsyntax = data[value_at : value_at + length].decode("ascii", "replace").strip("\x00 ")
            ts_at, ts_len = value_at, length
        pos = value_at + length
    return pos, tsyntax, ts_at, ts_len


def _is_deflated(path: Path, head: bytes) -> bool:
    """True for Deflated Explicit VR Little Endian (1.2.840.10008.1.2.1.99, PS3.5 A.5)."""
    end, tsyntax, _, _ = _meta_layout(head)
    if end + 8 <= len(head):
        return tsyntax == uid.DeflatedExplicitVRLittleEndian  # the whole file meta was in head
    with path.open("rb") as fh:
        return _meta_layout(fh.read(256 * 1024))[1] == uid.DeflatedExplicitVRLittleEndian


_INFLATE_CHUNK = 1 << 20
_EXPLICIT_LE = b"1.2.840.10008.1.2.1"


def _inflate(path: Path, limits: Limits) -> bytes:
    """The file as Explicit VR Little Endian bytes: file meta (transfer syntax rewritten in
    place, NUL-padded, so the group length stays right) followed by the inflated data set.

    pydicom would inflate the whole stream in one unbounded ``zlib.decompress`` and then parse
    it; a 1 MB file of deflated zeros is 1 GiB inflated and minutes of parsing. Here the
    inflation runs in chunks: first enough for the header (``max_header_bytes``), from which
    the declared image size (Rows x Columns x frames x samples x bytes, PS3.3 C.7.6.3) gives
    the budget: declared pixel bytes (at most ``max_pixel_bytes``) + ``max_deflate_allowance``.
    Anything beyond is refused before it is held in memory.
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(256 * 1024)
            end, tsyntax, ts_at, ts_len = _meta_layout(head)
            if tsyntax != uid.DeflatedExplicitVRLittleEndian or ts_len < len(_EXPLICIT_LE):
                raise DicomError("has a damaged file meta header (deflated syntax)", path=path)
            out = bytearray(head[:end])  # the file meta, then the inflated data set
            out[ts_at : ts_at + ts_len] = _EXPLICIT_LE.ljust(ts_len, b"\x00")
            fh.seek(end)
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            budget = end + limits.max_header_bytes
            sized = False
            while not inflater.eof:
                data = inflater.unconsumed_tail or fh.read(_INFLATE_CHUNK)
                if not data:
                    break  # truncated stream: the parser reports what is missing
                out += inflater.decompress(data, budget + 1 - len(out))
                if len(out) > budget and not sized:
                    sized = True
                    budget = end + _deflate_budget(bytes(out), limits)
                if len(out) > budget:
                    raise DicomError(
                        f"is deflated and inflates beyond {(budget - end) / 2**20:.0f} MiB, more "
                        "than its declared image size needs (a 'zip bomb'); refused",
                        path=path,
                    )
            return bytes(out)
    except OSError as exc:
        raise DicomError(f"cannot be read: {exc.strerror or exc}", path=path) from exc
    except zlib.error as exc:
        raise DicomError(f"has corrupt deflated data ({exc}); refused", path=path) from exc


def _deflate_budget(data: bytes, limits: Limits) -> int:
    """Declared pixel bytes (capped) + allowance, from the header at the start of ``data``."""
    declared = 0
    try:
        header = scan_header(data, complete=False, max_depth=limits.max_sequence_depth)
    except Exception:  # NeedMoreError or malformed: no declared size to grant
        header = None
    if header is not None:
        dims = [_int(header, k) for k in ("Rows", "Columns", "BitsAllocated")]
        if all(d is not None and d > 0 for d in dims):
            rows, cols, bits = (int(d or 0) for d in dims)
            frames = max(_int(header, "NumberOfFrames") or 1, 1)
            samples = max(_int(header, "SamplesPerPixel") or 1, 1)
            declared = rows * cols * frames * samples * ((bits + 7) // 8)
    return min(declared, limits.max_pixel_bytes) + limits.max_deflate_allowance


class _BoundedReader:
    """A read-only file that refuses to hand pydicom more than ``limit`` bytes (header parse).

    Seeks (how pydicom skips deferred values) are free; only bytes actually read count.
    """

    def __init__(self, fh: BinaryIO, limit: int, name: str | None = None) -> None:
        self._fh = fh
        if name is not None:  # pydicom re-reads deferred values from ``name``
            self.name = name
        self._left = limit
        self._limit = limit

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0 or size > self._left:
            size = self._left + 1
        data = self._fh.read(size)
        self._left -= len(data)
        if self._left < 0:
            raise _HeaderTooLargeError(self._limit)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def close(self) -> None:
        self._fh.close()


class _HeaderTooLargeError(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"header larger than {limit / 2**20:.0f} MiB")
        self.limit = limit


def _sequence_depth(ds: Dataset, limit: int) -> int:
    """Deepest sequence nesting in ``ds`` (iterative: a hostile file cannot recurse us)."""
    deepest = 0
    stack: list[tuple[Dataset, int]] = [(ds, 0)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        for elem in current.elements():
            value = elem.value
            if isinstance(value, Sequence):
                stack.extend((item, depth + 1) for item in value)
    return deepest


def read_dataset(
    path: str | Path,
    *,
    header_only: bool,
    limits: Limits = DEFAULT_LIMITS,
    notes: list[str] | None = None,
) -> Dataset:
    """Parse a file with pydicom under our limits; Pixel Data is deferred or skipped."""
    p = Path(path)
    notes = notes if notes is not None else []
    checked = _check_file(p, limits)
    force, deflated = checked.force, checked.deflated
    try:
        with _quiet(notes):
            if deflated:
                ds = _read_inflated(_inflate(p, limits), header_only, limits)
            elif header_only:
                reader = _BoundedReader(p.open("rb"), limits.max_header_bytes, str(p))
                try:
                    ds = pydicom.dcmread(
                        reader,
                        force=force,
                        stop_before_pixels=True,
                        defer_size=_DEFER_BYTES,
                    )
                finally:
                    reader.close()
            else:
                ds = pydicom.dcmread(
                    p, force=force, stop_before_pixels=header_only, defer_size=_DEFER_BYTES
                )
    except DicomError:
        raise
    except _HeaderTooLargeError as exc:
        raise DicomError(
            f"has a header (the elements before Pixel Data) larger than "
            f"{exc.limit / 2**20:.0f} MiB; refused",
            path=p,
        ) from exc
    except RecursionError as exc:
        raise DicomError(
            f"has sequences nested too deeply (limit {limits.max_sequence_depth}); refused",
            path=p,
        ) from exc
    except MemoryError as exc:
        raise DicomError(_TOO_LARGE, path=p) from exc
    except Exception as exc:
        raise DicomError(f"is not a readable DICOM file: {_short(exc)}", path=p) from exc
    try:
        depth = _sequence_depth(ds, limits.max_sequence_depth)
    except RecursionError as exc:  # pragma: no cover - iterative walk; defensive only
        raise DicomError("has sequences nested too deeply; refused", path=p) from exc
    except MemoryError as exc:
        raise DicomError(_TOO_LARGE, path=p) from exc
    except Exception as exc:
        raise DicomError(_DAMAGED, path=p) from exc
    if depth > limits.max_sequence_depth:
        raise DicomError(
            f"has sequences nested {depth} deep (limit {limits.max_sequence_depth}); refused",
            path=p,
        )
    if len(ds) == 0 and not getattr(ds, "file_meta", None):
        raise DicomError("holds no DICOM data elements", path=p)
    return ds


_TOO_LARGE = (
    "declares a data element larger than can be read (a damaged or hostile header); refused"
)
_DAMAGED = "has a damaged or truncated header (a data element or sequence cannot be read); refused"


def _read_inflated(data: bytes, header_only: bool, limits: Limits) -> Dataset:
    """Parse inflated bytes (see :func:`_inflate`); the header-only pass is bounded like any
    other file. Values are not deferred: the bytes are in memory and have no file to re-read."""
    source: Any = io.BytesIO(data)
    if header_only:
        source = _BoundedReader(source, limits.max_header_bytes)
    ds = pydicom.dcmread(source, stop_before_pixels=header_only)
    ds.file_meta.TransferSyntaxUID = uid.DeflatedExplicitVRLittleEndian
    return ds


def _short(exc: BaseException) -> str:
    """One line of an exception's text (plugins' multi-line reports joined), bounded."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    text = "; ".join(lines).replace(":;", ":") if lines else type(exc).__name__
    return text[:300]


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
                f"has an unreadable {keyword} {tag}: {_short(exc)}", path=path
            ) from exc
        if raw is None or raw == "":
            continue
        try:
            int(raw)
        except (TypeError, ValueError) as exc:
            raise DicomError(
                f"has an invalid {keyword} {tag} value {str(raw)[:40]!r} (not an integer)",
                path=path,
            ) from exc


_MAX_TEXT = 1024

# VRs whose raw bytes we decode ourselves (ASCII only, no character set involved): pydicom's
# general conversion is most of the cost of a header-only read, and the index must do
# >= 1,000 files/s. Text VRs affected by Specific Character Set (PN, LO, SH ...) go through
# pydicom.
_ASCII_VRS = frozenset({"UI", "CS", "DA", "IS", "DS", "AS", "TM", "DT"})


@functools.lru_cache(maxsize=256)
def _tag_and_vr(keyword: str) -> tuple[int, str]:
    tag = tag_for_keyword(keyword)
    if tag is None:  # pragma: no cover - our own keywords
        raise KeyError(keyword)
    return tag, dictionary_VR(tag)


def _raw_value(elem: RawDataElement, vr: str) -> Any:
    raw = elem.value
    if not raw:
        return None
    if not isinstance(raw, bytes):  # pragma: no cover - already a value
        return raw
    if vr == "US":
        if len(raw) < 2:
            return None
        return struct.unpack(("<" if elem.is_little_endian else ">") + "H", raw[:2])[0]
    text = raw[: _MAX_TEXT * 4].decode("ascii", "replace").strip("\x00 ")
    if vr in ("IS", "DS") and "\\" in text:
        return [part.strip() for part in text.split("\\")]
    return text


def _get(ds: Dataset, keyword: str, default: Any = None) -> Any:
    """Element value, or ``default`` when absent, empty or not convertible."""
    try:
        tag, dict_vr = _tag_and_vr(keyword)
        elem = ds.get_item(tag)
        if elem is None:
            return default
        if isinstance(elem, RawDataElement):
            vr = str(elem.VR or dict_vr)
            if vr in _ASCII_VRS or vr == "US":
                value = _raw_value(elem, vr)
                return default if value is None or value == "" else value
        value = ds.get(keyword, default)
    except Exception:
        return default
    if value is None or value == "":
        return default
    return value


class FieldSource(Protocol):
    """Where metadata fields come from: a pydicom Dataset or our fast raw header scan."""

    def get(self, keyword: str, default: Any = None) -> Any: ...

    def has(self, keyword: str) -> bool: ...


class _DatasetSource:
    def __init__(self, ds: Dataset) -> None:
        self.ds = ds

    def get(self, keyword: str, default: Any = None) -> Any:
        return _get(self.ds, keyword, default)

    def has(self, keyword: str) -> bool:
        return keyword in self.ds


def _src(ds: Dataset | FieldSource) -> FieldSource:
    return _DatasetSource(ds) if isinstance(ds, Dataset) else ds


def _text(ds: Dataset | FieldSource, keyword: str) -> str:
    """Printable text of an element (control characters dropped, length bounded)."""
    value = _src(ds).get(keyword, "")
    if isinstance(value, bytes):
        text = value.decode("ascii", "replace")
    elif isinstance(value, list | tuple | pydicom.multival.MultiValue):
        text = "\\".join(str(v) for v in value)
    else:
        text = str(value)
    text = text[: _MAX_TEXT * 2]
    if not text.isprintable():
        text = "".join(ch for ch in text if ch.isprintable())
    return text.strip("\x00 ")[:_MAX_TEXT]


def _uid_text(ds: Dataset | FieldSource, keyword: str) -> str:
    """A UID (PS3.5 9.1: digits and dots, at most 64 characters), or "" when invalid."""
    text = _text(ds, keyword)
    if len(text) > 64 or not text.replace(".", "").isdigit():
        return ""
    return text


def _int(ds: Dataset | FieldSource, keyword: str) -> int | None:
    value = _src(ds).get(keyword)
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _pixel_spacing(ds: Dataset | FieldSource) -> PixelSpacing | None:
    """Pixel Spacing (0028,0030), else Imager Pixel Spacing (0018,1164), corrected by the
    Estimated Radiographic Magnification Factor (0018,1114) when present (PS3.3 C.8.11.4)."""

    src = _src(ds)

    def pair(keyword: str) -> tuple[float, float] | None:
        value = src.get(keyword)
        try:
            row, col = float(value[0]), float(value[1])
        except (TypeError, ValueError, IndexError, KeyError):
            return None
        if not (0 < row < 1e3 and 0 < col < 1e3):
            return None
        return row, col

    ps = pair("PixelSpacing")
    if ps:
        return PixelSpacing(ps[0], ps[1], "PixelSpacing")
    ips = pair("ImagerPixelSpacing")
    if not ips:
        return None
    try:
        factor = float(src.get("EstimatedRadiographicMagnificationFactor", 0) or 0)
    except (TypeError, ValueError):
        factor = 0.0
    if factor > 0 and factor != 1.0 and factor < 100:
        return PixelSpacing(ips[0] / factor, ips[1] / factor, "ImagerPixelSpacingCorrected")
    return PixelSpacing(ips[0], ips[1], "ImagerPixelSpacing")


def _transfer_syntax(ds: Dataset) -> str:
    meta = getattr(ds, "file_meta", None)
    tsyntax = _uid_text(meta, "TransferSyntaxUID") if meta is not None else ""
    if tsyntax:
        return tsyntax
    # No file meta: pydicom worked out the encoding while reading.
    implicit, little = ds.is_implicit_VR, ds.is_little_endian
    if implicit:
        return str(uid.ImplicitVRLittleEndian)
    return str(uid.ExplicitVRLittleEndian if little else uid.ExplicitVRBigEndian)


def metadata_from_dataset(ds: Dataset, path: str | Path) -> ImageMetadata:
    """The typed metadata of a parsed header (no pixel access)."""
    meta_sop = _uid_text(getattr(ds, "file_meta", Dataset()), "MediaStorageSOPClassUID")
    return build_metadata(_DatasetSource(ds), path, _transfer_syntax(ds), meta_sop)


def build_metadata(
    ds: FieldSource, path: str | Path, transfer_syntax: str, meta_sop_class: str
) -> ImageMetadata:
    """ImageMetadata from any field source (shared by the pydicom and the fast header path)."""
    sop_class = _uid_text(ds, "SOPClassUID") or meta_sop_class
    modality = _text(ds, "Modality").upper()
    rows = _int(ds, "Rows") or 0
    columns = _int(ds, "Columns") or 0
    has_pixel_module = ds.has("Rows") and ds.has("Columns") and ds.has("BitsAllocated")
    is_image = (
        has_pixel_module
        and modality not in NON_IMAGE_MODALITIES
        and sop_class != MEDIA_STORAGE_DIRECTORY
        and not sop_class.startswith("1.2.840.10008.5.1.4.1.1.88.")  # SR, KOS
        and not sop_class.startswith("1.2.840.10008.5.1.4.1.1.11.")  # presentation states
    )
    laterality = _text(ds, "ImageLaterality") or _text(ds, "Laterality")
    return ImageMetadata(
        path=str(path),
        sop_class_uid=sop_class,
        sop_instance_uid=_uid_text(ds, "SOPInstanceUID"),
        study_instance_uid=_uid_text(ds, "StudyInstanceUID"),
        series_instance_uid=_uid_text(ds, "SeriesInstanceUID"),
        accession_number=_text(ds, "AccessionNumber"),
        patient_id=_text(ds, "PatientID"),
        patient_name=_text(ds, "PatientName"),
        patient_birth_date=_text(ds, "PatientBirthDate"),
        patient_sex=_text(ds, "PatientSex"),
        study_date=_text(ds, "StudyDate"),
        study_description=_text(ds, "StudyDescription"),
        series_description=_text(ds, "SeriesDescription"),
        series_number=_int(ds, "SeriesNumber"),
        instance_number=_int(ds, "InstanceNumber"),
        modality=modality,
        view_position=_text(ds, "ViewPosition").upper(),
        laterality=laterality.upper(),
        body_part=_text(ds, "BodyPartExamined").upper(),
        patient_orientation=_text(ds, "PatientOrientation"),
        photometric=_text(ds, "PhotometricInterpretation").upper(),
        bits_stored=_int(ds, "BitsStored") or 0,
        bits_allocated=_int(ds, "BitsAllocated") or 0,
        pixel_representation=_int(ds, "PixelRepresentation") or 0,
        rows=rows,
        columns=columns,
        samples_per_pixel=_int(ds, "SamplesPerPixel") or 1,
        number_of_frames=_int(ds, "NumberOfFrames") or 1,
        pixel_spacing=_pixel_spacing(ds),
        manufacturer=_text(ds, "Manufacturer"),
        model_name=_text(ds, "ManufacturerModelName"),
        transfer_syntax_uid=transfer_syntax,
        is_image=bool(is_image),
    )


def read_metadata(path: str | Path, *, limits: Limits = DEFAULT_LIMITS) -> ImageMetadata:
    """Header-only read (Pixel Data never touched), limits applied; raises DicomError."""
    notes: list[str] = []
    with _quiet(notes):
        return _read_metadata(path, limits, notes)


_FAST_HEAD = 64 * 1024


def _fast_metadata(path: Path, limits: Limits) -> ImageMetadata | None:
    """The index's fast path (viewer.dicom.header); None when pydicom must judge the file."""
    checked = _check_file(path, limits, head_size=_FAST_HEAD)
    if checked.force or checked.deflated:
        return None
    data, complete = checked.head, checked.complete
    try:
        header = scan_header(data, complete=complete, max_depth=limits.max_sequence_depth)
    except NeedMoreError:
        try:
            with path.open("rb") as fh:
                data = fh.read(limits.max_header_bytes)
        except OSError:
            return None
        complete = len(data) < limits.max_header_bytes
        try:
            header = scan_header(data, complete=complete, max_depth=limits.max_sequence_depth)
        except NeedMoreError:
            return None
    if header is None:
        return None
    meta_sop = header.meta_sop_class
    if len(meta_sop) > 64 or not meta_sop.replace(".", "").isdigit():
        meta_sop = ""
    tsyntax = header.transfer_syntax
    if len(tsyntax) > 64 or not tsyntax.replace(".", "").isdigit():
        return None
    return build_metadata(header, path, tsyntax, meta_sop)


def _read_metadata(path: str | Path, limits: Limits, notes: list[str]) -> ImageMetadata:
    fast = _fast_metadata(Path(path), limits)
    if fast is not None:
        return fast
    ds = read_dataset(path, header_only=True, limits=limits, notes=notes)
    try:
        with _quiet(notes):
            return metadata_from_dataset(ds, path)
    except Exception as exc:
        raise DicomError(f"has an unreadable header: {_short(exc)}", path=path) from exc


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


def incomplete_image_message(meta: ImageMetadata) -> str | None:
    """An image SOP class without a usable Image Pixel module (truncated or broken header)."""
    name = uid.UID(meta.sop_class_uid).name if meta.sop_class_uid else ""
    if meta.is_image or "Image Storage" not in name:
        return None
    return (
        f"is an image object ({name}) without a usable Image Pixel module (Rows, Columns or "
        "Bits Allocated missing: truncated or broken header)"
    )


def check_image_header(meta: ImageMetadata, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse, before any pixel allocation, what Bedside will not or must not decode."""
    path = meta.path
    problem = incomplete_image_message(meta)
    if problem:
        raise DicomError(problem, path=path)
    if not meta.is_image:
        raise DicomError(f"is a {_kind(meta)}, not an image; it is listed but not shown", path=path)
    if meta.rows <= 0 or meta.columns <= 0:
        raise DicomError("has no valid Rows (0028,0010) / Columns (0028,0011)", path=path)
    if meta.rows > limits.max_dimension or meta.columns > limits.max_dimension:
        raise DicomError(
            f"declares {meta.rows} x {meta.columns} pixels, larger than the "
            f"{limits.max_dimension} x {limits.max_dimension} limit; refused",
            path=path,
        )
    if meta.rows * meta.columns > limits.max_pixels:
        raise DicomError(
            f"declares {meta.rows} x {meta.columns} pixels "
            f"({meta.rows * meta.columns / 1e6:.0f} megapixels), more than the "
            f"{limits.max_pixels / 1e6:.0f} megapixel limit for one radiograph; refused",
            path=path,
        )
    if meta.bits_allocated not in (8, 16, 32):
        raise DicomError(
            f"has Bits Allocated (0028,0100) = {meta.bits_allocated}; only 8, 16 or 32 bits are "
            "supported",
            path=path,
        )
    if not 1 <= meta.bits_stored <= meta.bits_allocated:
        raise DicomError(
            f"has Bits Stored (0028,0101) = {meta.bits_stored} with Bits Allocated "
            f"{meta.bits_allocated}; invalid",
            path=path,
        )
    frames = max(meta.number_of_frames, 1)
    total = meta.rows * meta.columns * frames * max(meta.samples_per_pixel, 1)
    total *= meta.bits_allocated // 8
    if total > limits.max_pixel_bytes:
        raise DicomError(
            f"declares {total / 2**20:.0f} MiB of pixel data ({meta.rows} x {meta.columns} x "
            f"{frames} frames), above the {limits.max_pixel_bytes / 2**20:.0f} MiB limit; refused",
            path=path,
        )
    if meta.photometric not in ("MONOCHROME1", "MONOCHROME2") or meta.samples_per_pixel != 1:
        raise DicomError(
            f"is a colour image ({meta.photometric or 'unknown'}, {meta.samples_per_pixel} "
            "samples per pixel); Bedside shows greyscale radiographs only",
            path=path,
        )
    if frames > 1:
        raise DicomError(
            f"is a multi-frame image ({frames} frames); Bedside shows single-frame radiographs "
            "only",
            path=path,
        )
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
            failures.append(f"{plugin or 'pydicom'}: {_short(exc)}")
    raise ValueError("; ".join(failures) or "no decoder available")


def _decode(ds: Dataset, meta: ImageMetadata, notes: list[str]) -> np.ndarray:
    path = meta.path
    tsyntax = uid.UID(meta.transfer_syntax_uid)
    try:
        with _quiet(notes):
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
        raise DicomError(
            f"pixel data could not be decoded ({tsyntax.name or tsyntax}): {_short(exc)}{hint}",
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
    with _quiet(notes):
        return _read_image(path, limits, notes)


def _checked_meta(ds: Dataset, path: str | Path, limits: Limits) -> ImageMetadata:
    try:
        meta = metadata_from_dataset(ds, path)
        if meta.is_image:
            _check_pixel_module_values(ds, path)
    except DicomError:
        raise
    except Exception as exc:
        raise DicomError(f"has an unreadable header: {_short(exc)}", path=path) from exc
    check_image_header(meta, limits)
    return meta


def _read_image(path: str | Path, limits: Limits, notes: list[str]) -> DicomImage:
    # A bounded header-only pass first: every limit is checked before the full read, which
    # then re-parses the same (proven small) header and reads or decodes the pixels.
    _checked_meta(read_dataset(path, header_only=True, limits=limits, notes=notes), path, limits)
    ds = read_dataset(path, header_only=False, limits=limits, notes=notes)
    meta = _checked_meta(ds, path, limits)
    stored = _decode(ds, meta, notes)
    with contextlib.suppress(AttributeError, KeyError):
        del ds.PixelData  # the header keeps no pixel bytes (tag browser, memory)
    try:
        with _quiet(notes):
            domain = stored_domain(stored)
            mod_values = modality_values(domain.values, ds)
            modality = apply_lut(mod_values.astype(np.float32), domain.index)
            windows, win_notes = stored_windows(ds)
            auto = auto_window(domain, mod_values, ds)
    except DicomError as exc:
        raise DicomError(exc.message, path=path) from exc
    except Exception as exc:
        raise DicomError(f"has an invalid grey-scale pipeline: {_short(exc)}", path=path) from exc
    notes.extend(win_notes)
    return DicomImage(
        meta=meta,
        stored=stored,
        modality=modality,
        windows=windows,
        auto_window=auto,
        default_window=windows[0] if windows else auto,
        header=ds,
        notes=tuple(dict.fromkeys(note[:300] for note in notes))[:20],
    )
