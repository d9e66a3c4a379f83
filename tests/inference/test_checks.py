"""Input checks against the accepted inputs: ok, warning or refusal, with clear reasons."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from tests.inference.helpers import accepted
from viewer.inference.checks import CheckResult, check_input, refusals, warnings


@pytest.fixture
def meta(tmp_path: Path) -> Any:
    """Metadata of a generated CR PA chest X-ray (12 bits, 0.2 mm, 256 x 256)."""
    from viewer.dicom import read_metadata
    from viewer.dicom.synthetic import make_cxr

    path = tmp_path / "cr-pa.dcm"
    make_cxr(4, opacity=False, size=(256, 256)).save_as(path, enforce_file_format=True)
    return read_metadata(path)


def _by_name(checks: list[CheckResult]) -> dict[str, CheckResult]:
    return {c.name: c for c in checks}


def test_cr_pa_passes_every_check(meta: Any) -> None:
    checks = check_input(meta, accepted())
    assert meta.modality == "CR" and meta.view_position == "PA"
    assert [c.level for c in checks] == ["ok"] * len(checks)
    assert {c.name for c in checks} >= {"modality", "view", "body_part", "photometric",
                                        "bits_stored", "size", "pixel_spacing"}  # fmt: skip


def test_generated_dx_monochrome1_passes(tmp_path: Path) -> None:
    from viewer.dicom import read_metadata
    from viewer.dicom.synthetic import make_cxr

    path = tmp_path / "dx.dcm"
    make_cxr(5, opacity=True, modality="DX", photometric="MONOCHROME1",
             size=(200, 180)).save_as(path, enforce_file_format=True)  # fmt: skip
    assert not refusals(check_input(read_metadata(path), accepted()))
    assert not warnings(check_input(read_metadata(path), accepted()))


WARN = {
    "ap-view": ({"view_position": "AP"}, "view", "AP"),
    "empty-view": ({"view_position": ""}, "view", "(0018,5101) is empty"),
    "empty-body-part": ({"body_part": ""}, "body_part", "(0018,0015) is empty"),
    "other-body-part": ({"body_part": "ABDOMEN"}, "body_part", "ABDOMEN"),
    "empty-modality": ({"modality": ""}, "modality", "(0008,0060) is empty"),
    "8-bit": ({"bits_stored": 8}, "bits_stored", "8 bits"),
    "small": ({"rows": 100}, "size", "smaller"),
    "no-spacing": ({"pixel_spacing": None}, "pixel_spacing", "no pixel spacing"),
    "monochrome1-not-validated": ({"photometric": "MONOCHROME1"}, "photometric", "validated"),
}


@pytest.mark.parametrize(("changes", "name", "text"), list(WARN.values()), ids=list(WARN))
def test_warnings(meta: Any, changes: dict[str, Any], name: str, text: str) -> None:
    acc = accepted(photometric=["MONOCHROME2"])
    checks = _by_name(check_input(dataclasses.replace(meta, **changes), acc))
    assert checks[name].level == "warning"
    assert text in checks[name].message
    assert not refusals(list(checks.values()))


def test_spacing_outside_range_warns(meta: Any) -> None:
    from viewer.dicom import PixelSpacing

    wide = PixelSpacing(0.5, 0.5, "ImagerPixelSpacing")
    check = _by_name(check_input(dataclasses.replace(meta, pixel_spacing=wide), accepted()))
    assert check["pixel_spacing"].level == "warning" and "0.5" in check["pixel_spacing"].message


REFUSE = {
    "ct": ({"modality": "CT"}, "modality", "CT"),
    "mr": ({"modality": "MR"}, "modality", "MR"),
    "colour-rgb": ({"photometric": "RGB", "samples_per_pixel": 3}, "photometric", "colour"),
    "colour-ybr": ({"photometric": "YBR_FULL_422", "samples_per_pixel": 3}, "photometric",
                   "colour"),
    "palette": ({"photometric": "PALETTE COLOR"}, "photometric", "colour"),
    "lateral": ({"view_position": "LL"}, "view", "lateral"),
    "multi-frame": ({"number_of_frames": 30}, "frames", "multi-frame"),
    "not-an-image": ({"is_image": False}, "image", "no image"),
}  # fmt: skip


@pytest.mark.parametrize(("changes", "name", "text"), list(REFUSE.values()), ids=list(REFUSE))
def test_refusals_have_a_clear_reason(
    meta: Any, changes: dict[str, Any], name: str, text: str
) -> None:
    checks = check_input(dataclasses.replace(meta, **changes), accepted())
    refused = refusals(checks)
    assert [c.name for c in refused] == [name]
    assert text in refused[0].message


def test_empty_accept_lists_accept_anything(meta: Any) -> None:
    acc = accepted(modalities=[], views=[], body_parts=[], pixel_spacing_mm_min=None,
                   pixel_spacing_mm_max=None)  # fmt: skip
    checks = check_input(dataclasses.replace(meta, modality="OT", view_position="LL",
                                             pixel_spacing=None), acc)  # fmt: skip
    assert not refusals(checks) and not warnings(checks)


def test_real_manifest_accepted_inputs(meta: Any) -> None:
    from viewer.bundle.manifest import AcceptedInputs

    acc = AcceptedInputs(modalities=["CR", "DX"], views=["PA"], body_parts=["CHEST"])
    assert not refusals(check_input(meta, acc))
    ct = check_input(dataclasses.replace(meta, modality="CT"), acc)
    assert [c.name for c in refusals(ct)] == ["modality"]
