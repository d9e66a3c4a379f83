"""The reader's annotations as a Grayscale Softcopy Presentation State (PS3.3 A.33.1).

Each annotation (``viewer.dicom.annotations``: distance, angle, ROIs, cardiothoracic ratio,
arrow, text) becomes graphic and text objects (C.10.5 Graphic Annotation) in PIXEL units, which
share Bedside's convention: (0, 0) is the top left corner of the top left pixel, x the column
(C.10.5.1.2). Text is UTF-8 (ISO_IR 192), so Japanese survives (Weasis #309, #725). The source's
stored window, rescale and MONOCHROME1 inversion are carried over so the image looks as it did.
A point outside the image is clipped to its edge (PIXEL coordinates cannot be negative).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset

from viewer.dicom.annotations import Annotation, Point, angle, clean_text, ctr, distance
from viewer.dicom.metadata import metadata_from_dataset
from viewer.dicom.model import PixelSpacing
from viewer.pacs.model import AiReport, PacsObjectError
from viewer.pacs.source import (
    SERIES_DESCRIPTION,
    finish_object,
    for_highdicom,
    identity,
    new_instance,
    our_text,
    person_name,
)

LAYER = "BEDSIDE"


def _spacing(source: Dataset) -> PixelSpacing | None:
    try:
        return metadata_from_dataset(source, "").pixel_spacing
    except Exception:  # a malformed spacing: lengths in pixels rather than a wrong mm value
        return None


def _number(source: Dataset, keyword: str) -> float | None:
    try:
        value = source.get(keyword)
        if isinstance(value, Sequence) and not isinstance(value, str):
            value = value[0] if len(value) else None
        number = float(value) if value is not None and value != "" else None
    except Exception:  # not a number: leave the transformation out
        return None
    return number if number is not None and math.isfinite(number) else None


class _Shapes:
    """Collects graphic and text objects in the image's pixel space, clipped to it."""

    def __init__(self, columns: int, rows: int) -> None:
        self.columns, self.rows = columns, rows
        self.graphics: list[hd.pr.GraphicObject] = []
        self.texts: list[hd.pr.TextObject] = []

    def _clip(self, p: Point) -> tuple[float, float]:
        return (min(max(p[0], 0.0), float(self.columns)), min(max(p[1], 0.0), float(self.rows)))

    def line(self, *points: Point) -> None:
        data = np.array([self._clip(p) for p in points], dtype=np.float64)
        self.graphics.append(hd.pr.GraphicObject("POLYLINE", data, "PIXEL"))

    def ellipse(self, p1: Point, p2: Point) -> None:
        (x1, y1), (x2, y2) = self._clip(p1), self._clip(p2)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        # major axis end points first, then the minor axis (C.10.5.1.2 ELLIPSE)
        horizontal = [(min(x1, x2), cy), (max(x1, x2), cy)]
        vertical = [(cx, min(y1, y2)), (cx, max(y1, y2))]
        wide = abs(x2 - x1) >= abs(y2 - y1)
        axes = horizontal + vertical if wide else vertical + horizontal
        self.graphics.append(hd.pr.GraphicObject("ELLIPSE", np.array(axes), "PIXEL"))

    def text(self, words: str, at: Point) -> None:
        words = clean_text(words)
        if words:
            self.texts.append(
                hd.pr.TextObject(
                    words, "PIXEL", anchor_point=self._clip(at), anchor_point_visible=True
                )
            )


def _length_text(value: float, unit: str) -> str:
    return f"{value:.1f} {unit}"


def _draw(shapes: _Shapes, a: Annotation, spacing: PixelSpacing | None) -> None:
    p = a.points
    if a.kind == "distance":
        shapes.line(p[0], p[1])
        d = distance(p[0], p[1], spacing)
        shapes.text(_length_text(d.value, d.unit), p[1])
    elif a.kind == "angle":
        shapes.line(p[0], p[1], p[2])
        shapes.text(f"{angle(p[0], p[1], p[2], spacing):.1f}\u00b0", p[1])
    elif a.kind == "rect":
        (x1, y1), (x2, y2) = p
        shapes.line((x1, y1), (x2, y1), (x2, y2), (x1, y2), (x1, y1))
    elif a.kind == "ellipse":
        shapes.ellipse(p[0], p[1])
    elif a.kind == "ctr":
        shapes.line(p[0], (p[1][0], p[0][1]))
        shapes.line(p[2], (p[3][0], p[2][1]))
        ratio = ctr(p, spacing).ratio
        shapes.text("CTR " + ("-" if math.isnan(ratio) else f"{ratio:.2f}"), p[2])
    elif a.kind == "arrow":
        (tx, ty), (hx, hy) = p
        shapes.line((tx, ty), (hx, hy))
        size = max(4.0, 0.15 * math.hypot(hx - tx, hy - ty))
        heading = math.atan2(hy - ty, hx - tx)
        wings = [
            (hx - size * math.cos(heading + s), hy - size * math.sin(heading + s))
            for s in (0.45, -0.45)
        ]
        shapes.line(wings[0], (hx, hy), wings[1])
    elif a.kind == "text":
        shapes.text(a.text, p[0])


def _reference(report: AiReport, exact: Dataset) -> Dataset:
    """The source as highdicom's referenced image: the checked identity, one sample per pixel."""
    ref = for_highdicom(exact)
    samples = report.source.get("SamplesPerPixel", 1)
    if samples != 1:
        raise PacsObjectError(
            f"The source image has {str(samples)[:10]} samples per pixel; a grey-scale "
            "presentation state applies only to grey-scale images, so none was built."
        )
    ref.SamplesPerPixel = 1
    return ref


def build_gsps(report: AiReport) -> hd.pr.GrayscaleSoftcopyPresentationState:
    """The reading's annotations as a GSPS on the source image (in a new series, UTF-8)."""
    exact = identity(report)
    ref = _reference(report, exact)
    shapes = _Shapes(int(ref.Columns), int(ref.Rows))
    spacing = _spacing(report.source)
    for item in report.annotations:
        _draw(shapes, item, spacing)
    layer = hd.pr.GraphicLayer(LAYER, order=1, description="Bedside reading annotations")
    annotation = hd.pr.GraphicAnnotation(
        referenced_images=[ref],
        graphic_layer=layer,
        graphic_objects=shapes.graphics or None,
        text_objects=shapes.texts or None,
    )
    center, width = _number(report.source, "WindowCenter"), _number(report.source, "WindowWidth")
    voi = (
        [hd.pr.SoftcopyVOILUTTransformation(window_center=center, window_width=width)]
        if center is not None and width is not None and width >= 1
        else None
    )
    slope, intercept = (
        _number(report.source, "RescaleSlope"),
        _number(report.source, "RescaleIntercept"),
    )
    modality = (
        hd.ModalityLUTTransformation(
            rescale_intercept=intercept, rescale_slope=slope, rescale_type="US"
        )
        if slope is not None and intercept is not None and slope != 0
        else None
    )
    inverse = str(report.source.get("PhotometricInterpretation", "")).strip() == "MONOCHROME1"
    when = report.reading_time
    gsps = hd.pr.GrayscaleSoftcopyPresentationState(
        referenced_images=[ref],
        **new_instance(report, "gsps"),
        manufacturer_model_name="Bedside",
        software_versions=our_text(report.algorithm.version, 64) or "0",
        device_serial_number="",
        content_label="BEDSIDE_READING",
        content_description=SERIES_DESCRIPTION,
        graphic_annotations=[annotation] if shapes.graphics or shapes.texts else None,
        graphic_layers=[layer] if shapes.graphics or shapes.texts else None,
        content_creator_name=person_name(report.observer.name),
        modality_lut_transformation=modality,
        voi_lut_transformations=voi,
        presentation_lut_transformation=hd.PresentationLUTTransformation(
            presentation_lut_shape="INVERSE" if inverse else "IDENTITY"
        ),
    )
    # Presentation State Identification (C.11.10): the reading's time, not the build's
    gsps.PresentationCreationDate = when.strftime("%Y%m%d")
    gsps.PresentationCreationTime = when.strftime("%H%M%S")
    finish_object(gsps, exact, report, image=True)
    return gsps
