"""The greyscale display pipeline of PS3.3 C.11, as lookup tables over the stored values.

Stored value -> Modality LUT (C.11.1: Modality LUT Sequence, else Rescale Slope/Intercept) ->
VOI (C.11.2: VOI LUT Sequence, or Window Center/Width with the VOI LUT Function) -> 8-bit display
value -> MONOCHROME1 inversion of that 8-bit value (C.7.6.3.1.2: minimum is white).

Every step is computed once over the *domain* of possible stored values (256 or 65,536 entries,
or the data's range for 32-bit data) with pydicom's own ``apply_modality_lut``, ``apply_voi`` and
``apply_windowing``; rendering is then one uint8 table lookup per pixel. That keeps re-windowing a
3000 x 3000 radiograph at a few milliseconds instead of a float pipeline per drag event.

One exception, for start-up time (issue 19: importing pydicom is ~0.25 s of a small render): a
:class:`PlainHeader` (the pydicom-free render, viewer.dicom.direct) has no LUT sequence, and its
Rescale and windows are the standard's equations written here (:func:`rescale`,
:func:`linear_window`, :func:`linear_exact_window`, :func:`sigmoid_window`); tests/dicom/
test_direct.py checks them against pydicom's functions. pydicom is imported where it is used,
so that path never loads it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

import numpy as np

from viewer.dicom.model import VOI_FUNCTIONS, ImageMetadata, Window
from viewer.errors import DicomError

if TYPE_CHECKING:
    from pydicom.dataset import Dataset


class HeaderSource(Protocol):
    """What the pipeline reads of a header: values by keyword (``get``), typed as pydicom types
    them."""

    def get(self, key: str, default: Any = None, /) -> Any: ...


class PlainHeader:
    """Grey-scale values read without pydicom (viewer.dicom.direct), by pydicom's keywords and
    typed as pydicom types them (int, float, list of float, str, list of str). Never a Modality
    or VOI LUT Sequence; Rescale Slope and Intercept both or neither (PS3.3 C.11.1: Type 1C
    together). Such a header takes the equations below, a pydicom Dataset pydicom's functions."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def get(self, key: str, default: Any = None, /) -> Any:
        return self._values.get(key, default)


class Displayable(Protocol):
    """An image the renderer can show: a :class:`~viewer.dicom.model.DicomImage` or the direct
    render's :class:`~viewer.dicom.direct.DirectImage`."""

    @property
    def meta(self) -> ImageMetadata: ...

    @property
    def stored(self) -> np.ndarray: ...

    @property
    def header(self) -> HeaderSource: ...

    @property
    def default_window(self) -> Window: ...


# Largest stored-value range mapped by a lookup table for 32-bit data (4 M entries, 4 MB).
MAX_LUT_ENTRIES = 1 << 22


@dataclass(frozen=True)
class StoredDomain:
    """``index``: per-pixel integer index into ``values`` (the possible stored values)."""

    index: np.ndarray
    values: np.ndarray


def stored_domain(stored: np.ndarray) -> StoredDomain:
    """Index the stored array into a table domain without arithmetic on 8/16-bit data.

    For 8/16-bit data the index is a zero-copy unsigned *view* of the stored array and the domain
    enumerates every bit pattern reinterpreted with the stored dtype (so signed data works too).
    """
    if stored.dtype.kind not in "iu":
        raise DicomError(f"stored pixel values must be integers, not {stored.dtype}")
    size = stored.dtype.itemsize
    if size <= 2:
        udtype = np.dtype(np.uint8 if size == 1 else np.uint16)
        index = stored.view(udtype)
        values = np.arange(1 << (8 * size), dtype=udtype).view(stored.dtype)
        return StoredDomain(index=index, values=values)
    lo = int(stored.min()) if stored.size else 0
    hi = int(stored.max()) if stored.size else 0
    span = hi - lo + 1
    if span <= MAX_LUT_ENTRIES:
        index = (stored.astype(np.int64) - lo).astype(np.uint32)
        values = np.arange(lo, hi + 1, dtype=np.int64)
        return StoredDomain(index=index, values=values)
    # Very wide 32-bit data (not a radiograph): quantize to 2**22 bins over the data range.
    scale = (MAX_LUT_ENTRIES - 1) / (hi - lo)
    index = np.rint((stored.astype(np.float64) - lo) * scale).astype(np.uint32)
    values = lo + np.arange(MAX_LUT_ENTRIES, dtype=np.float64) / scale
    return StoredDomain(index=index, values=np.rint(values).astype(np.int64))


def modality_values(values: np.ndarray, header: HeaderSource) -> np.ndarray:
    """PS3.3 C.11.1 Modality LUT over ``values`` with pydicom's ``apply_modality_lut`` (a
    :class:`PlainHeader`: :func:`rescale`)."""
    for keyword, tag in (("RescaleSlope", "(0028,1053)"), ("RescaleIntercept", "(0028,1052)")):
        value = header.get(keyword)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            # '', a multi-valued or garbled DS (VM 1, PS3.3 C.11.1): numpy's words otherwise
            raise DicomError(
                f"has an invalid {keyword} {tag} value {str(value)[:40]!r} (not a number)"
            )
    sequence = None if isinstance(header, PlainHeader) else header.get("ModalityLUTSequence")
    problem = lut_problem(sequence[0], bits=(8, 16)) if sequence else None
    if problem:
        raise DicomError(f"has a Modality LUT Sequence (0028,3000) that cannot apply: {problem}")
    try:
        if isinstance(header, PlainHeader):
            out = rescale(
                values, header.get("RescaleSlope", 1.0), header.get("RescaleIntercept", 0.0)
            )
        else:
            from pydicom.pixels.processing import apply_modality_lut

            out = apply_modality_lut(values, cast("Dataset", header))
    except Exception as exc:  # the words are numpy's or struct's: the attributes are named
        what = "Modality LUT Sequence (0028,3000)" if sequence else "Rescale (0028,1052/1053)"
        raise DicomError(
            f"has a {what} that cannot apply to its stored values (a damaged header)"
        ) from exc
    out = np.asarray(out, dtype=np.float64)
    if out.shape != values.shape or not np.all(np.isfinite(out)):
        raise DicomError("the Modality LUT / Rescale (0028,1052/1053) gives non-finite values")
    if out.size and float(np.abs(out).max()) > _FLOAT32_MAX:
        # the image, its windows and the model take float32: inf there, a flat image shown
        raise DicomError(
            "the Modality LUT / Rescale (0028,1052/1053) gives values too large to show "
            f"(beyond {_FLOAT32_MAX:.1e})"
        )
    return out


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_window(window: Window) -> None:
    """PS3.3 C.11.2.1.2: LINEAR needs width >= 1; LINEAR_EXACT and SIGMOID width > 0."""
    if window.function not in VOI_FUNCTIONS:
        raise DicomError(f"unknown VOI LUT Function {window.function!r}")
    if not (math.isfinite(window.center) and math.isfinite(window.width)):
        raise DicomError("window center and width must be finite numbers")
    if window.lut_index is None:
        if window.function == "LINEAR" and window.width < 1:
            raise DicomError(f"window width {window.width:g} must be >= 1 for LINEAR")
        if window.width <= 0:
            raise DicomError(f"window width {window.width:g} must be > 0 for {window.function}")


def window_lut(mod_values: np.ndarray, window: Window) -> np.ndarray:
    """8-bit VOI output for each modality value, with pydicom's ``apply_windowing``.

    The output range is 0..255 (PS3.3 C.11.2.1.2 y_min..y_max): pydicom derives y_min/y_max from
    an unsigned 8-bit description, so we hand it one with the window and function.
    """
    check_window(window)
    from pydicom.dataset import Dataset
    from pydicom.pixels.processing import apply_windowing

    ds = Dataset()
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsStored = 8
    ds.PixelRepresentation = 0
    ds.WindowCenter = float(window.center)
    ds.WindowWidth = float(window.width)
    ds.VOILUTFunction = window.function
    y = np.asarray(apply_windowing(mod_values.astype(np.float64, copy=True), ds), dtype=np.float64)
    return _eight_bit(y)


def _eight_bit(y: np.ndarray) -> np.ndarray:
    """The VOI output 0..255 as display values: rounded to the nearest integer."""
    out: np.ndarray = np.clip(np.rint(y), 0, 255).astype(np.uint8)
    return out


# The standard's equations, for a PlainHeader only (module docstring). Each takes the modality
# values as float64 and gives y in y_min = 0 .. y_max.


def rescale(values: np.ndarray, slope: float, intercept: float) -> np.ndarray:
    """Rescale Slope (0028,1053) and Intercept (0028,1052), PS3.3 C.11.1.1.2: output units =
    m * SV + b."""
    out: np.ndarray = values.astype(np.float64) * slope + intercept
    return out


def _three_cases(
    x: np.ndarray, black_to: float, white_from: float, ramp: np.ndarray, y_max: float
) -> np.ndarray:
    """y_min at or below ``black_to``, y_max above ``white_from``, ``ramp`` between: the shape
    of both linear functions' definitions (PS3.3 C.11.2.1.2.1, C.11.2.1.3.2)."""
    return np.where(x <= black_to, 0.0, np.where(x > white_from, y_max, ramp))


def linear_window(x: np.ndarray, center: float, width: float, y_max: float = 255.0) -> np.ndarray:
    """VOI LUT Function LINEAR (the default), PS3.3 C.11.2.1.2.1: with c' = c - 0.5 and
    w' = w - 1, y = ((x - c') / w' + 0.5) * (y_max - y_min) + y_min between c' - w'/2 and
    c' + w'/2 (width 1: a step, nothing between)."""
    c, w = center - 0.5, width - 1.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # outside: not used
        ramp = ((x - c) / w + 0.5) * y_max
    return _three_cases(x, c - w / 2, c + w / 2, ramp, y_max)


def linear_exact_window(
    x: np.ndarray, center: float, width: float, y_max: float = 255.0
) -> np.ndarray:
    """VOI LUT Function LINEAR_EXACT, PS3.3 C.11.2.1.3.2: y = ((x - c) / w + 0.5) *
    (y_max - y_min) + y_min between c - w/2 and c + w/2."""
    with np.errstate(over="ignore"):  # a tiny width: far values overflow, and are not used
        ramp = ((x - center) / width + 0.5) * y_max
    return _three_cases(x, center - width / 2, center + width / 2, ramp, y_max)


def sigmoid_window(x: np.ndarray, center: float, width: float, y_max: float = 255.0) -> np.ndarray:
    """VOI LUT Function SIGMOID, PS3.3 C.11.2.1.3.1: y = (y_max - y_min) /
    (1 + exp(-4 (x - c) / w)) + y_min."""
    with np.errstate(over="ignore"):  # exp(large) = inf gives y_min, as it should
        out: np.ndarray = y_max / (1.0 + np.exp(-4.0 * (x - center) / width))
    return out


_EQUATIONS = {
    "LINEAR": linear_window,
    "LINEAR_EXACT": linear_exact_window,
    "SIGMOID": sigmoid_window,
}


def equation_window_lut(mod_values: np.ndarray, window: Window) -> np.ndarray:
    """:func:`window_lut` for a :class:`PlainHeader`: the same 8-bit output from the
    standard's equations instead of pydicom's ``apply_windowing``."""
    check_window(window)
    equation = _EQUATIONS[window.function]
    return _eight_bit(equation(mod_values.astype(np.float64), window.center, window.width))


def voi_lut_lut(mod_values: np.ndarray, header: HeaderSource, index: int) -> np.ndarray:
    """8-bit output of item ``index`` of the VOI LUT Sequence (0028,3010), PS3.3 C.11.2.1.1.

    pydicom's ``apply_voi`` maps; the LUT's output (LUT Descriptor third value bits, widened if
    the data exceed it) is scaled linearly to 0..255.
    """
    from pydicom.pixels.processing import apply_voi

    try:
        item = header.get("VOILUTSequence")[index]
        bits = int(item.LUTDescriptor[2])
        values = np.rint(mod_values).astype(np.int64)
        y = np.asarray(apply_voi(values, cast("Dataset", header), index=index), dtype=np.float64)
    except Exception as exc:
        raise DicomError(f"VOI LUT Sequence item {index + 1} is invalid: {exc}") from exc
    top = float((1 << bits) - 1)
    if y.size and float(y.max()) > top:  # LUT data wider than its descriptor says
        top = float((1 << int(float(y.max())).bit_length()) - 1)
    return np.clip(np.rint(y * (255.0 / top)), 0, 255).astype(np.uint8)


def stored_windows(header: HeaderSource) -> tuple[tuple[Window, ...], list[str]]:
    """Presets from the header: VOI LUT Sequence items first, then Window Center/Width pairs.

    Invalid entries are skipped and described in the returned notes (never fatal: the automatic
    window still shows the image).
    """
    notes: list[str] = []
    windows: list[Window] = []
    try:
        seq = header.get("VOILUTSequence") or []
        if seq:
            from pydicom.pixels.processing import apply_voi
        for i, item in enumerate(seq):
            # a LUT Data (0028,3006) that does not match its descriptor must not become a preset
            problem = lut_problem(item, bits=(8, *range(10, 17)))
            if problem:
                notes.append(f"VOI LUT Sequence item {i + 1} ignored: {problem}")
                continue
            entries, first = int(item.LUTDescriptor[0]) or 65536, float(item.LUTDescriptor[1])
            explanation = str(item.get("LUTExplanation", "") or "")
            try:
                apply_voi(np.array([int(first)], dtype=np.int64), cast("Dataset", header), index=i)
            except Exception:
                notes.append(
                    f"VOI LUT Sequence item {i + 1} ignored: its LUT Data (0028,3006) does not "
                    "match its LUT Descriptor (0028,3002)"
                )
                continue
            windows.append(
                Window(
                    center=first + entries / 2,
                    width=float(entries),
                    explanation=explanation or f"VOI LUT {i + 1}",
                    lut_index=i,
                )
            )
    except Exception as exc:
        notes.append(f"VOI LUT Sequence ignored: {exc}")
        windows = []
    try:
        centers = _as_floats(header.get("WindowCenter"))
        widths = _as_floats(header.get("WindowWidth"))
        explanations = _as_strs(header.get("WindowCenterWidthExplanation"))
        function = str(header.get("VOILUTFunction", "") or "LINEAR").strip().upper()
        if function not in VOI_FUNCTIONS:
            notes.append(f"unknown VOI LUT Function {function!r}; LINEAR used")
            function = "LINEAR"
        for i, (center, width) in enumerate(zip(centers, widths, strict=False)):
            win = Window(
                center=center,
                width=width,
                function=function,  # type: ignore[arg-type]
                explanation=explanations[i] if i < len(explanations) else "",
            )
            try:
                check_window(win)
            except DicomError as exc:
                notes.append(f"stored window {i + 1} ignored: {exc.message}")
                continue
            windows.append(win)
    except Exception as exc:
        notes.append(f"Window Center/Width ignored: {exc}")
    return tuple(windows), notes


def lut_problem(item: Any, bits: Sequence[int]) -> str | None:
    """Why a Modality or VOI LUT Sequence item cannot be applied, or None. Its LUT Descriptor
    (0028,3002) has three values (PS3.3 C.11.1.1.1, C.11.2.1.1): the entries (0 means 65536),
    the first stored value mapped, and the bits per entry (8 or 16 for a Modality LUT; 8 or
    10..16 for a VOI LUT, as older editions allowed); LUT Data (0028,3006) holds that many."""
    desc = item.get("LUTDescriptor")
    values = _items(desc) if desc is not None else []
    if len(values) != 3 or not all(isinstance(v, int) for v in values):
        return f"its LUT Descriptor (0028,3002) has {len(values)} value(s), not three numbers"
    entries, _, depth = values
    if depth not in bits:
        return f"its LUT Descriptor (0028,3002) gives {depth} bits per entry"
    held = _lut_entries(item, depth)
    if held < (entries or 65536):
        return (
            f"its LUT Data (0028,3006) holds {held} entries where its LUT Descriptor "
            f"(0028,3002) declares {entries or 65536}"
        )
    return None


def _lut_entries(item: Any, bits: int) -> int:
    """Entries held by LUT Data (0028,3006): 16-bit words, or bytes for an 8-bit LUT packed
    in OW (PS3.3 C.11.2.1.1 allows both)."""
    value = item.get("LUTData")
    if value is None:
        return 0
    if isinstance(value, bytes | bytearray):
        return len(value) if bits == 8 else len(value) // 2
    if isinstance(value, int):
        return 1
    return len(value)


def _items(value: object) -> list[Any]:
    """A multi-valued element's values (a list, tuple or pydicom MultiValue), else [value]."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray):
        return list(value)
    return [value]


def _as_floats(value: object) -> list[float]:
    if value is None or value == "":
        return []
    return [float(v) for v in _items(value)]


def _as_strs(value: object) -> list[str]:
    if value is None or value == "":
        return []
    return [str(v) for v in _items(value)]


def padding_mask(values: np.ndarray, header: HeaderSource) -> np.ndarray:
    """True for domain entries that are Pixel Padding Value (0028,0120) .. Range Limit (0028,0121).

    Both are stored values (PS3.3 C.7.5.1.1.2), compared before the Modality LUT.
    """
    mask = np.zeros(values.shape, dtype=bool)
    try:
        pad = header.get("PixelPaddingValue")
        if pad is None or isinstance(pad, bytes):
            return mask
        lo = int(pad)
        limit = header.get("PixelPaddingRangeLimit")
        hi = int(limit) if limit is not None and not isinstance(limit, bytes) else lo
    except (TypeError, ValueError):
        return mask
    lo, hi = min(lo, hi), max(lo, hi)
    return (values >= lo) & (values <= hi)


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_PARALLEL_MIN_PIXELS = 1 << 20
_CHUNK_PIXELS = 1 << 18


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="bedside-lut")
        return _pool


def _lookup_rows(lut: np.ndarray, index: np.ndarray, out: np.ndarray, rows: range) -> None:
    """``out[rows] = lut[index[rows]]`` through a small intp buffer.

    numpy casts non-intp indices to intp element by element inside fancy indexing, which is
    most of its cost; copying a cache-sized block to intp first and using ``take`` halves it.
    """
    step = max(1, _CHUNK_PIXELS // max(1, index.shape[1]))
    buf = np.empty((min(step, len(rows)), index.shape[1]), dtype=np.intp)
    for start in range(rows.start, rows.stop, step):
        stop = min(start + step, rows.stop)
        block = buf[: stop - start]
        np.copyto(block, index[start:stop], casting="unsafe")
        np.take(lut, block, out=out[start:stop], mode="clip")


def apply_lut(lut: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``lut[index]`` for a 2-D index, blocked, over two threads for large images."""
    if index.ndim != 2 or index.size == 0:
        return np.asarray(lut[index])
    out = np.empty(index.shape, dtype=lut.dtype)
    rows = index.shape[0]
    if index.size < _PARALLEL_MIN_PIXELS:
        _lookup_rows(lut, index, out, range(0, rows))
        return out
    mid = rows // 2
    parts = (range(0, mid), range(mid, rows))
    list(_executor().map(lambda part: _lookup_rows(lut, index, out, part), parts))
    return out


def presentation_inverse(header: HeaderSource, photometric: str) -> bool:
    """Whether the 8-bit VOI output is inverted for display (PS3.3 C.11.6, C.7.6.3.1.2).

    Presentation LUT Shape (2050,0020), when present, is the last step of the pipeline and
    decides: INVERSE inverts, IDENTITY does not. Without it, MONOCHROME1 (minimum = white) is
    inverted. This is what dcmtk does, which our tests compare against.
    """
    try:
        shape = str(header.get("PresentationLUTShape", "") or "").strip().upper()
    except Exception:
        shape = ""
    if shape in ("INVERSE", "IDENTITY"):
        return shape == "INVERSE"
    return photometric == "MONOCHROME1"


class DisplayRenderer:
    """8-bit display buffers of one image for any window, by table lookup (cheap re-windowing).

    MONOCHROME1 is inverted after the VOI step automatically (the 8-bit output is inverted,
    PS3.3 C.7.6.3.1.2), as is any image with Presentation LUT Shape INVERSE; ``invert`` is the
    user's extra toggle on top of that.
    """

    def __init__(self, image: Displayable) -> None:
        self.image = image
        self._domain = stored_domain(image.stored)
        self._mod = modality_values(self._domain.values, image.header)
        self._plain = isinstance(image.header, PlainHeader)
        self._inverse = presentation_inverse(image.header, image.meta.photometric)
        self._cache: dict[Window, np.ndarray] = {}

    def lut(self, window: Window | None = None, *, invert: bool = False) -> np.ndarray:
        """The uint8 table over the stored-value domain for ``window`` (cached per window)."""
        win = window or self.image.default_window
        base = self._cache.get(win)
        if base is None:
            try:
                if win.lut_index is not None:
                    base = voi_lut_lut(self._mod, self.image.header, win.lut_index)
                elif self._plain:
                    base = equation_window_lut(self._mod, win)
                else:
                    base = window_lut(self._mod, win)
            except DicomError as exc:
                raise DicomError(exc.message, path=exc.path or self.image.meta.path) from exc
            if len(self._cache) > 32:
                self._cache.clear()
            self._cache[win] = base
        if self._inverse != invert:
            return np.asarray(255 - base, dtype=np.uint8)
        return base

    def render(self, window: Window | None = None, *, invert: bool = False) -> np.ndarray:
        """The 2-D uint8 display buffer."""
        return apply_lut(self.lut(window, invert=invert), self._domain.index)

    def value_at(self, row: int, col: int) -> tuple[int, float]:
        """(stored value, modality value) under the cursor, for the status bar."""
        stored = int(self.image.stored[row, col])
        return stored, float(self._mod[int(self._domain.index[row, col])])


def render(image: Displayable, window: Window | None = None) -> np.ndarray:
    """Convenience: ``DisplayRenderer(image).render(window)``."""
    return DisplayRenderer(image).render(window)
