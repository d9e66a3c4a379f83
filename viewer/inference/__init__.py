"""Inference: the bundle's stored preprocessing, scores and findings, input checks, heatmaps.

Public API (ARCHITECTURE.md, "Public faces"). Importing this package does not import torch;
the functions that run the network import it when called. ``preprocess`` and ``postprocess``
are not re-exported here: the names are the submodules (``viewer.inference.preprocess``).
"""

from viewer.inference.checks import CheckResult, check_input
from viewer.inference.explain import HEATMAP_CAPTION
from viewer.inference.postprocess import LabelResult
from viewer.inference.predict import (
    InferenceCancelledError,
    InputRefusedError,
    Prediction,
    Predictor,
)
from viewer.inference.preprocess import (
    Geometry,
    ModelInput,
    PreprocessStep,
    preprocess_with_geometry,
    validate_steps,
)
from viewer.inference.selftest import SelfTestResult, check_selftest, compute_selftest

__all__ = [
    "HEATMAP_CAPTION",
    "CheckResult",
    "Geometry",
    "InferenceCancelledError",
    "InputRefusedError",
    "LabelResult",
    "ModelInput",
    "Prediction",
    "Predictor",
    "PreprocessStep",
    "SelfTestResult",
    "check_input",
    "check_selftest",
    "compute_selftest",
    "preprocess_with_geometry",
    "validate_steps",
]
