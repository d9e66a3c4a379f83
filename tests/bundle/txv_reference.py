"""TorchXRayVision as a test reference (a test dependency only, never shipped).

The PyPI torchvision wheel here is a CUDA build whose C++ operators do not load with torch's CPU
build; defining the two operator schemas its Python side registers fake kernels for
(``torchvision::nms``, ``torchvision::qnms``) before importing it lets its pure-Python parts
import, which is all TorchXRayVision needs (DESIGN.md, "Facts measured").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

_LIB: Any = None


def xrv() -> Any:
    """The ``torchxrayvision`` module, or skip the test when it is not installed."""
    global _LIB
    import torch

    if _LIB is None:
        try:
            _LIB = torch.library.Library("torchvision", "DEF")
            _LIB.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
            _LIB.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        except RuntimeError:  # already defined (torchvision's own ops loaded)
            pass
    return pytest.importorskip("torchxrayvision")


def save_densenet_release(path: Path, weights_name: str, seed: int = 0) -> Any:
    """A pickled txv DenseNet module with random weights, as txv publishes its res224 files."""
    import torch

    lib = xrv()
    torch.manual_seed(seed)
    labels = lib.models.model_urls[weights_name]["labels"]
    model = lib.models.DenseNet(num_classes=len(labels))
    _randomise(model)
    model.op_threshs = torch.tensor(lib.models.model_urls[weights_name]["op_threshs"])
    torch.save(model, path)
    model.op_threshs = None
    return model.eval()


def save_resnet_release(path: Path, seed: int = 0) -> Any:
    """txv's ResNet-50 res512 format: torchvision resnet50's state dict, 1 channel, 18 outputs."""
    import torch
    import torchvision

    xrv()
    torch.manual_seed(seed)
    model = torchvision.models.resnet50(num_classes=18, weights=None)
    model.conv1 = torch.nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    _randomise(model)
    torch.save(model.state_dict(), path)
    return model.eval()


def _randomise(model: Any) -> None:
    """Batch-norm statistics that keep activations finite and scores spread around 0.5."""
    import torch

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.0)
                m.bias.uniform_(-0.1, 0.1)
            elif isinstance(m, torch.nn.Linear):
                m.weight.normal_(0.0, 0.05)
                m.bias.uniform_(-3.0, 0.0)
    model.eval()
