"""A decided reading as an :class:`~viewer.pacs.model.AiReport`, built from the project's synthetic
chest X-ray (never a real patient): the input of the object builder's tests, and of anyone who
needs a realistic report (two labels, a site threshold, a missed finding, Japanese text)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import numpy as np

from viewer.dicom.annotations import Annotation
from viewer.dicom.synthetic import make_cxr
from viewer.pacs.model import (
    AiReport,
    Algorithm,
    FindingDecision,
    InputCheck,
    LabelScore,
    Observer,
)

JA_REASON = "陰影は肋骨の重なりによるもの（所見なし）"
JA_NAME = "山田^太郎"
JA_TEXT = "右上葉の陰影を確認"
READING_TIME = dt.datetime(2026, 12, 6, 14, 5, 30, tzinfo=dt.timezone(dt.timedelta(hours=9)))
ANNOTATIONS = (
    Annotation("distance", ((10.0, 12.0), (110.0, 12.0))),
    Annotation("angle", ((10.0, 100.0), (50.0, 120.0), (90.0, 90.0))),
    Annotation("rect", ((20.0, 20.0), (60.0, 80.0))),
    Annotation("ellipse", ((70.0, 70.0), (110.0, 90.0))),
    Annotation("ctr", ((40.0, 60.0), (80.0, 60.0), (20.0, 90.0), (120.0, 90.0))),
    Annotation("arrow", ((-5.0, 100.0), (60.0, 80.0))),
    Annotation("text", ((30.0, 30.0),), JA_TEXT),
)


def display_of(source: Any) -> np.ndarray:
    """The synthetic image as an 8-bit display (a plain linear window over its stored range)."""
    pixels = source.pixel_array.astype(np.float64)
    span = max(float(pixels.max() - pixels.min()), 1.0)
    out: np.ndarray = np.round((pixels - pixels.min()) / span * 255.0).astype(np.uint8)
    return out


def heatmap_for(shape: tuple[int, int]) -> np.ndarray:
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    cy, cx = shape[0] * 0.4, shape[1] * 0.3
    out: np.ndarray = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (shape[0] / 8) ** 2))
    return out


def make_report(
    *,
    seed: int = 3,
    size: tuple[int, int] = (128, 128),
    reading_id: str = "reading-0001",
    **kw: Any,
) -> AiReport:
    full = make_cxr(seed, opacity=True, size=size)
    display = display_of(full)
    header = full.copy()
    del header.PixelData
    report = AiReport(
        source=header,
        labels=(
            LabelScore("opacity", 0.8125, 0.43, True, "site", "sensitivity 0.95 (site, 2026-11)"),
            LabelScore("Pneumothorax", 0.0625, 0.5, False, "bundle", "Youden"),
            LabelScore("Weird_Label-X", 0.5, 0.5, True, "bundle", ""),
        ),
        checks=(
            InputCheck("modality", "ok", True, "CR is accepted"),
            InputCheck("pixel_spacing_missing", "warning", False, "No pixel spacing in the file"),
        ),
        decisions=(
            FindingDecision("opacity", True, "overrode", False, JA_REASON),
            FindingDecision("Weird_Label-X", True, "confirmed", True, ""),
            FindingDecision("nodule", False, "overrode", True, "missed by the AI"),
        ),
        observer=Observer(JA_NAME, "Radiologist"),
        algorithm=Algorithm("demo-cxr", "Bedside demo CXR", "1.4.2", "0f" * 32, "Bedside"),
        reading_id=reading_id,
        reading_time=READING_TIME,
        display=display,
        heatmap=heatmap_for(display.shape),
        annotations=ANNOTATIONS,
    )
    return replace(report, **kw) if kw else report
