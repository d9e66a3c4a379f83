"""Annotation maths on generated images with known values (issue 14 item 2)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydicom import Dataset

from viewer.dicom.annotations import (
    TEXT_MAX,
    Annotation,
    angle,
    clean_text,
    counts_by_kind,
    ctr,
    distance,
    from_plain,
    roi_stats,
    to_plain,
)
from viewer.dicom.model import PixelSpacing
from viewer.errors import DicomError

SPACING = PixelSpacing(row_mm=0.2, col_mm=0.25, source="PixelSpacing")


def test_distance_in_mm_with_a_known_spacing_and_px_without() -> None:
    d = distance((10, 10), (50, 40), SPACING)  # 40 cols x 0.25, 30 rows x 0.2
    assert (d.unit, d.source) == ("mm", "PixelSpacing")
    assert d.value == pytest.approx(math.hypot(10.0, 6.0))
    px = distance((10, 10), (40, 50), None)
    assert px.unit == "px" and px.value == pytest.approx(50.0)


def test_angle_of_known_points() -> None:
    assert angle((10, 0), (0, 0), (0, 10)) == pytest.approx(90.0)
    assert angle((10, 0), (0, 0), (10, 10)) == pytest.approx(45.0)
    assert angle((10, 0), (0, 0), (-10, 0)) == pytest.approx(180.0)
    assert angle((10, 10), (0, 0), (10, 0)) == pytest.approx(45.0)  # order does not matter
    assert math.isnan(angle((0, 0), (0, 0), (1, 0)))
    # non-square pixels: 45° on screen pixels is atan(0.2/0.25) in the body
    assert angle((10, 0), (0, 0), (10, 10), SPACING) == pytest.approx(
        math.degrees(math.atan(0.2 / 0.25))
    )


def test_ctr_of_known_widths() -> None:
    # cardiac 150 px wide, thoracic 300 px; the y of each end is ignored (horizontal widths)
    r = ctr([(200, 300), (350, 320), (100, 250), (400, 260)], SPACING)
    assert r.cardiac.value == pytest.approx(150 * 0.25) and r.cardiac.unit == "mm"
    assert r.thoracic.value == pytest.approx(300 * 0.25)
    assert r.ratio == pytest.approx(0.5)
    flat = ctr([(350, 0), (200, 0), (0, 0), (0, 0)])
    assert flat.cardiac.unit == "px" and math.isnan(flat.ratio)


def test_rect_roi_on_a_constant_region() -> None:
    img = np.zeros((100, 120), dtype=np.float32)
    img[20:40, 30:60] = 500.0
    s = roi_stats(img, "rect", (30, 20), (60, 40), spacing=SPACING)
    assert s is not None
    assert (s.mean, s.sd, s.min, s.max, s.pixels) == (500.0, 0.0, 500.0, 500.0, 600)
    assert s.area == pytest.approx(600 * 0.05) and s.area_unit == "mm²"
    # corners in either order, uncalibrated area in px²
    s2 = roi_stats(img, "rect", (60, 40), (30, 20))
    assert s2 is not None and s2.area == 600 and s2.area_unit == "px²"


def test_rect_roi_on_a_gradient_matches_numpy() -> None:
    cols = np.arange(200, dtype=np.float32)
    img = np.tile(cols * 2.0 - 100.0, (150, 1))  # value = 2x - 100
    s = roi_stats(img, "rect", (10, 5), (30, 25))
    ref = (np.arange(10, 30) * 2.0) - 100.0
    assert s is not None
    assert s.mean == pytest.approx(ref.mean())
    assert s.sd == pytest.approx(ref.std())
    assert (s.min, s.max) == (-80.0, -42.0)


def test_ellipse_roi_counts_pixels_whose_centres_are_inside() -> None:
    img = np.full((200, 200), 7.0, dtype=np.float32)
    s = roi_stats(img, "ellipse", (50, 50), (150, 150))
    assert s is not None and s.mean == 7.0 and s.sd == 0.0
    assert s.pixels == pytest.approx(math.pi * 50 * 50, rel=0.01)
    # an ellipse inside a bright square and a dark surround: only the square's value
    img[:] = -1000.0
    img[40:160, 40:160] = 40.0
    s = roi_stats(img, "ellipse", (50, 50), (150, 150))
    assert s is not None and (s.min, s.max) == (40.0, 40.0)


def test_roi_excludes_pixel_padding_and_is_clipped_to_the_image() -> None:
    stored = np.full((50, 50), 100, dtype=np.uint16)
    stored[:, :10] = 0  # padding
    header = Dataset()
    header.PixelPaddingValue = 0
    modality = stored.astype(np.float32) * 2 - 1024
    s = roi_stats(modality, "rect", (-20, -20), (20, 20), stored=stored, header=header)
    assert s is not None
    assert s.pixels == 20 * 10 and s.min == s.max == 100 * 2 - 1024
    assert roi_stats(modality, "rect", (0, 0), (10, 50), stored=stored, header=header) is None
    assert roi_stats(modality, "rect", (60, 60), (90, 90)) is None


def test_roi_on_3000_square() -> None:
    """A large ellipse on a 3000 x 3000 image. How fast its numbers follow the drag is measured
    by bench/bench_ui.py (stall_annotate), not asserted here: a loaded machine decides a time."""
    img = np.random.default_rng(0).normal(1000, 50, (3000, 3000)).astype(np.float32)
    s = roi_stats(img, "ellipse", (500, 500), (1500, 1500))
    assert s is not None and s.mean == pytest.approx(1000, abs=1)


def test_clean_text_drops_control_characters_and_limits_length() -> None:
    assert clean_text("a\x00b\x1b[31mc\u202e d\nE") == "ab[31mc d E"
    assert len(clean_text("x" * 1000)) == TEXT_MAX


def test_plain_round_trip_and_refusals() -> None:
    items = [
        Annotation("distance", ((1.0, 2.0), (3.0, 4.0))),
        Annotation("text", ((5.0, 6.0),), "nodule?\x07"),
        Annotation("ctr", ((0, 0), (1, 0), (2, 0), (3, 0))),
    ]
    back = from_plain(to_plain(items))
    assert back[0] == items[0] and back[2] == items[2]
    assert back[1].text == "nodule?"
    assert counts_by_kind(back) == {"distance": 1, "ctr": 1, "text": 1}
    for bad in (
        {"kind": "laser", "points": []},
        {"kind": "distance", "points": [[1, 2]]},
        {"kind": "distance", "points": [[1, 2], [float("inf"), 0]]},
        {"kind": "distance", "points": [[1, 2], [True, 0]]},
        {"kind": "text", "points": [[1, 2]], "text": 5},
    ):
        with pytest.raises(DicomError):
            from_plain([bad])
    with pytest.raises(DicomError):
        from_plain({"kind": "distance"})
    with pytest.raises(DicomError):
        from_plain([{"kind": "arrow", "points": [[0, 0], [1, 1]]}] * 501)


def test_moving_an_annotation_keeps_its_shape() -> None:
    a = Annotation("angle", ((0, 0), (10, 0), (10, 10)))
    b = a.moved(5, -5)
    assert b.points == ((5, -5), (15, -5), (15, 5))
    assert angle(*b.points) == pytest.approx(angle(*a.points))
    assert a.with_point(0, (1, 1)).points[0] == (1, 1)


def test_a_sampled_roi_estimates_the_exact_one() -> None:
    """While a ROI is drawn its numbers come from every step-th pixel (the area scaled)."""
    img = np.random.default_rng(1).normal(300, 20, (1200, 1200)).astype(np.float32)
    exact = roi_stats(img, "ellipse", (100, 100), (1100, 1000), spacing=SPACING)
    rough = roi_stats(img, "ellipse", (100, 100), (1100, 1000), spacing=SPACING, step=4)
    assert exact is not None and rough is not None
    assert rough.mean == pytest.approx(exact.mean, abs=1.0)
    assert rough.sd == pytest.approx(exact.sd, rel=0.05)
    assert rough.area == pytest.approx(exact.area, rel=0.01)
    flat = roi_stats(img, "ellipse", (100, 100), (100, 1000))
    assert flat is None  # no width: no pixel


def test_the_unit_of_modality_values_is_named_when_the_file_says_it() -> None:
    from viewer.dicom.annotations import modality_unit

    header = Dataset()
    assert modality_unit(header, "CR") == ""
    assert modality_unit(header, "CT") == "HU"
    header.RescaleType = "OD"
    assert modality_unit(header, "CR") == "OD"
    assert modality_unit(None, "DX") == ""
