"""The declared preprocessing: parsing, each operation's numbers, geometry, determinism."""

from __future__ import annotations

import copy
import hashlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from pydantic import TypeAdapter

from tests.inference.helpers import STEPS_RAW, ramp, steps
from viewer.errors import BundleError, InferenceError
from viewer.inference.preprocess import (
    Geometry,
    ModelInput,
    PreprocessStep,
    preprocess,
    preprocess_with_geometry,
    validate_steps,
)

SRC = {"op": "source", "pixels": "modality"}

BAD_STEPS = {
    "unknown-op": [SRC, {"op": "blur", "sigma": 1.0}],
    "unknown-param": [SRC, {"op": "resize", "size": 64, "interpolation": "bilinear",
                            "antialias": True, "align_corners": True}],
    "antialias-undeclared": [SRC, {"op": "resize", "size": 64, "interpolation": "bilinear"}],
    "antialias-area": [SRC, {"op": "resize", "size": 64, "interpolation": "area",
                             "antialias": True}],
    "bad-interpolation": [SRC, {"op": "resize", "size": 64, "interpolation": "lanczos",
                                "antialias": False}],
    "size-too-big": [SRC, {"op": "resize", "size": 100000, "interpolation": "nearest",
                           "antialias": False}],
    "size-as-string": [SRC, {"op": "resize", "size": "224", "interpolation": "nearest",
                             "antialias": False}],
    "fixed-window-no-width": [{"op": "source", "pixels": "fixed_window", "center": 40.0}],
    "window-params-on-modality": [{"op": "source", "pixels": "modality", "center": 1.0,
                                   "width": 2.0}],
    "no-source": [{"op": "channels", "count": 3}],
    "two-sources": [SRC, SRC],
    "percentile-missing-upper": [SRC, {"op": "normalize", "method": "percentile",
                                       "lower": 1.0}],
    "percentile-reversed": [SRC, {"op": "normalize", "method": "percentile", "lower": 99.0,
                                  "upper": 1.0}],
    "minmax-with-mean": [SRC, {"op": "normalize", "method": "minmax", "mean": 0.5}],
    "std-zero": [SRC, {"op": "normalize", "method": "mean_std", "mean": 0.5, "std": 0.0}],
    "mean-std-lengths": [SRC, {"op": "normalize", "method": "mean_std", "mean": [0.1, 0.2],
                               "std": [1.0]}],
    "fixed-range-empty": [SRC, {"op": "normalize", "method": "fixed_range", "in_min": 1.0,
                                "in_max": 1.0, "out_min": 0.0, "out_max": 1.0}],
    "channels-zero": [SRC, {"op": "channels", "count": 0}],
    "dtype-float16": [SRC, {"op": "dtype", "dtype": "float16"}],
    "no-op-key": [SRC, {"size": 3}],
    "not-a-list": {"op": "source"},
}  # fmt: skip


@pytest.mark.parametrize("raw", list(BAD_STEPS.values()), ids=list(BAD_STEPS))
def test_unknown_or_bad_step_refuses_the_bundle(raw: Any) -> None:
    with pytest.raises(BundleError) as info:
        validate_steps(raw)
    assert info.value.code == "preprocessing"
    assert "preprocessing" in str(info.value)


def test_unknown_op_message_names_step_and_known_ops() -> None:
    with pytest.raises(BundleError) as info:
        validate_steps(BAD_STEPS["unknown-op"])
    text = str(info.value)
    assert "step 2" in text and "'blur'" in text and "resize" in text


def test_steps_round_trip_through_json() -> None:
    parsed = steps()
    adapter: TypeAdapter[list[PreprocessStep]] = TypeAdapter(list[PreprocessStep])
    dumped = adapter.dump_python(parsed, mode="json")
    assert validate_steps(dumped) == parsed
    assert validate_steps(adapter.dump_python(parsed, mode="json", exclude_none=True)) == parsed


def _inp(pixels: np.ndarray | None = None, photometric: str = "MONOCHROME2",
         window: tuple[float, float] | None = (1500.0, 2001.0)) -> ModelInput:  # fmt: skip
    return ModelInput(ramp() if pixels is None else pixels, photometric, window)


def test_linear_window_follows_ps3_3_c_11_2_1_2_1() -> None:
    c, w = 100.0, 51.0  # lower edge c - 0.5 - (w-1)/2 = 74.5, upper c - 0.5 + (w-1)/2 = 124.5
    pixels = np.array([[74.5, 75.5, 99.5, 124.5, 200.0, -5.0]], dtype=np.float32)
    out = preprocess(ModelInput(pixels, "MONOCHROME2"), validate_steps(
        [{"op": "source", "pixels": "fixed_window", "center": c, "width": w}]))  # fmt: skip
    expected = np.array([0.0, 0.02, 0.5, 1.0, 1.0, 0.0], dtype=np.float32)
    np.testing.assert_allclose(out[0, 0], expected, atol=1e-6)
    assert out.dtype == np.float32 and out.shape == (1, 1, 6)


def test_stored_window_is_used_and_missing_window_refused_or_minmax() -> None:
    raw = [{"op": "source", "pixels": "stored_window"}]
    a = preprocess(_inp(window=(1500.0, 2001.0)), validate_steps(raw))
    b = preprocess(_inp(window=(1000.0, 501.0)), validate_steps(raw))
    assert not np.array_equal(a, b)
    with pytest.raises(InferenceError, match=r"stored window"):
        preprocess(_inp(window=None), validate_steps(raw))
    fallback = validate_steps([{"op": "source", "pixels": "stored_window", "if_missing": "minmax"}])
    out = preprocess(_inp(window=None), fallback)
    assert out.min() == 0.0 and out.max() == 1.0


def test_monochrome1_inversion_after_window_is_one_minus_x() -> None:
    raw = [{"op": "source", "pixels": "stored_window"}, {"op": "invert_monochrome1"}]
    m2 = preprocess(_inp(photometric="MONOCHROME2"), validate_steps(raw))
    m1 = preprocess(_inp(photometric="MONOCHROME1"), validate_steps(raw))
    np.testing.assert_array_equal(m1, np.float32(1.0) - m2)


def test_monochrome1_inversion_on_modality_values_keeps_the_range() -> None:
    raw = [SRC, {"op": "invert_monochrome1"}]
    pixels = ramp()
    m1 = preprocess(ModelInput(pixels, "MONOCHROME1"), validate_steps(raw))[0]
    assert m1.min() == pytest.approx(pixels.min(), abs=1e-3)
    assert m1.max() == pytest.approx(pixels.max(), abs=1e-3)
    assert m1[0, 0] > m1[-1, -1]  # the ramp is reversed


@pytest.mark.parametrize(
    ("mode", "shape", "box"),
    [("crop", (40, 40), (0.0, 10.0, 40.0, 40.0)), ("pad", (60, 60), (-10.0, 0.0, 60.0, 60.0))],
    ids=["crop", "pad"],
)
def test_square_crop_and_pad_and_their_geometry(
    mode: str, shape: tuple[int, int], box: tuple[float, ...]
) -> None:
    pixels = np.arange(40 * 60, dtype=np.float32).reshape(40, 60).T.copy()  # 60 rows x 40 cols
    pixels = pixels.T.copy()  # 40 rows x 60 cols
    raw = [SRC, {"op": "square", "mode": mode, "pad_value": -7.0}]
    out, geometry = preprocess_with_geometry(ModelInput(pixels, "MONOCHROME2"), validate_steps(raw))
    assert out.shape[1:] == shape
    assert geometry.box == box and geometry.image_shape == (40, 60)
    if mode == "crop":
        np.testing.assert_array_equal(out[0], pixels[:, 10:50])
    else:
        assert (out[0, :10] == -7.0).all() and (out[0, 50:] == -7.0).all()
        np.testing.assert_array_equal(out[0, 10:50], pixels)


def test_pad_value_min_uses_the_image_minimum() -> None:
    pixels = ramp(40, 60)
    out = preprocess(ModelInput(pixels, "MONOCHROME2"),
                     validate_steps([SRC, {"op": "square", "mode": "pad"}]))  # fmt: skip
    assert out[0, 0, 0] == pixels.min()


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic", "area", "nearest",
                                           "nearest-exact"])  # fmt: skip
def test_resize_output_and_constant_image(interpolation: str) -> None:
    antialias = interpolation in ("bilinear", "bicubic")
    raw = [SRC, {"op": "resize", "size": 32, "interpolation": interpolation,
                 "antialias": antialias}]  # fmt: skip
    out = preprocess(ModelInput(np.full((90, 70), 5.0, np.float32), "MONOCHROME2"),
                     validate_steps(raw))  # fmt: skip
    assert out.shape == (1, 32, 32) and out.dtype == np.float32
    np.testing.assert_allclose(out, 5.0, rtol=1e-6)


def test_resize_equals_torch_interpolate_with_declared_antialias() -> None:
    import torch
    import torch.nn.functional as F  # noqa: N812

    pixels = ramp(200, 200)
    for antialias in (True, False):
        raw = [SRC, {"op": "resize", "size": 50, "interpolation": "bilinear",
                     "antialias": antialias}]  # fmt: skip
        out = preprocess(ModelInput(pixels, "MONOCHROME2"), validate_steps(raw))
        ref = F.interpolate(torch.from_numpy(pixels)[None, None], size=(50, 50),
                            mode="bilinear", align_corners=False, antialias=antialias)  # fmt: skip
        np.testing.assert_array_equal(out[0], ref[0, 0].numpy())


def test_normalize_methods() -> None:
    pixels = ramp()
    inp = ModelInput(pixels, "MONOCHROME2")

    def run(**params: Any) -> np.ndarray:
        return preprocess(inp, validate_steps([SRC, {"op": "normalize", **params}]))[0]

    mm = run(method="minmax")
    assert mm.min() == 0.0 and mm.max() == pytest.approx(1.0)
    pc = run(method="percentile", lower=5.0, upper=95.0, out_min=-1.0, out_max=1.0)
    lo = np.percentile(pixels, 5.0)
    assert pc.min() == -1.0 and pc.max() == pytest.approx(1.0)
    assert (pc == -1.0).sum() == (pixels <= np.float32(lo)).sum()
    xrv = run(method="fixed_range", in_min=0.0, in_max=4095.0, out_min=-1024.0, out_max=1024.0)
    expected = (2 * (pixels / np.float32(4095.0)) - 1.0) * 1024.0  # torchxrayvision's formula
    np.testing.assert_allclose(xrv, expected, rtol=1e-5, atol=1e-2)
    clipped = run(method="fixed_range", in_min=0.0, in_max=1000.0, out_min=0.0, out_max=1.0,
                  clip=True)  # fmt: skip
    assert clipped.max() == 1.0 and clipped.min() >= 0.0
    ms = run(method="mean_std", mean=100.0, std=4.0)
    np.testing.assert_allclose(ms, (pixels - 100.0) / 4.0, rtol=1e-6)


def test_minmax_of_a_constant_image_is_out_min_not_nan() -> None:
    out = preprocess(ModelInput(np.full((20, 20), 3.0, np.float32), "MONOCHROME2"),
                     validate_steps([SRC, {"op": "normalize", "method": "minmax"}]))  # fmt: skip
    assert np.isfinite(out).all() and (out == 0.0).all()


def test_channels_then_per_channel_mean_std() -> None:
    raw = [SRC, {"op": "normalize", "method": "minmax"}, {"op": "channels", "count": 3},
           {"op": "normalize", "method": "mean_std", "mean": [0.485, 0.456, 0.406],
            "std": [0.229, 0.224, 0.225]}]  # fmt: skip
    out = preprocess(ModelInput(ramp(), "MONOCHROME2"), validate_steps(raw))
    assert out.shape[0] == 3
    base = (out[0] * np.float32(0.229)) + np.float32(0.485)
    np.testing.assert_allclose((out[2] * np.float32(0.225)) + np.float32(0.406), base, atol=1e-5)


def test_per_channel_mean_std_before_channels_is_a_clear_error() -> None:
    raw = [SRC, {"op": "normalize", "method": "mean_std", "mean": [0.1, 0.2, 0.3],
                 "std": [1.0, 1.0, 1.0]}]  # fmt: skip
    with pytest.raises(InferenceError, match="channels"):
        preprocess(ModelInput(ramp(), "MONOCHROME2"), validate_steps(raw))


# One-parameter changes: each must change the tensor (the self-test then catches it at load).
def _mutate(index: int, **changes: Any) -> list[dict[str, Any]]:
    raw = copy.deepcopy(STEPS_RAW)
    raw[index].update(changes)
    return raw


MUTATIONS = {
    "resize-size": _mutate(3, size=60),
    "resize-interpolation": _mutate(3, interpolation="bicubic"),
    "resize-antialias": _mutate(3, antialias=False),
    "normalize-range": _mutate(4, out_min=-1000.0),
    "normalize-in-range": _mutate(4, in_max=0.9),
    "square-mode": _mutate(2, mode="pad"),
    "source-window": _mutate(0, pixels="fixed_window", center=1500.0, width=2000.0),
    "no-inversion": [s for s in copy.deepcopy(STEPS_RAW) if s["op"] != "invert_monochrome1"],
}


@pytest.mark.parametrize("raw", list(MUTATIONS.values()), ids=list(MUTATIONS))
def test_changing_one_parameter_changes_the_tensor(raw: list[dict[str, Any]]) -> None:
    inp = _inp(photometric="MONOCHROME1")
    reference = preprocess(inp, steps())
    changed = preprocess(inp, validate_steps(raw))
    assert changed.shape != reference.shape or not np.array_equal(changed, reference)


def test_model_input_tensors_round_trip() -> None:
    inp = _inp(photometric="MONOCHROME1", window=(1234.5, 678.0))
    tensors = inp.to_tensors()
    assert set(tensors) == {"input.pixels", "input.window"}
    back = ModelInput.from_tensors(tensors, photometric="MONOCHROME1")
    np.testing.assert_array_equal(back.pixels, inp.pixels)
    assert back.window == inp.window and back.photometric == "MONOCHROME1"
    no_window = ModelInput(ramp(), "MONOCHROME2")
    assert set(no_window.to_tensors()) == {"input.pixels"}
    assert ModelInput.from_tensors(no_window.to_tensors()).window is None


@pytest.mark.parametrize(
    ("pixels", "photometric"),
    [(np.zeros((4, 4, 3), np.float32), "MONOCHROME2"),
     (np.zeros((0, 4), np.float32), "MONOCHROME2"),
     (np.zeros((4, 4), np.float32), "RGB")],
    ids=["3d", "empty", "rgb"],
)  # fmt: skip
def test_model_input_refuses_what_cannot_be_scored(pixels: np.ndarray, photometric: str) -> None:
    with pytest.raises(InferenceError):
        ModelInput(pixels, photometric)


def test_from_image_takes_the_first_center_width_window_not_a_voi_lut() -> None:
    lut = SimpleNamespace(center=10.0, width=20.0, lut_index=0)
    win = SimpleNamespace(center=1500.0, width=2000.0, lut_index=None)
    image = SimpleNamespace(meta=SimpleNamespace(photometric="MONOCHROME1"), modality=ramp(),
                            windows=(lut, win))  # fmt: skip
    inp = ModelInput.from_image(image)
    assert inp.window == (1500.0, 2000.0) and inp.photometric == "MONOCHROME1"
    image.windows = ()
    assert ModelInput.from_image(image).window is None


def test_from_image_on_a_generated_dicom(cxr_path: Path) -> None:
    from viewer.dicom import read_image

    image = read_image(cxr_path)
    inp = ModelInput.from_image(image)
    assert inp.pixels.shape == (256, 256) and inp.window == (
        image.windows[0].center,
        image.windows[0].width,
    )
    out = preprocess(inp, steps())
    assert out.shape == (1, 64, 64) and np.isfinite(out).all()


def test_geometry_maps_a_map_back_onto_the_image() -> None:
    crop = Geometry(image_shape=(40, 60), box=(0.0, 10.0, 40.0, 40.0), out_shape=(8, 8))
    heat = crop.to_image(np.ones((8, 8), np.float32))
    assert heat.shape == (40, 60)
    np.testing.assert_allclose(heat[:, 10:50], 1.0, atol=1e-6)
    assert (heat[:, :10] == 0).all() and (heat[:, 50:] == 0).all()
    pad = Geometry(image_shape=(40, 60), box=(-10.0, 0.0, 60.0, 60.0), out_shape=(6, 6))
    marked = np.zeros((6, 6), np.float32)
    marked[:1] = 1.0  # the padded strip above the image
    assert pad.to_image(marked)[5:].max() < 0.5


def test_geometry_after_resize_then_square_stays_in_image_pixels() -> None:
    raw = [SRC, {"op": "resize", "size": 30, "interpolation": "area", "antialias": False}]
    _, geometry = preprocess_with_geometry(ModelInput(ramp(40, 60), "MONOCHROME2"),
                                           validate_steps(raw))  # fmt: skip
    assert geometry.box == (0.0, 0.0, 40.0, 60.0) and geometry.out_shape == (30, 30)


_CHILD = """
import hashlib, sys
import numpy as np
sys.path.insert(0, {root!r})
from tests.inference.helpers import ramp, steps
from viewer.inference.preprocess import ModelInput, preprocess
out = preprocess(ModelInput(ramp(300, 260), "MONOCHROME1", (1500.0, 2001.0)), steps())
print(hashlib.sha256(out.tobytes()).hexdigest())
"""


def test_preprocessing_is_bit_identical_in_another_process() -> None:
    root = str(Path(__file__).resolve().parents[2])
    here = preprocess(ModelInput(ramp(300, 260), "MONOCHROME1", (1500.0, 2001.0)), steps())
    result = subprocess.run([sys.executable, "-c", _CHILD.format(root=root)], capture_output=True,
                            text=True, check=True, timeout=120)  # fmt: skip
    assert result.stdout.strip() == hashlib.sha256(here.tobytes()).hexdigest()


def test_inversion_after_a_bounded_normalisation_uses_its_range() -> None:
    norm = {"op": "normalize", "method": "minmax", "out_min": -1.0, "out_max": 1.0}
    raw = [SRC, norm, {"op": "invert_monochrome1"}]
    m2 = preprocess(ModelInput(ramp(), "MONOCHROME2"), validate_steps([SRC, norm]))
    m1 = preprocess(ModelInput(ramp(), "MONOCHROME1"), validate_steps(raw))
    np.testing.assert_array_equal(m1, np.float32(0.0) - m2)  # lo + hi = 0


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_pixels_are_refused(bad: float) -> None:
    pixels = ramp()
    pixels[40, 40] = bad
    for raw in ([SRC], [SRC, {"op": "normalize", "method": "minmax"}], STEPS_RAW):
        with pytest.raises(InferenceError, match="non-finite"):
            preprocess(ModelInput(pixels, "MONOCHROME2", None), validate_steps(
                [{"op": "source", "pixels": "modality"}, *raw[1:]]))  # fmt: skip


# ----------------------------------------------------------------------------- window arithmetic


def numpy_window(x: np.ndarray, center: float, width: float) -> np.ndarray:
    """The reference: PS3.3 C.11.2.1.2.1 LINEAR onto [0, 1], one float32 numpy step at a time
    (the arithmetic every bundle's self-test so far was computed with)."""
    out = np.empty(x.shape, dtype=np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        np.subtract(x, np.float32(center - 0.5), out=out, dtype=np.float32)
        np.divide(out, np.float32(width - 1.0), out=out)
        np.add(out, np.float32(0.5), out=out)
        np.clip(out, np.float32(0.0), np.float32(1.0), out=out)
    return out


SPECIAL = np.concatenate([
    np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-45, -1e-45, 3.4e38, -3.4e38, 0.5, 1499.5,
              1500.0, 1500.5, 2499.0, 2500.0, 500.0, 499.5, 1e30, -1e30], dtype=np.float32),
    # NaNs with other payloads and signs (quiet and signalling bit patterns)
    np.array([0x7F800001, 0xFFC00001, 0x7FC00123, 0xFFFFFFFF], dtype=np.uint32).view(np.float32),
])  # fmt: skip

WINDOWS = {
    "ct-like": (40.0, 400.0),
    "12-bit": (1500.0, 2000.0),
    "odd-width": (1234.567, 1001.25),
    "narrow": (0.0, 1.5),
    "wide-negative": (-30000.0, 65535.0),
}


@pytest.mark.parametrize(("center", "width"), list(WINDOWS.values()), ids=list(WINDOWS))
def test_window_is_bit_identical_to_the_numpy_float32_arithmetic(
    center: float, width: float
) -> None:
    """torch runs the window; each of its steps must be the same IEEE operation as numpy's."""
    from viewer.inference.preprocess import _linear_window

    rng = np.random.default_rng(5)
    x = np.concatenate([
        SPECIAL,
        rng.uniform(center - width, center + width, 200_000).astype(np.float32),
        rng.normal(0.0, 1e4, 50_000).astype(np.float32),
        np.arange(-4096, 4096, dtype=np.float32) + np.float32(0.5),
    ])  # fmt: skip
    x = np.resize(x, (len(x) // 512, 512))
    got = _linear_window(x, center, width)
    assert got.dtype == np.float32 and got.shape == x.shape
    # bit patterns, so NaN payloads and signed zeros count too
    np.testing.assert_array_equal(
        got.view(np.uint32), numpy_window(x, center, width).view(np.uint32)
    )


@pytest.mark.parametrize("window", [(np.nan, 400.0), (40.0, np.inf), (-np.inf, 400.0)],
                         ids=["nan-center", "inf-width", "minus-inf-center"])  # fmt: skip
def test_a_non_finite_window_is_refused_before_any_arithmetic(
    window: tuple[float, float],
) -> None:
    """A self-test file can hold any numbers; NaN arithmetic differs in its payload bits
    between numpy and torch, so it must never reach the window."""
    with pytest.raises(InferenceError, match="finite"):
        ModelInput(pixels=ramp(8, 8), photometric="MONOCHROME2", window=window)
    tensors = {"input.pixels": ramp(8, 8), "input.window": np.array(window)}
    with pytest.raises(InferenceError, match="finite"):
        ModelInput.from_tensors(tensors, photometric="MONOCHROME2")


WINDOW_INPUTS = {
    "float32-contiguous": lambda x: x,  # the one torch shares memory with
    "float64-strided-view": lambda x: x.astype(np.float64)[:, ::2],
    "big-endian": lambda x: x.astype(">f4"),
    "read-only": lambda x: np.lib.stride_tricks.as_strided(x, writeable=False),
    "uint16": lambda x: x.astype(np.uint16),
}


@pytest.mark.parametrize("make", list(WINDOW_INPUTS.values()), ids=list(WINDOW_INPUTS))
def test_window_of_any_array_is_the_float32_result_and_leaves_it_alone(
    make: Callable[[np.ndarray], np.ndarray],
) -> None:
    from viewer.inference.preprocess import _linear_window

    x = make(ramp(64, 80))
    before = x.copy()
    expected = numpy_window(x.astype(np.float32), 1500.0, 2000.0)
    got = _linear_window(x, 1500.0, 2000.0)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(got, expected)


def test_resize_is_one_torch_interpolate_call_on_several_channels() -> None:
    import torch
    import torch.nn.functional as F  # noqa: N812

    from viewer.inference import preprocess as pre

    x = np.stack([ramp(301, 257, seed=c) for c in range(3)])
    with torch.no_grad():
        reference = F.interpolate(torch.from_numpy(x)[None], size=(224, 224), mode="bicubic",
                                  align_corners=False, antialias=True)[0].numpy()  # fmt: skip
    step = pre.ResizeStep(op="resize", size=224, interpolation="bicubic", antialias=True)
    got = pre._resize(x, step)
    assert got.dtype == np.float32 and got.shape == (3, 224, 224)
    np.testing.assert_array_equal(got, reference)


def test_scoring_a_large_image_starts_no_thread_of_its_own() -> None:
    """A live thread that has run a parallel torch operation holds an OpenMP team of its own;
    with more OpenMP threads than cores libgomp stops spinning at its barriers and the next
    DenseNet-121 forward took twice as long (measured: 52 ms -> 115 ms at 224 px)."""
    import threading

    from tests.inference.conftest import PRE_DENSENET
    from viewer.inference.checks import check_pixels, check_tensor

    inp = ModelInput(pixels=ramp(1100, 1000), photometric="MONOCHROME1", window=(1500.0, 2500.0))
    before = set(threading.enumerate())
    tensor = preprocess(inp, steps(PRE_DENSENET))
    check_pixels(inp.pixels)
    check_tensor(tensor)
    assert set(threading.enumerate()) <= before
