"""Input checks against the accepted inputs: ok, warning or refusal, with clear reasons."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from tests.inference.helpers import accepted
from viewer.inference.checks import (
    CHECK_MESSAGES,
    MIN_SIDE_PX,
    CheckResult,
    check_input,
    check_input_range,
    check_pixels,
    check_stored_window,
    check_tensor,
    check_window_spread,
    make_check,
    min_side,
    refusals,
    translate,
    warnings,
)


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
    # issue 12.4: another body part, a missing or non-projection modality (safe defaults)
    "other-body-part": ({"body_part": "ABDOMEN"}, "body_part", "ABDOMEN"),
    "hand": ({"body_part": "HAND"}, "body_part", "HAND"),
    "skull": ({"body_part": "SKULL"}, "body_part", "SKULL"),
    "empty-modality": ({"modality": ""}, "modality", "(0008,0060) is empty"),
    "us": ({"modality": "US"}, "modality", "US"),
    "dental-panoramic": ({"modality": "PX"}, "modality", "PX"),
    "dental-intraoral": ({"modality": "IO"}, "modality", "IO"),
}  # fmt: skip


@pytest.mark.parametrize(("changes", "name", "text"), list(REFUSE.values()), ids=list(REFUSE))
def test_refusals_have_a_clear_reason(
    meta: Any, changes: dict[str, Any], name: str, text: str
) -> None:
    checks = check_input(dataclasses.replace(meta, **changes), accepted())
    refused = refusals(checks)
    assert [c.name for c in refused] == [name]
    assert text in refused[0].message


def test_empty_accept_lists_accept_anything_but_non_projection_modalities(meta: Any) -> None:
    acc = accepted(modalities=[], views=[], body_parts=[], pixel_spacing_mm_min=None,
                   pixel_spacing_mm_max=None)  # fmt: skip
    knee = dataclasses.replace(meta, modality="DX", view_position="LL", body_part="KNEE",
                               pixel_spacing=None)  # fmt: skip
    checks = check_input(knee, acc)
    assert not refusals(checks) and not warnings(checks)
    # an empty modality list still means projection radiographs only (the safe default)
    for modality in ("OT", "CT", "MR", "US", "NM", "PX", "IO", "MG", ""):
        checks = check_input(dataclasses.replace(meta, modality=modality), acc)
        assert [c.name for c in refusals(checks)] == ["modality"], modality


def _policy_manifest_inputs(policy: dict[str, Any], **fields: Any) -> Any:
    from viewer.bundle.manifest import AcceptedInputs

    data = {"modalities": ["CR", "DX"], "views": ["PA"], "body_parts": ["CHEST"],
            **fields, "policy": policy}  # fmt: skip
    return AcceptedInputs.model_validate(data)


POLICY = {
    # id: (the bundle's table, header changes, check name, expected level)
    "body-part-other-warn": ({"body_part": {"missing": "warn", "other": "warn"}},
                             {"body_part": "ABDOMEN"}, "body_part", "warning"),
    "body-part-missing-refuse": ({"body_part": {"missing": "refuse", "other": "refuse"}},
                                 {"body_part": ""}, "body_part", "refusal"),
    "body-part-other-accept": ({"body_part": {"missing": "accept", "other": "accept"}},
                               {"body_part": "THORAX"}, "body_part", "ok"),
    "view-missing-refuse": ({"view": {"missing": "refuse", "other": "warn"}},
                            {"view_position": ""}, "view", "refusal"),
    "view-other-refuse": ({"view": {"missing": "warn", "other": "refuse"}},
                          {"view_position": "AP"}, "view", "refusal"),
    "modality-missing-warn": ({"modality": {"missing": "warn", "other": "refuse"}},
                              {"modality": ""}, "modality", "warning"),
    "modality-other-warn": ({"modality": {"missing": "refuse", "other": "warn"}},
                            {"modality": "RF"}, "modality", "warning"),
    "bits-other-refuse": ({"bits_stored": {"missing": "warn", "other": "refuse"}},
                          {"bits_stored": 8}, "bits_stored", "refusal"),
    "bits-missing-refuse": ({"bits_stored": {"missing": "refuse", "other": "warn"}},
                            {"bits_stored": 0}, "bits_stored", "refusal"),
    "spacing-missing-refuse": ({"pixel_spacing": {"missing": "refuse", "other": "warn"}},
                               {"pixel_spacing": None}, "pixel_spacing", "refusal"),
    "photometric-other-refuse": ({"photometric": {"missing": "warn", "other": "refuse"}},
                                 {"photometric": "MONOCHROME1"}, "photometric", "refusal"),
    "photometric-missing-refuse": ({"photometric": {"missing": "refuse", "other": "warn"}},
                                   {"photometric": ""}, "photometric", "refusal"),
}  # fmt: skip


@pytest.mark.parametrize(("policy", "changes", "name", "level"), list(POLICY.values()),
                         ids=list(POLICY))  # fmt: skip
def test_the_manifest_policy_table_decides(
    meta: Any, policy: dict[str, Any], changes: dict[str, Any], name: str, level: str
) -> None:
    acc = _policy_manifest_inputs(policy, bits_stored_min=10, photometric=["MONOCHROME2"],
                                  pixel_spacing_mm_min=0.1)  # fmt: skip
    check = _by_name(check_input(dataclasses.replace(meta, **changes), acc))[name]
    assert check.level == level, check
    if level == "refusal":
        assert "no score" in check.message


def test_a_manifest_without_a_table_gets_the_safe_defaults(meta: Any) -> None:
    from viewer.bundle.manifest import AcceptedInputs

    acc = AcceptedInputs(modalities=["CR", "DX"], views=["PA"], body_parts=["CHEST"])
    levels = {
        "body part HAND": ({"body_part": "HAND"}, "body_part", "refusal"),
        "no body part": ({"body_part": ""}, "body_part", "warning"),
        "no modality": ({"modality": ""}, "modality", "refusal"),
        "RF": ({"modality": "RF"}, "modality", "refusal"),
        "no view": ({"view_position": ""}, "view", "warning"),
        "AP": ({"view_position": "AP"}, "view", "warning"),
    }
    for what, (changes, name, level) in levels.items():
        check = _by_name(check_input(dataclasses.replace(meta, **changes), acc))[name]
        assert check.level == level, what


def test_real_manifest_accepted_inputs(meta: Any) -> None:
    from viewer.bundle.manifest import AcceptedInputs

    acc = AcceptedInputs(modalities=["CR", "DX"], views=["PA"], body_parts=["CHEST"])
    assert not refusals(check_input(meta, acc))
    ct = check_input(dataclasses.replace(meta, modality="CT"), acc)
    assert [c.name for c in refusals(ct)] == ["modality"]


# ----------------------------------------------------------------------------- size floor

SIZES = {
    # id: (rows, columns, model input size, level, code)
    "1x1": (1, 1, None, "refusal", "size_too_small"),
    "63-rows": (63, 256, None, "refusal", "size_too_small"),
    "64x64-warns": (64, 64, None, "warning", "size_small"),
    "100-rows-warns": (100, 256, 224, "warning", "size_small"),
    "127-cols-for-a-512-model": (512, 127, 512, "refusal", "size_too_small"),
    "128-for-a-512-model-warns": (128, 128, 512, "ok", "size_ok"),
    "256": (256, 256, 224, "ok", "size_ok"),
}


@pytest.mark.parametrize(("rows", "cols", "size", "level", "code"), list(SIZES.values()),
                         ids=list(SIZES))  # fmt: skip
def test_size_floor_refuses_and_manifest_minimum_warns(
    meta: Any, rows: int, cols: int, size: int | None, level: str, code: str
) -> None:
    acc = accepted(min_rows=128 if size != 512 else 100, min_columns=128 if size != 512 else 100)
    checks = check_input(dataclasses.replace(meta, rows=rows, columns=cols), acc,
                         input_size=size)  # fmt: skip
    check = _by_name(checks)["size"]
    assert (check.level, check.code) == (level, code)
    if level == "refusal":
        assert f"{cols} x {rows}" in check.message and "no score" in check.message


def test_min_side() -> None:
    assert min_side(None) == MIN_SIDE_PX == 64
    assert min_side(224) == 64 and min_side(512) == 128 and min_side(1024) == 256


# ----------------------------------------------------------------------------- codes, i18n


def _all_produced(meta: Any) -> list[CheckResult]:
    """Every check the module can produce, from header, pixel, tensor and window scenarios."""
    from types import SimpleNamespace

    import numpy as np

    from viewer.dicom import PixelSpacing

    out: list[CheckResult] = []
    acc_m2 = accepted(photometric=["MONOCHROME2"])
    variants: list[tuple[dict[str, Any], Any]] = [
        *[(changes, acc_m2) for changes, _, _ in WARN.values()],
        *[(changes, accepted()) for changes, _, _ in REFUSE.values()],
        ({}, accepted()),
        ({"photometric": ""}, accepted()),
        ({"rows": 1, "columns": 1}, accepted()),
        ({"pixel_spacing": PixelSpacing(0.5, 0.5, "ImagerPixelSpacing")}, accepted()),
        ({"modality": ""}, accepted(modalities=[])),
        ({"bits_stored": 0}, accepted()),
        *[(changes, _policy_manifest_inputs(policy, bits_stored_min=10,
                                            photometric=["MONOCHROME2"],
                                            pixel_spacing_mm_min=0.1))
          for policy, changes, _, _ in POLICY.values()],
        ({"pixel_spacing": PixelSpacing(0.5, 0.5, "ImagerPixelSpacing")},
         _policy_manifest_inputs({"pixel_spacing": {"missing": "warn", "other": "refuse"}},
                                 pixel_spacing_mm_max=0.25)),
        ({"modality": "RF"},
         _policy_manifest_inputs({"modality": {"missing": "accept", "other": "accept"}})),
        ({"patient_species": "Canine"}, accepted()),
        ({"body_part": "CHEST"}, accepted(modalities=[], views=[], body_parts=[],
                                          pixel_spacing_mm_min=None,
                                          pixel_spacing_mm_max=None)),
    ]  # fmt: skip
    for changes, acc in variants:
        out += check_input(dataclasses.replace(meta, **changes), acc, input_size=224)
    rng = np.random.default_rng(0)
    noise = rng.random((128, 128)).astype(np.float32)
    for pixels in (noise, np.zeros((128, 128), np.float32), np.where(noise < 0.999, 0, noise),
                   np.where(noise < 0.01, np.nan, noise)):  # fmt: skip
        out.append(check_pixels(pixels))
    flat = check_window_spread((0.0, 4095.0), (100.0, 1e308))
    assert flat is not None and check_window_spread((0.0, 4095.0), (2048.0, 4096.0)) is None
    out.append(flat)
    for tensor in (noise[None], np.full((1, 8, 8), 0.5), np.where(noise < 0.5, 0.0, 1.0)[None],
                   np.where(noise < 0.995, 0.5, rng.random((128, 128)))[None],
                   np.where(noise < 0.01, np.inf, noise)[None]):  # fmt: skip
        out.append(check_tensor(tensor.astype(np.float32)))
    window = SimpleNamespace(pixels="stored_window", if_missing="minmax")
    no_fallback = SimpleNamespace(pixels="stored_window", if_missing=None)
    declared = SimpleNamespace(header={"WindowCenter": "100", "WindowWidth": "0"})
    two = SimpleNamespace(header={"WindowCenter": ["100", "40"], "WindowWidth": ["0", "400"]})
    none = SimpleNamespace(header={})
    for image, source, used in (
        (declared, window, None),
        (declared, no_fallback, None),
        (two, window, (40.0, 400.0)),
        (none, window, None),
        (none, no_fallback, None),
        (SimpleNamespace(header={"WindowCenter": "40", "WindowWidth": "400"}), window,
         (40.0, 400.0)),
    ):  # fmt: skip
        result = check_stored_window(image, source, used)
        assert result is not None
        out.append(result)
    out.append(make_check("model_input", "refusal", "input_non_finite"))
    assert check_input_range((0.0, 255.0), (0.0, 255.0), bits=8) is None
    assert check_input_range((0.0, 1023.0), None, bits=10) is None
    out_of_range = check_input_range((0.0, 1023.0), (0.0, 255.0), bits=10)
    assert out_of_range is not None and out_of_range.level == "refusal"
    out.append(out_of_range)
    from viewer.inference.checks import check_stored_range

    stored = check_stored_range(np.array([[0, 5000]], dtype=np.int32), 12)
    assert stored is not None and check_stored_range(np.array([[0, 4095]]), 12) is None
    out.append(stored)
    from viewer.inference.ood import OodReference, ood_check

    ref = OodReference("fc", np.zeros(2), np.eye(2), threshold=3.0, quantile=0.99)
    near, d_near = ood_check(ref, [1.0, 1.0])
    far, d_far = ood_check(ref, [3.0, 4.0])
    assert (near.level, far.level) == ("ok", "refusal") and (d_near, d_far) == (2.0**0.5, 5.0)
    out += [near, far]
    return out


def test_every_code_has_a_template_that_makes_the_message(meta: Any) -> None:
    produced = _all_produced(meta)
    for check in produced:
        assert check.code in CHECK_MESSAGES, check
        assert all(isinstance(v, str) for v in check.params.values())
        assert CHECK_MESSAGES[check.code].format(**check.params) == check.message
    # and the list holds no template that nothing produces
    assert {c.code for c in produced} == set(CHECK_MESSAGES)


def test_translate_by_code(meta: Any) -> None:
    ct = refusals(check_input(dataclasses.replace(meta, modality="CT"), accepted()))[0]
    ja = {"modality_refused": "{value} 画像です。このモデルは {allowed} 専用です。"}
    assert translate(ct, ja) == "CT 画像です。このモデルは CR, DX 専用です。"
    assert translate(ct, {}) == ct.message
    assert translate(ct, {"modality_refused": "{unknown}"}) == ct.message


def test_check_results_stay_backward_compatible() -> None:
    old = CheckResult("view", "warning", "free text")
    assert old.code == "" and old.params == {}
    assert translate(old, {"": "x"}) == "free text"
