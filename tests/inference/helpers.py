"""Small fakes shared by the inference tests: a tiny network and a manifest-like object."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from viewer.inference.preprocess import PreprocessStep, validate_steps

STEPS_RAW: list[dict[str, Any]] = [
    {"op": "source", "pixels": "stored_window"},
    {"op": "invert_monochrome1"},
    {"op": "square", "mode": "crop"},
    {"op": "resize", "size": 64, "interpolation": "bilinear", "antialias": True},
    {"op": "normalize", "method": "fixed_range", "in_min": 0.0, "in_max": 1.0,
     "out_min": -1024.0, "out_max": 1024.0},
    {"op": "channels", "count": 1},
    {"op": "dtype", "dtype": "float32"},
]  # fmt: skip


def steps(raw: list[dict[str, Any]] | None = None) -> list[PreprocessStep]:
    return validate_steps(STEPS_RAW if raw is None else raw)


def tiny_model(in_channels: int = 1, num_labels: int = 2, seed: int = 0) -> Any:
    """A small conv net with GAP + linear head, like the built-in architectures."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = nn.Sequential()
    model.add_module(
        "features",
        nn.Sequential(
            nn.Conv2d(in_channels, 8, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 8, 3, padding=1),
            nn.ReLU(),
        ),
    )
    model.add_module("pool", nn.AdaptiveAvgPool2d(1))
    model.add_module("flatten", nn.Flatten())
    model.add_module("classifier", nn.Linear(8, num_labels))
    with torch.no_grad():
        model.classifier.weight.mul_(0.01)
    return model.eval()


def label(
    name: str, threshold: float = 0.5, activation: str = "sigmoid", calibration: str = "none"
) -> SimpleNamespace:
    return SimpleNamespace(
        name=name,
        display_name=name.title(),
        threshold=threshold,
        operating_point=f"sensitivity 0.95 at this threshold on the validation set ({name})",
        activation=activation,
        calibration=SimpleNamespace(method=calibration),
    )


def accepted(**over: Any) -> SimpleNamespace:
    values: dict[str, Any] = {
        "modalities": ["CR", "DX"],
        "views": ["PA"],
        "body_parts": ["CHEST"],
        "photometric": ["MONOCHROME1", "MONOCHROME2"],
        "bits_stored_min": 10,
        "bits_stored_max": 16,
        "pixel_spacing_mm_min": 0.1,
        "pixel_spacing_mm_max": 0.25,
        "min_rows": 128,
        "min_columns": 128,
    }
    values.update(over)
    return SimpleNamespace(**values)


def manifest(
    raw_steps: list[dict[str, Any]] | None = None,
    labels: list[SimpleNamespace] | None = None,
    **selftest: Any,
) -> SimpleNamespace:
    spec = {"tolerance": 1e-4, "tensor_tolerance": 1e-5, "photometric": "MONOCHROME2"}
    spec.update(selftest)
    return SimpleNamespace(
        id="tiny",
        version="1.0.0",
        preprocessing=steps(raw_steps),
        labels=labels or [label("opacity"), label("effusion", 0.3)],
        accepted_inputs=accepted(),
        selftest=SimpleNamespace(**spec),
    )


def loaded(model: Any = None, man: SimpleNamespace | None = None) -> SimpleNamespace:
    return SimpleNamespace(
        manifest=man or manifest(), model=model or tiny_model(), digest="ab" * 32
    )


def ramp(rows: int = 96, cols: int = 80, seed: int = 0) -> np.ndarray:
    """A 12-bit-like float32 image with structure (ramp + noise)."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 3000, rows, dtype=np.float32)[:, None]
    x = np.linspace(0, 1000, cols, dtype=np.float32)[None, :]
    return (y + x + rng.normal(0, 50, (rows, cols))).astype(np.float32)
