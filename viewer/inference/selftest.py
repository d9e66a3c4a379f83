"""The bundle's self-test: stored inputs, their preprocessed tensors and the expected logits.

``bedside bundle create`` runs :func:`compute_selftest` and stores the result; every load reruns
the same preprocessing and network (:func:`check_selftest`) and refuses the bundle if either a
tensor or an output moved beyond the manifest's tolerances (``selftest.tensor_tolerance``,
``selftest.tolerance``). This catches a viewer whose preprocessing or numerics drifted from what
the bundle was validated with, and a manifest whose preprocessing was changed after creation.

One square MONOCHROME2 input cannot see a changed pad value, a dropped MONOCHROME1 inversion or a
crop in place of a pad, so besides the creator's sample (case 0, the keys ``input.pixels``,
``input.window``, ``expected.tensor``, ``expected.logits`` that older bundles hold alone)
``bundle create`` stores the cases :func:`selftest_inputs` derives from it, under
``case<N>.<key>`` with the photometric interpretation as ``case<N>.input.photometric`` (1 =
MONOCHROME1, 2 = MONOCHROME2): non-square, MONOCHROME1 and MONOCHROME2, with and without a stored
window (whose output range does not reach 0 or 1, so a pad value of 0 differs from "min"), at
each accepted bit depth with values above 0. Every case is checked at load; a file with other
keys, or cases not numbered 1..N, fails.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from viewer.errors import BedsideError
from viewer.inference.checks import declared_input_range, model_input_size
from viewer.inference.engine import configure_threads, run_model
from viewer.inference.preprocess import (
    ModelInput,
    PreprocessStep,
    SourceStep,
    preprocess,
    uses_stored,
)

if TYPE_CHECKING:
    import torch

__all__ = ["SelfTestResult", "check_selftest", "compute_selftest", "selftest_inputs"]

# Used when a manifest-like object carries no selftest section (e.g. in unit tests).
DEFAULT_TOLERANCE = 1e-4
DEFAULT_TENSOR_TOLERANCE = 1e-5
MAX_CASES = 64
MAX_CASE_SIDE = 8192
_CASE_KEY = re.compile(
    r"^case([1-9][0-9]{0,2})\.(input\.pixels|input\.window|input\.photometric"
    r"|input\.stored|input\.bits_stored|expected\.tensor|expected\.logits)$"
)
_CASE0_KEYS = (
    "input.pixels",
    "input.window",
    "input.stored",
    "input.bits_stored",
    "expected.tensor",
    "expected.logits",
)


class _ManifestLike(Protocol):
    @property
    def preprocessing(self) -> Sequence[PreprocessStep]: ...


@dataclass(frozen=True)
class SelfTestResult:
    passed: bool
    max_abs_diff_tensor: float
    max_abs_diff_output: float
    message: str
    cases: int = 1


def _case_shape(size: int) -> tuple[int, int]:
    """A non-square shape near the model's input size, neither side equal to it (so every
    resize interpolation, and crop against pad, give different tensors), at most 640 x 448."""
    rows = min(size + size // 4 + 3, 640)
    cols = min(size - size // 8 + 1, 448)
    if cols in (size, rows):
        cols -= 3
    return rows, max(cols, 9)


def _pattern(pixels: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The sample resampled (nearest) to ``shape`` and scaled onto [0, 1] (float64)."""
    src = np.asarray(pixels, dtype=np.float64)
    rows = np.linspace(0, src.shape[0] - 1, shape[0]).round().astype(int)
    cols = np.linspace(0, src.shape[1] - 1, shape[1]).round().astype(int)
    x = src[rows][:, cols]
    finite = np.isfinite(x)
    lo = float(x[finite].min()) if finite.any() else 0.0
    hi = float(x[finite].max()) if finite.any() else 0.0
    if not hi > lo:  # a flat sample: a ramp still reaches every step
        ramp = np.add.outer(np.arange(shape[0]), np.arange(shape[1])).astype(np.float64)
        return ramp / float(ramp.max())
    return np.where(finite, (x - lo) / (hi - lo), 0.0)


def _scaled(pattern: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, tuple[float, float]]:
    """Whole values from 5 % above ``lo`` to ``hi`` (so padding with 0 differs from the
    minimum), and a window 1.5 times their range (so the windowed image never reaches 0 or 1)."""
    low = lo + round(0.05 * (hi - lo))
    values = np.round(low + pattern * (hi - low)).astype(np.float32)
    return values, ((low + hi) / 2.0, 1.5 * (hi - low) + 2.0)


def selftest_inputs(sample: ModelInput, manifest: Any) -> list[ModelInput]:
    """The extra self-test inputs for ``manifest`` (cases 1..N; case 0 is the sample itself).

    For the highest accepted bit depth (``accepted_inputs.bits_stored_min/max``, 8 to 16 when
    absent) that fits the bundle's fixed input range (if it declares one): MONOCHROME1 and
    MONOCHROME2, with and without a stored window (without only where the source step scores
    such images); for every other accepted bit depth one input, MONOCHROME1 and MONOCHROME2 in
    turn, with a window. All are non-square (:func:`_case_shape`), made from the sample.
    """
    steps: Sequence[PreprocessStep] = manifest.preprocessing
    accepted = getattr(manifest, "accepted_inputs", None)
    low_bits = int(getattr(accepted, "bits_stored_min", 8))
    high_bits = int(getattr(accepted, "bits_stored_max", 16))
    source = next((s for s in steps if isinstance(s, SourceStep)), None)
    windowless = not (
        source is not None and source.pixels == "stored_window" and source.if_missing != "minmax"
    )
    declared = declared_input_range(steps)
    pattern = _pattern(sample.pixels, _case_shape(model_input_size(steps) or 128))
    ranges: list[tuple[float, float, int | None]] = []
    for depth in range(low_bits, high_bits + 1):
        top = float(2**depth - 1)
        if declared is None or (declared[0] <= 0.0 and top <= declared[1]):
            ranges.append((0.0, top, depth))
    if not ranges and declared is not None:
        ranges.append((declared[0], declared[1], None))
    # a stored source reads the stored values (whole numbers, here the same as the pixels)
    stored = uses_stored(steps)
    cases: list[ModelInput] = []
    for index, (lo, hi, bits) in enumerate(reversed(ranges)):
        values, window = _scaled(pattern, lo, hi)
        extra: dict[str, Any] = {"stored": values, "bits_stored": bits} if stored else {}
        if index == 0:
            for photometric in ("MONOCHROME1", "MONOCHROME2"):
                cases.append(ModelInput(values, photometric, window, **extra))
                if windowless:
                    cases.append(ModelInput(values, photometric, None, **extra))
        else:
            photometric = "MONOCHROME1" if index % 2 else "MONOCHROME2"
            cases.append(ModelInput(values, photometric, window, **extra))
    return cases[: MAX_CASES - 1]


def compute_selftest(
    model: torch.nn.Module,
    manifest: _ManifestLike,
    inp: ModelInput,
    *,
    threads: int | None = None,
    cases: Sequence[ModelInput] = (),
) -> dict[str, np.ndarray]:
    """``{"input.pixels", "input.window"?, "expected.tensor", "expected.logits"}`` for ``inp``,
    and the same under ``case<N>.`` (with ``input.photometric``) for each of ``cases``
    (``bundle create`` passes :func:`selftest_inputs`).

    The sample's photometric interpretation is not a tensor: the caller stores it in the
    manifest (``selftest.photometric``). ``threads`` fixes torch's thread count first: float
    reductions (e.g. DenseNet's) differ in the last bits between thread counts, so exact
    expected values hold for the thread count they were computed with.
    """
    if threads is not None:
        configure_threads(threads)
    if len(cases) >= MAX_CASES:
        raise BedsideError(f"A self-test holds at most {MAX_CASES - 1} extra inputs.")
    out: dict[str, np.ndarray] = {}
    # the stored values only where the preprocessing reads them (older bundles stay identical)
    keys: tuple[str, ...] = ("input.pixels", "input.window", "input.photometric")
    if uses_stored(manifest.preprocessing):
        keys += ("input.stored", "input.bits_stored")
    for index, case in enumerate([inp, *cases]):
        prefix = f"case{index}." if index else ""
        tensor = preprocess(case, manifest.preprocessing)
        logits = run_model(model, tensor)
        for key, value in case.to_tensors(photometric=bool(index)).items():
            if key in keys:
                out[prefix + key] = value
        out[prefix + "expected.tensor"] = tensor
        out[prefix + "expected.logits"] = logits
    return out


def _tolerances(manifest: Any) -> tuple[float, float, str | None]:
    spec = getattr(manifest, "selftest", None)
    tol = float(getattr(spec, "tolerance", DEFAULT_TOLERANCE))
    tensor_tol = float(getattr(spec, "tensor_tolerance", DEFAULT_TENSOR_TOLERANCE))
    photometric = getattr(spec, "photometric", None)
    return tol, tensor_tol, photometric if isinstance(photometric, str) else None


def _max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
    if diff.size == 0:
        return 0.0
    value = float(diff.max())
    return value if np.isfinite(value) else float("inf")


def _split_cases(
    tensors: Mapping[str, np.ndarray],
) -> tuple[list[dict[str, np.ndarray]], str | None]:
    """The stored cases (case 0 under the plain keys), or a reason the file is malformed."""
    cases: dict[int, dict[str, np.ndarray]] = {0: {}}
    for key, value in tensors.items():
        if key in _CASE0_KEYS:
            cases[0][key] = value
            continue
        match = _CASE_KEY.match(key)
        if match is None:
            return [], f"The self-test holds an unknown tensor {key[:80]!r}."
        cases.setdefault(int(match.group(1)), {})[match.group(2)] = value
    if len(cases) > MAX_CASES or sorted(cases) != list(range(len(cases))):
        return [], "The self-test's cases are not numbered 1 to N (at most 63)."
    return [cases[i] for i in range(len(cases))], None


def check_selftest(
    model: torch.nn.Module, manifest: _ManifestLike, tensors: Mapping[str, np.ndarray]
) -> SelfTestResult:
    """Rerun every stored input; never raises for a mismatch, the result says what failed
    (the first failing case, named when it is not the sample)."""
    cases, problem = _split_cases(tensors)
    if problem is not None:
        return SelfTestResult(False, float("inf"), float("inf"), problem)
    worst_tensor = worst_output = 0.0
    for index, case in enumerate(cases):
        result = _check_one(model, manifest, case, index)
        if not result.passed:
            return SelfTestResult(
                False, result.max_abs_diff_tensor, result.max_abs_diff_output,
                result.message, len(cases),
            )  # fmt: skip
        worst_tensor = max(worst_tensor, result.max_abs_diff_tensor)
        worst_output = max(worst_output, result.max_abs_diff_output)
    return SelfTestResult(
        True,
        worst_tensor,
        worst_output,
        f"Self-test passed on {len(cases)} input(s) (tensor max diff {worst_tensor:.3g}, "
        f"output max diff {worst_output:.3g}).",
        len(cases),
    )


def _check_one(
    model: torch.nn.Module, manifest: _ManifestLike, tensors: Mapping[str, np.ndarray], index: int
) -> SelfTestResult:
    """One stored case; ``index`` 0 is the sample (photometric from the manifest)."""
    tol, tensor_tol, photometric = _tolerances(manifest)
    if index:
        photometric = None  # the case's own input.photometric code
        if "input.photometric" not in tensors:
            return SelfTestResult(
                False, float("inf"), float("inf"),
                f"The self-test's input {index} lacks input.photometric.",
            )  # fmt: skip
        pixels = np.asarray(tensors.get("input.pixels", np.zeros((0, 0))))
        if pixels.ndim != 2 or max(pixels.shape, default=0) > MAX_CASE_SIDE:
            return SelfTestResult(
                False, float("inf"), float("inf"),
                f"The self-test's input {index} is not a 2-D image of at most "
                f"{MAX_CASE_SIDE} pixels a side.",
            )  # fmt: skip
    missing = [
        k for k in ("input.pixels", "expected.tensor", "expected.logits") if k not in tensors
    ]
    if missing:
        return SelfTestResult(
            False, float("inf"), float("inf"), f"The self-test lacks {', '.join(missing)}."
        )
    expected_tensor = np.asarray(tensors["expected.tensor"])
    expected_logits = np.asarray(tensors["expected.logits"]).reshape(-1)
    try:
        inp = ModelInput.from_tensors(tensors, photometric=photometric)
        tensor = preprocess(inp, manifest.preprocessing)
    except BedsideError as exc:
        return SelfTestResult(
            False, float("inf"), float("inf"), f"The self-test input cannot be preprocessed: {exc}"
        )
    if tensor.shape != expected_tensor.shape:
        return SelfTestResult(
            False,
            float("inf"),
            float("inf"),
            f"The preprocessed self-test tensor has shape {tensor.shape}, "
            f"the bundle expects {expected_tensor.shape}: the preprocessing differs.",
        )
    d_tensor = _max_abs_diff(tensor, expected_tensor)
    try:
        logits = run_model(model, tensor)
    except BedsideError as exc:
        return SelfTestResult(
            False, d_tensor, float("inf"), f"The self-test model run failed: {exc}"
        )
    if logits.shape != expected_logits.shape:
        return SelfTestResult(
            False,
            d_tensor,
            float("inf"),
            f"The model returned {logits.shape[0]} outputs, the self-test expects "
            f"{expected_logits.shape[0]}.",
        )
    d_out = _max_abs_diff(logits, expected_logits)
    problems = []
    if not d_tensor <= tensor_tol:
        problems.append(
            f"the preprocessed tensor differs by up to {d_tensor:.3g} (allowed {tensor_tol:.3g})"
        )
    if not d_out <= tol:
        problems.append(f"the model outputs differ by up to {d_out:.3g} (allowed {tol:.3g})")
    if problems:
        where = ""
        if index:
            rows, cols = inp.pixels.shape
            stored = "with" if inp.window is not None else "without"
            where = (
                f" on input {index} ({inp.photometric}, {cols} x {rows} pixels, {stored} a "
                "stored window)"
            )
        return SelfTestResult(
            False,
            d_tensor,
            d_out,
            f"The bundle's self-test failed{where}: "
            + " and ".join(problems)
            + ". This viewer would not score images the way the bundle was validated.",
        )
    return SelfTestResult(
        True,
        d_tensor,
        d_out,
        f"Self-test passed (tensor max diff {d_tensor:.3g}, output max diff {d_out:.3g}).",
    )
