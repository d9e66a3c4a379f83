"""Bounded, safe parsing of a DICOM file into a pydicom Dataset, before anything is decoded.

Why its own module: this is the part that faces hostile input, and every reader (the image
decode, the header-only metadata path, the DICOMDIR walk of the index) goes through it. Every
failure is a :class:`~viewer.errors.DicomError` naming the file and what is wrong. Bounded
before any allocation (:class:`Limits`): file size; bytes read while parsing a header (an
"element bomb" of millions of tiny elements); inflated size of a deflated file (Deflated
Explicit VR Little Endian, PS3.5 A.5: a zip bomb; we inflate in chunks up to the declared
image size plus an allowance, pydicom never inflates it); sequence nesting depth (iterative
check, and a RecursionError inside pydicom becomes the same message).

Files without the 128-byte preamble / file meta (PS3.10 7.1) are read with ``force=True`` only
when their first bytes look like a DICOM data element of group 0002 or 0008 (implicit or
explicit VR, little or big endian, PS3.5 7.1). The File Meta group itself is parsed by
:func:`viewer.dicom.header.file_meta`. pydicom's warnings become per-thread notes (:func:`quiet`).
pydicom itself is imported by the functions that parse with it, not by this module: the checks
before parsing serve the header fast path too, which must not pay for its import (issue 19).
"""

from __future__ import annotations

import io
import stat
import struct
import threading
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from viewer.dicom.fields import field_int
from viewer.dicom.header import (
    DEFER_BYTES,
    DEFLATED,
    EXPLICIT_LE,
    VALID_VRS,
    FileMeta,
    file_meta,
    scan_header,
)
from viewer.errors import DicomError

if TYPE_CHECKING:  # pydicom loads only when a file is parsed with it (issue 19: start-up)
    from pydicom.dataset import Dataset


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
def quiet(notes: list[str]) -> Iterator[None]:
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
        if vr in VALID_VRS:
            return True  # explicit VR
        (length,) = struct.unpack(endian + "I", head[4:8])
        if length < 0x10000 or length == 0xFFFFFFFF:
            return True  # implicit VR with a sane length
    return False


@dataclass(frozen=True)
class FileCheck:
    force: bool  # no preamble: pydicom must be told to read anyway
    deflated: bool  # Deflated Explicit VR Little Endian (inflation already bounded)
    head: bytes  # the first bytes of the file
    complete: bool  # head is the whole file
    # the File Meta group parsed from ``head`` when all of it was there (the fast header path
    # reuses it instead of parsing it twice)
    meta: FileMeta | None = None
    size: int = -1  # the file's size when it was checked


def check_file(path: Path, limits: Limits, head_size: int = 4096) -> FileCheck:
    """Size and sniff checks before pydicom sees the file."""
    try:
        info = path.stat()  # one stat for Path.is_file() and the size (1,000 files a second)
    except (OSError, ValueError):
        info = None
    if info is None or not stat.S_ISREG(info.st_mode):
        raise DicomError("is not a file (missing, a folder or a special file)", path=path)
    size = info.st_size
    try:
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
        meta = file_meta(head)
        whole = meta.end + 8 <= len(head)  # the whole file meta was in head
        if complete and not whole:
            # the file ends inside its File Meta group (PS3.10 7.1), or right after it with no
            # data set: pydicom would read what is there and call it an object of no class
            raise DicomError(CUT_SHORT, path=path)
        deflated = meta.transfer_syntax == DEFLATED if whole else _is_deflated(path)
        return FileCheck(False, deflated, head, complete, meta if whole else None, size)
    if _looks_like_dicom_without_preamble(head):
        return FileCheck(True, False, head, complete)
    raise DicomError(
        "is not a DICOM file (no 'DICM' marker after the 128-byte preamble and no DICOM data "
        "element at the start)",
        path=path,
    )


def _is_deflated(path: Path) -> bool:
    """True for Deflated Explicit VR Little Endian (1.2.840.10008.1.2.1.99, PS3.5 A.5), from a
    file meta longer than the first head read."""
    with path.open("rb") as fh:
        head = fh.read(256 * 1024)
    return file_meta(head).transfer_syntax == DEFLATED


_INFLATE_CHUNK = 1 << 20
_EXPLICIT_LE = EXPLICIT_LE.encode()


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
            meta = file_meta(head)
            end, ts_at, ts_len = meta.end, meta.syntax_at, meta.syntax_len
            deflated = meta.transfer_syntax == DEFLATED
            if not deflated or ts_len < len(_EXPLICIT_LE):
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
        header = scan_header(data, complete=False, max_depth=limits.max_sequence_depth, whole=False)
    except Exception:  # NeedMoreError or malformed: no declared size to grant
        header = None
    if header is not None:
        dims = [field_int(header, k) for k in ("Rows", "Columns", "BitsAllocated")]
        if all(d is not None and d > 0 for d in dims):
            rows, cols, bits = (int(d or 0) for d in dims)
            frames = max(field_int(header, "NumberOfFrames") or 1, 1)
            samples = max(field_int(header, "SamplesPerPixel") or 1, 1)
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
    """Deepest sequence nesting in ``ds`` (iterative: a hostile file cannot recurse us).

    ``values()``, not ``elements()``: the latter reads every deferred value (a large private
    element) back from the file, which the header-only pass has closed by then, so a valid
    file was refused as damaged. Deferred values are never sequences (pydicom parses those)."""
    from pydicom.sequence import Sequence

    deepest = 0
    stack: list[tuple[Dataset, int]] = [(ds, 0)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        for elem in current.values():
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
    import pydicom

    p = Path(path)
    notes = notes if notes is not None else []
    checked = check_file(p, limits)
    force, deflated = checked.force, checked.deflated
    try:
        with quiet(notes):
            if deflated:
                ds = _read_inflated(_inflate(p, limits), header_only, limits)
            elif header_only:
                reader = _BoundedReader(p.open("rb"), limits.max_header_bytes, str(p))
                try:
                    ds = pydicom.dcmread(
                        reader,
                        force=force,
                        stop_before_pixels=True,
                        defer_size=DEFER_BYTES,
                    )
                finally:
                    reader.close()
            else:
                ds = pydicom.dcmread(
                    p, force=force, stop_before_pixels=header_only, defer_size=DEFER_BYTES
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
    except Exception as exc:  # struct's or pydicom's words ("unpack requires a buffer"): ours
        raise DicomError(_DAMAGED, path=p) from exc
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
    # pydicom gives up on the whole data set, warning only, when an undefined-length value
    # (encapsulated Pixel Data, a sequence) runs into the end of the file; a readable header then
    # means the file was cut short, not that its header is broken
    if (
        len(ds) == 0
        and not header_only
        and getattr(ds, "file_meta", None)
        and len(read_dataset(p, header_only=True, limits=limits))
    ):
        raise DicomError(CUT_SHORT, path=p)
    if len(ds) == 0 and not getattr(ds, "file_meta", None):
        raise DicomError("holds no DICOM data elements", path=p)
    return ds


CUT_SHORT = (
    "is cut short: the file ends inside its data (an incomplete copy or download); copy it "
    "again from its source"
)
_TOO_LARGE = (
    "declares a data element larger than can be read (a damaged or hostile header); refused"
)
_DAMAGED = "has a damaged or truncated header (a data element or sequence cannot be read); refused"


def _read_inflated(data: bytes, header_only: bool, limits: Limits) -> Dataset:
    """Parse inflated bytes (see :func:`_inflate`); the header-only pass is bounded like any
    other file. Values are not deferred: the bytes are in memory and have no file to re-read."""
    import pydicom
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    source: Any = io.BytesIO(data)
    if header_only:
        source = _BoundedReader(source, limits.max_header_bytes)
    ds = pydicom.dcmread(source, stop_before_pixels=header_only)
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    return ds


def short_error(exc: BaseException) -> str:
    """One line of an exception's text (plugins' multi-line reports joined), bounded."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    text = "; ".join(lines).replace(":;", ":") if lines else type(exc).__name__
    return text[:300]
