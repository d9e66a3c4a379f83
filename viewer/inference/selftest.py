"""The bundle's self-test: a stored input, its preprocessed tensor and the expected logits.

``bedside bundle create`` runs :func:`compute_selftest` and stores the result; every load reruns
the same preprocessing and network (:func:`check_selftest`) and refuses the bundle if either the
tensor or the output moved beyond the manifest's tolerances (``selftest.tensor_tolerance``,
``selftest.tolerance``). This catches a viewer whose preprocessing or numerics drifted from what
the bundle was validated with, and a manifest whose preprocessing was changed after creation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from viewer.errors import BedsideError
from viewer.inference.engine import configure_threads, run_model
from viewer.inference.preprocess import ModelInput, PreprocessStep, preprocess

if TYPE_CHECKING:
    import torch

__all__ = ["SelfTestResult", "check_selftest", "compute_selftest"]

# Used when a manifest-like object carries no selftest section (e.g. in unit tests).
DEFAULT_TOLERANCE = 1e-4
DEFAULT_TENSOR_TOLERANCE = 1e-5


class _ManifestLike(Protocol):
    @property
    def preprocessing(self) -> Sequence[PreprocessStep]: ...


@dataclass(frozen=True)
class SelfTestResult:
    passed: bool
    max_abs_diff_tensor: float
    max_abs_diff_output: float
    message: str


def compute_selftest(
    model: torch.nn.Module, manifest: _ManifestLike, inp: ModelInput, *, threads: int | None = None
) -> dict[str, np.ndarray]:
    """``{"input.pixels", "input.window"?, "expected.tensor", "expected.logits"}`` for ``inp``.

    The input's photometric interpretation is not a tensor: the caller stores it in the
    manifest (``selftest.photometric``). ``threads`` fixes torch's thread count first: float
    reductions (e.g. DenseNet's) differ in the last bits between thread counts, so exact
    expected values hold for the thread count they were computed with.
    """
    if threads is not None:
        configure_threads(threads)
    tensor = preprocess(inp, manifest.preprocessing)
    logits = run_model(model, tensor)
    out = {k: v for k, v in inp.to_tensors().items() if k in ("input.pixels", "input.window")}
    out["expected.tensor"] = tensor
    out["expected.logits"] = logits
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


def check_selftest(
    model: torch.nn.Module, manifest: _ManifestLike, tensors: Mapping[str, np.ndarray]
) -> SelfTestResult:
    """Rerun the stored input; never raises for a mismatch, the result says what failed."""
    tol, tensor_tol, photometric = _tolerances(manifest)
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
        return SelfTestResult(
            False,
            d_tensor,
            d_out,
            "The bundle's self-test failed: "
            + " and ".join(problems)
            + ". This viewer would not score images the way the bundle was validated.",
        )
    return SelfTestResult(
        True,
        d_tensor,
        d_out,
        f"Self-test passed (tensor max diff {d_tensor:.3g}, output max diff {d_out:.3g}).",
    )
