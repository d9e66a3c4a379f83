"""Grad-CAM: on demand, in image coordinates, highest where the evidence is."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.inference.helpers import tiny_model
from viewer.errors import InferenceError
from viewer.inference.explain import HEATMAP_CAPTION, find_target_layer, grad_cam


def _evidence_model() -> Any:
    """logit = mean over space of ReLU(x): the evidence is wherever the image is bright."""
    import torch
    from torch import nn

    model = nn.Sequential()
    model.add_module("features", nn.Sequential(nn.Conv2d(1, 1, 1, bias=False), nn.ReLU()))
    model.add_module("pool", nn.AdaptiveAvgPool2d(1))
    model.add_module("flatten", nn.Flatten())
    model.add_module("classifier", nn.Linear(1, 2))
    with torch.no_grad():
        model.features[0].weight.fill_(1.0)
        model.classifier.weight.copy_(torch.tensor([[1.0], [-1.0]]))
        model.classifier.bias.zero_()
    return model.eval().requires_grad_(False)


def _spot(size: int = 32) -> np.ndarray:
    x = np.zeros((1, size, size), np.float32)
    x[0, 4:10, 20:28] = 1.0
    return x


def test_heatmap_peaks_where_the_evidence_is() -> None:
    model = _evidence_model()
    target = find_target_layer(model, _spot())
    assert target == "features"
    heat = grad_cam(model, _spot(), 0, target)
    assert heat.shape == (32, 32) and heat.dtype == np.float32
    assert heat.max() == pytest.approx(1.0) and heat.min() >= 0.0
    assert heat[4:10, 20:28].min() > 0.9 and heat[20:, :10].max() == 0.0


def test_label_that_the_evidence_lowers_gets_an_empty_map() -> None:
    heat = grad_cam(_evidence_model(), _spot(), 1, "features")
    assert (heat == 0.0).all()


def test_target_layers_of_the_builtin_architectures() -> None:
    from viewer.bundle.architectures import build_model

    x = np.zeros((1, 64, 64), np.float32)
    assert find_target_layer(build_model("demo-cnn", in_channels=1, num_labels=1), x) == "features"
    assert find_target_layer(build_model("resnet18", in_channels=1, num_labels=1), x) == "layer4"


def test_densenet_inplace_relu_after_the_hooked_layer_works() -> None:
    from viewer.bundle.architectures import build_model

    model = build_model("densenet121", in_channels=1, num_labels=2).requires_grad_(False)
    x = np.random.default_rng(0).normal(size=(1, 64, 64)).astype(np.float32)
    target = find_target_layer(model, x)
    assert target == "features"
    heat = grad_cam(model, x, 1, target)
    assert heat.shape == (64, 64) and np.isfinite(heat).all()


def test_unknown_layer_and_label_are_errors() -> None:
    model = tiny_model()
    x = np.zeros((1, 16, 16), np.float32)
    with pytest.raises(InferenceError):
        grad_cam(model, x, 0, "nope")
    with pytest.raises(InferenceError):
        grad_cam(model, x, 5, "features")


def test_caption_says_it_is_not_a_localisation() -> None:
    assert "not a localisation" in HEATMAP_CAPTION
