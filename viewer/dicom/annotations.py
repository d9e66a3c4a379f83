"""The reader's annotations on one image, and their maths: Qt-free, numpy only.

An :class:`Annotation` lives in image pixel coordinates (x = column, y = row, the pixel (c, r)
covering [c, c+1) x [r, r+1)), so zoom, pan, rotation and flip never change it. The numbers
follow what Weasis and OHIF show:

- distance: millimetres with a pixel spacing from the file (saying which one), else pixels;
- angle: degrees at the middle point of three (0..180);
- rectangle / ellipse ROI: mean, SD (population), min, max of the modality values (after the
  Modality LUT, PS3.3 C.11.1: HU for CT, the stored scale for CR/DX) of the pixels whose centres
  lie inside, Pixel Padding Value (0028,0120) excluded; area = those pixels times the pixel area
  (mm² when calibrated, else px²);
- cardiothoracic ratio: two horizontal widths (cardiac, thoracic) from their end points' x only,
  the ratio cardiac / thoracic;
- arrow (tail, head) and text (one point and the reader's words).

A text annotation is free text and may hold anything a reader types: :func:`clean_text` drops
control and format characters and keeps at most :data:`TEXT_MAX` characters, it is drawn as
plain text (never markup) and never written to the audit log (only counts by kind are).
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

import numpy as np

from viewer.dicom.model import PixelSpacing
from viewer.errors import DicomError

Kind = Literal["distance", "angle", "rect", "ellipse", "ctr", "arrow", "text"]
KINDS: tuple[Kind, ...] = get_args(Kind)
Point = tuple[float, float]

# how many points each kind holds (CTR: cardiac left/right, thoracic left/right)
POINTS: dict[Kind, int] = {
    "distance": 2,
    "angle": 3,
    "rect": 2,
    "ellipse": 2,
    "ctr": 4,
    "arrow": 2,
    "text": 1,
}
TEXT_MAX = 200
MAX_ANNOTATIONS = 500  # per image, when reading a stored file
_COORD_LIMIT = 1e6


@dataclass(frozen=True)
class Annotation:
    """One annotation in image pixel coordinates (see :data:`POINTS` for how many points)."""

    kind: Kind
    points: tuple[Point, ...]
    text: str = field(default="")

    def moved(self, dx: float, dy: float) -> Annotation:
        return Annotation(self.kind, tuple((x + dx, y + dy) for x, y in self.points), self.text)

    def with_point(self, index: int, point: Point) -> Annotation:
        pts = list(self.points)
        pts[index] = point
        return Annotation(self.kind, tuple(pts), self.text)


@dataclass(frozen=True)
class Length:
    """A length and its unit: ``"mm"`` with a spacing from the file, else ``"px"``."""

    value: float
    unit: Literal["mm", "px"]
    source: str = ""  # the spacing's source (PixelSpacing, ImagerPixelSpacing...), "" for px


@dataclass(frozen=True)
class RoiStats:
    """Statistics of the modality values inside a ROI (padding excluded)."""

    mean: float
    sd: float
    min: float
    max: float
    pixels: int
    area: float
    area_unit: Literal["mm²", "px²"]


@dataclass(frozen=True)
class Ctr:
    cardiac: Length
    thoracic: Length
    ratio: float  # nan when the thoracic width is 0


def clean_text(text: str) -> str:
    """The reader's text without control / format characters, at most TEXT_MAX characters."""
    kept = "".join(
        " " if ch in "\t\r\n" else ch
        for ch in str(text)
        if ch in "\t\r\n" or not unicodedata.category(ch).startswith("C")
    )
    return kept.strip()[:TEXT_MAX]


def distance(p1: Point, p2: Point, spacing: PixelSpacing | None) -> Length:
    """Length of p1-p2: mm with the file's spacing (row and column may differ), else px."""
    dx, dy = p2[0] - p1[0], p2[1] - p1[1]
    if spacing is None:
        return Length(math.hypot(dx, dy), "px")
    return Length(
        math.hypot(dx * float(spacing.col_mm), dy * float(spacing.row_mm)), "mm", spacing.source
    )


def angle(a: Point, vertex: Point, c: Point, spacing: PixelSpacing | None = None) -> float:
    """The angle a-vertex-c in degrees (0..180); with a spacing, in physical space (non-square
    pixels make image-space angles wrong)."""
    sx, sy = (float(spacing.col_mm), float(spacing.row_mm)) if spacing is not None else (1.0, 1.0)
    ux, uy = (a[0] - vertex[0]) * sx, (a[1] - vertex[1]) * sy
    vx, vy = (c[0] - vertex[0]) * sx, (c[1] - vertex[1]) * sy
    if math.hypot(ux, uy) == 0.0 or math.hypot(vx, vy) == 0.0:
        return float("nan")
    return math.degrees(abs(math.atan2(ux * vy - uy * vx, ux * vx + uy * vy)))


def _span(lo: float, hi: float, size: int) -> tuple[int, int]:
    """Indices of the pixels whose centres (i + 0.5) lie in [lo, hi], clipped to the image."""
    start = max(0, math.ceil(min(lo, hi) - 0.5))
    stop = min(size, math.floor(max(lo, hi) - 0.5) + 1)
    return start, max(start, stop)


def roi_mask(
    kind: Kind, p1: Point, p2: Point, shape: tuple[int, int], step: int = 1
) -> tuple[slice, slice, Any]:
    """The ROI's bounding slices (rows, cols; every ``step``-th pixel) and a bool mask over that
    box (None: all of it)."""
    r0, r1 = _span(p1[1], p2[1], shape[0])
    c0, c1 = _span(p1[0], p2[0], shape[1])
    rows, cols = slice(r0, r1, step), slice(c0, c1, step)
    if kind == "rect":
        return rows, cols, None
    if kind != "ellipse":
        raise ValueError(f"not a ROI: {kind}")
    cx, cy = (p1[0] + p2[0]) / 2, (p1[1] + p2[1]) / 2
    ax, ay = abs(p2[0] - p1[0]) / 2, abs(p2[1] - p1[1]) / 2
    yy = (np.arange(r0, r1, step, dtype=np.float64) + 0.5 - cy) / max(ay, 1e-9)
    xx = (np.arange(c0, c1, step, dtype=np.float64) + 0.5 - cx) / max(ax, 1e-9)
    if ax == 0 or ay == 0:
        return rows, cols, np.zeros((yy.size, xx.size), dtype=bool)
    # float32 squares: the mask of a 2000 x 2000 box in a third of the float64 time
    y2 = (yy * yy).astype(np.float32)
    x2 = (xx * xx).astype(np.float32)
    return rows, cols, np.add.outer(y2, x2) <= np.float32(1.0)


def roi_stats(
    modality: np.ndarray,
    kind: Kind,
    p1: Point,
    p2: Point,
    *,
    spacing: PixelSpacing | None = None,
    stored: np.ndarray | None = None,
    header: Any = None,
    step: int = 1,
) -> RoiStats | None:
    """Mean, SD, min, max and area of a rectangle / ellipse ROI (p1, p2: opposite corners of
    its box); pixels whose stored value is Pixel Padding are left out (``stored`` + ``header``).
    None when no pixel is inside. Only the ROI's box is touched: fast on any image size.

    ``step`` > 1 samples every step-th row and column (an estimate while a ROI is being drawn;
    the area is then scaled by step²)."""
    step = max(1, int(step))
    rows, cols, mask = roi_mask(kind, p1, p2, modality.shape[:2], step)
    values = modality[rows, cols]
    keep = mask
    if stored is not None and header is not None:
        # here: the window imports this module at start-up, the pipeline loads pydicom (issue 19)
        from viewer.dicom.pipeline import padding_mask

        pad = padding_mask(np.asarray(stored[rows, cols]), header)
        if pad.any():
            keep = ~pad if keep is None else keep & ~pad
    picked = values.ravel() if keep is None else values[keep]
    if picked.size == 0:
        return None
    n = int(picked.size) * step * step
    if spacing is None:
        area: float = float(n)
        unit: Literal["mm²", "px²"] = "px²"
    else:
        area, unit = n * float(spacing.row_mm) * float(spacing.col_mm), "mm²"
    mean = float(picked.mean(dtype=np.float64))
    return RoiStats(
        mean=mean,
        sd=float(picked.std(dtype=np.float64)),
        min=float(picked.min()),
        max=float(picked.max()),
        pixels=n,
        area=area,
        area_unit=unit,
    )


def modality_unit(header: Any, modality: str = "") -> str:
    """The unit of the modality values, when the file says it: Rescale Type (0028,1054), else
    HU for CT (PS3.3 C.11.1.1.2); "" for CR/DX, whose values have none."""
    try:
        rescale_type = header.get("RescaleType") if header is not None else None
    except Exception:  # a malformed element: no unit rather than a crash
        rescale_type = None
    if isinstance(rescale_type, str) and rescale_type.strip():
        return clean_text(rescale_type)[:16]
    return "HU" if modality == "CT" else ""


def _width(p1: Point, p2: Point, spacing: PixelSpacing | None) -> Length:
    dx = abs(p2[0] - p1[0])
    if spacing is None:
        return Length(dx, "px")
    return Length(dx * float(spacing.col_mm), "mm", spacing.source)


def ctr(points: Sequence[Point], spacing: PixelSpacing | None = None) -> Ctr:
    """Cardiothoracic ratio from (cardiac left, cardiac right, thoracic left, thoracic right):
    horizontal widths only (the x of each pair), ratio = cardiac / thoracic."""
    cardiac = _width(points[0], points[1], spacing)
    thoracic = _width(points[2], points[3], spacing)
    ratio = cardiac.value / thoracic.value if thoracic.value > 0 else float("nan")
    return Ctr(cardiac, thoracic, ratio)


def counts_by_kind(annotations: Sequence[Annotation]) -> dict[str, int]:
    """How many of each kind (the only thing about annotations the audit log keeps)."""
    counts = Counter(a.kind for a in annotations)
    return {k: counts[k] for k in KINDS if counts[k]}


def to_plain(annotations: Sequence[Annotation]) -> list[dict[str, Any]]:
    """JSON-ready form (for the reading's sidecar file)."""
    out: list[dict[str, Any]] = []
    for a in annotations:
        item: dict[str, Any] = {"kind": a.kind, "points": [[x, y] for x, y in a.points]}
        if a.kind == "text":
            item["text"] = clean_text(a.text)
        out.append(item)
    return out


def _point(raw: Any) -> Point:
    if not isinstance(raw, list | tuple) or len(raw) != 2:
        raise DicomError("an annotation point is not two numbers")
    x, y = raw
    if isinstance(x, bool) or isinstance(y, bool):
        raise DicomError("an annotation point is not two numbers")
    if not isinstance(x, int | float) or not isinstance(y, int | float):
        raise DicomError("an annotation point is not two numbers")
    fx, fy = float(x), float(y)
    if not (math.isfinite(fx) and math.isfinite(fy)) or max(abs(fx), abs(fy)) > _COORD_LIMIT:
        raise DicomError("an annotation point is out of range")
    return (fx, fy)


def from_plain(raw: Any) -> list[Annotation]:
    """Annotations back from :func:`to_plain` output; anything malformed is a DicomError."""
    if not isinstance(raw, list):
        raise DicomError("the annotations are not a list")
    if len(raw) > MAX_ANNOTATIONS:
        raise DicomError(f"more than {MAX_ANNOTATIONS} annotations on one image")
    out: list[Annotation] = []
    for item in raw:
        if not isinstance(item, dict):
            raise DicomError("an annotation is not an object")
        kind = item.get("kind")
        if kind not in KINDS:
            raise DicomError(f"unknown annotation kind: {str(kind)[:40]!r}")
        pts = item.get("points")
        if not isinstance(pts, list) or len(pts) != POINTS[kind]:
            raise DicomError(f"a {kind} annotation has the wrong number of points")
        text = item.get("text", "")
        if kind == "text" and not isinstance(text, str):
            raise DicomError("a text annotation's text is not a string")
        out.append(
            Annotation(
                cast(Kind, kind),
                tuple(_point(p) for p in pts),
                clean_text(text) if kind == "text" else "",
            )
        )
    return out
