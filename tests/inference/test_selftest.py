"""The self-test: computed at bundle creation, rerun at load, fails on any drift."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from tests.inference.helpers import STEPS_RAW, manifest, ramp, tiny_model
from tests.inference.test_preprocess import MUTATIONS
from viewer.inference.preprocess import ModelInput
from viewer.inference.selftest import check_selftest, compute_selftest


def _inp() -> ModelInput:
    return ModelInput(ramp(120, 100), "MONOCHROME1", (1500.0, 2001.0))


def test_compute_then_check_passes_with_zero_difference() -> None:
    model, man = tiny_model(), manifest(photometric="MONOCHROME1")
    tensors = compute_selftest(model, man, _inp())
    assert set(tensors) == {"input.pixels", "input.window", "expected.tensor", "expected.logits"}
    assert tensors["expected.tensor"].shape == (1, 64, 64)
    assert (
        tensors["expected.logits"].shape == (2,) and tensors["expected.logits"].dtype == np.float32
    )
    result = check_selftest(model, man, tensors)
    assert result.passed, result.message
    assert result.max_abs_diff_tensor == 0.0 and result.max_abs_diff_output == 0.0


@pytest.mark.parametrize("raw", list(MUTATIONS.values()), ids=list(MUTATIONS))
def test_changed_preprocessing_is_caught(raw: list[dict[str, Any]]) -> None:
    model = tiny_model()
    tensors = compute_selftest(model, manifest(photometric="MONOCHROME1"), _inp())
    result = check_selftest(model, manifest(raw, photometric="MONOCHROME1"), tensors)
    assert not result.passed
    assert "self-test" in result.message


def test_wrong_photometric_in_the_manifest_is_caught() -> None:
    model = tiny_model()
    tensors = compute_selftest(model, manifest(photometric="MONOCHROME1"), _inp())
    assert not check_selftest(model, manifest(photometric="MONOCHROME2"), tensors).passed


def test_changed_weights_are_caught_on_the_output() -> None:
    import torch

    model = tiny_model()
    man = manifest(photometric="MONOCHROME1")
    tensors = compute_selftest(model, man, _inp())
    with torch.no_grad():
        model.classifier.bias.add_(1e-3)
    result = check_selftest(model, man, tensors)
    assert not result.passed and result.max_abs_diff_tensor == 0.0
    assert result.max_abs_diff_output == pytest.approx(1e-3, rel=1e-2)
    assert "outputs differ" in result.message


def test_tolerance_comes_from_the_manifest() -> None:
    import torch

    model = tiny_model()
    tensors = compute_selftest(model, manifest(photometric="MONOCHROME1"), _inp())
    with torch.no_grad():
        model.classifier.bias.add_(1e-3)
    assert check_selftest(
        model, manifest(photometric="MONOCHROME1", tolerance=1e-2), tensors
    ).passed


def test_tampered_stored_tensor_and_missing_keys_fail() -> None:
    model, man = tiny_model(), manifest(photometric="MONOCHROME1")
    tensors = compute_selftest(model, man, _inp())
    bad = copy.deepcopy(tensors)
    bad["expected.tensor"][0, 10, 10] += 1.0
    assert not check_selftest(model, man, bad).passed
    for key in ("input.pixels", "expected.tensor", "expected.logits"):
        partial = {k: v for k, v in tensors.items() if k != key}
        result = check_selftest(model, man, partial)
        assert not result.passed and key in result.message
    wrong_shape = dict(tensors, **{"expected.tensor": tensors["expected.tensor"][:, :32]})
    assert "shape" in check_selftest(model, man, wrong_shape).message


def test_a_preprocessing_error_is_a_failed_self_test_not_a_crash() -> None:
    model, man = tiny_model(), manifest(photometric="MONOCHROME1")
    tensors = compute_selftest(model, man, _inp())
    del tensors["input.window"]  # stored_window with no window -> refused input
    result = check_selftest(model, man, tensors)
    assert not result.passed and "cannot be preprocessed" in result.message


def test_steps_fixture_is_unchanged() -> None:
    assert STEPS_RAW[3]["size"] == 64  # the mutations above are relative to this


def test_compute_selftest_can_fix_the_thread_count() -> None:
    import torch

    torch.set_num_threads(2)
    compute_selftest(tiny_model(), manifest(photometric="MONOCHROME1"), _inp(), threads=1)
    assert torch.get_num_threads() == 1
    torch.set_num_threads(2)


def test_a_self_test_with_a_non_finite_window_fails_closed() -> None:
    """A signed bundle may still carry any numbers: a NaN window fails the self-test, so the
    bundle is refused, with a reason that names it."""
    model, man = tiny_model(), manifest(photometric="MONOCHROME1")
    tensors = compute_selftest(model, man, _inp())
    tensors["input.window"] = np.array([np.nan, 2001.0])
    result = check_selftest(model, man, tensors)
    assert not result.passed
    assert "cannot be preprocessed" in result.message and "finite" in result.message


# ------------------------------------------------------- inputs that reach every step (#12.6)

SQUARE_M2 = ModelInput(ramp(128, 128), "MONOCHROME2", (1500.0, 2001.0))


def test_selftest_inputs_reach_every_step() -> None:
    from viewer.inference.selftest import selftest_inputs

    man = manifest(photometric="MONOCHROME2")  # accepts 10 to 16 bits
    man.preprocessing = manifest(
        [{**s, "if_missing": "minmax"} if s["op"] == "source" else s for s in STEPS_RAW]
    ).preprocessing
    cases = selftest_inputs(SQUARE_M2, man)
    assert all(c.pixels.shape[0] != c.pixels.shape[1] for c in cases)  # crop and pad differ
    assert all(64 not in c.pixels.shape for c in cases)  # every resize interpolates
    kinds = {(c.photometric, c.window is not None) for c in cases}
    assert kinds == {("MONOCHROME1", True), ("MONOCHROME1", False), ("MONOCHROME2", True),
                     ("MONOCHROME2", False)}  # fmt: skip
    tops = sorted({float(c.pixels.max()) for c in cases})
    assert tops == [float(2**b - 1) for b in range(10, 17)]  # each accepted bit depth
    for c in cases:
        assert float(c.pixels.min()) > 0.0  # padding with 0 differs from "min"
        if c.window is not None:  # the windowed image reaches neither 0 nor 1
            center, width = c.window
            assert center - width / 2 < float(c.pixels.min())
            assert float(c.pixels.max()) < center + width / 2


def test_a_source_that_needs_a_window_gets_no_windowless_input() -> None:
    from viewer.inference.selftest import selftest_inputs

    cases = selftest_inputs(SQUARE_M2, manifest())  # stored_window, no fallback
    assert cases and all(c.window is not None for c in cases)


def test_a_fixed_input_range_keeps_the_inputs_inside_it() -> None:
    from tests.inference.test_pixel_checks import STEPS_FIXED_255
    from viewer.inference.selftest import selftest_inputs

    man = manifest(STEPS_FIXED_255)
    man.accepted_inputs.bits_stored_min = 8
    cases = selftest_inputs(SQUARE_M2, man)
    assert cases and all(float(c.pixels.min()) >= 0.0 and float(c.pixels.max()) <= 255.0
                         for c in cases)  # fmt: skip


def test_every_stored_input_is_checked_and_a_failing_one_is_named() -> None:
    from viewer.inference.selftest import selftest_inputs

    model, man = tiny_model(), manifest(photometric="MONOCHROME2")
    cases = selftest_inputs(SQUARE_M2, man)
    tensors = compute_selftest(model, man, SQUARE_M2, cases=cases)
    result = check_selftest(model, man, tensors)
    assert result.passed and result.cases == len(cases) + 1, result.message
    tampered = dict(tensors)
    tampered["case3.expected.tensor"] = tensors["case3.expected.tensor"] + np.float32(0.5)
    result = check_selftest(model, man, tampered)
    assert not result.passed and "on input 3" in result.message
    # a one-input self-test (every bundle made before #12.6, the demo bundle) still passes
    old = {k: v for k, v in tensors.items() if not k.startswith("case")}
    assert check_selftest(model, man, old).passed


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.pop("case2.input.photometric"),
        lambda t: t.update({"case40.input.pixels": t["case1.input.pixels"]}),
        lambda t: t.update({"note": np.zeros(1, np.float32)}),
        lambda t: t.update({"case1.input.pixels": np.zeros((1, 9000), np.float32)}),
    ],
    ids=["no-photometric", "gap-in-numbering", "unknown-key", "too-large"],
)
def test_a_malformed_case_fails_closed(change: Any) -> None:
    from viewer.inference.selftest import selftest_inputs

    model, man = tiny_model(), manifest(photometric="MONOCHROME2")
    tensors = dict(compute_selftest(model, man, SQUARE_M2, cases=selftest_inputs(SQUARE_M2, man)))
    change(tensors)
    assert not check_selftest(model, man, tensors).passed
