"""Architectures: torchvision's state_dict layout, channels/labels, entry points."""

from __future__ import annotations

import importlib.metadata
from typing import Any

import pytest

from viewer.bundle import architectures
from viewer.bundle.architectures import build_model, known_architectures
from viewer.errors import BundleError

# Parameter and state_dict entry counts of torchvision's models (1000 classes, 3 channels).
TORCHVISION = {
    "densenet121": (7_978_856, 727),
    "resnet18": (11_689_512, 122),
    "resnet50": (25_557_032, 320),
}

SHAPES = {
    "densenet121": {
        "features.conv0.weight": (64, 3, 7, 7),
        "features.norm0.running_var": (64,),
        "features.denseblock1.denselayer1.norm1.weight": (64,),
        "features.denseblock1.denselayer1.conv1.weight": (128, 64, 1, 1),
        "features.denseblock1.denselayer6.conv2.weight": (32, 128, 3, 3),
        "features.transition1.conv.weight": (128, 256, 1, 1),
        "features.transition3.norm.num_batches_tracked": (),
        "features.denseblock4.denselayer16.norm1.weight": (992,),
        "features.norm5.weight": (1024,),
        "classifier.weight": (1000, 1024),
        "classifier.bias": (1000,),
    },
    "resnet18": {
        "conv1.weight": (64, 3, 7, 7),
        "bn1.running_mean": (64,),
        "layer1.0.conv1.weight": (64, 64, 3, 3),
        "layer2.0.downsample.0.weight": (128, 64, 1, 1),
        "layer2.0.downsample.1.weight": (128,),
        "layer4.1.bn2.weight": (512,),
        "fc.weight": (1000, 512),
    },
    "resnet50": {
        "layer1.0.conv1.weight": (64, 64, 1, 1),
        "layer1.0.conv2.weight": (64, 64, 3, 3),
        "layer1.0.conv3.weight": (256, 64, 1, 1),
        "layer1.0.downsample.0.weight": (256, 64, 1, 1),
        "layer3.5.bn3.weight": (1024,),
        "layer4.2.conv3.weight": (2048, 512, 1, 1),
        "fc.weight": (1000, 2048),
    },
}


@pytest.mark.parametrize("arch", sorted(TORCHVISION))
def test_torchvision_layout(arch: str) -> None:
    model = build_model(arch, in_channels=3, num_labels=1000)
    params, entries = TORCHVISION[arch]
    assert sum(p.numel() for p in model.parameters()) == params
    state = model.state_dict()
    assert len(state) == entries
    for name, shape in SHAPES[arch].items():
        assert tuple(state[name].shape) == shape, name


def test_densenet_has_no_bias_in_convs_and_resnet_v1_5_stride() -> None:
    dn = build_model("densenet121", in_channels=3, num_labels=2).state_dict()
    assert not [k for k in dn if k.startswith("features.conv") and k.endswith("bias")]
    rn = build_model("resnet50", in_channels=3, num_labels=2)
    assert rn.layer2[0].conv2.stride == (2, 2)  # type: ignore[index,union-attr]
    assert rn.layer2[0].conv1.stride == (1, 1)  # type: ignore[index,union-attr]


@pytest.mark.parametrize("arch", ["densenet121", "resnet18", "resnet50", "demo-cnn"])
def test_channels_and_labels(arch: str) -> None:
    import torch

    model = build_model(arch, in_channels=1, num_labels=3)
    assert not model.training
    with torch.no_grad():
        out = model(torch.zeros(1, 1, 64, 64))
    assert tuple(out.shape) == (1, 3)


def test_unknown_and_invalid() -> None:
    with pytest.raises(BundleError, match="does not have") as info:
        build_model("vit", in_channels=1, num_labels=1)
    assert info.value.code == "architecture"
    with pytest.raises(BundleError, match="input channels"):
        build_model("resnet18", in_channels=0, num_labels=1)


class _FakeEP:
    def __init__(self, name: str, factory: Any) -> None:
        self.name = name
        self._factory = factory

    def load(self) -> Any:
        return self._factory


def test_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    def site_net(*, in_channels: int, num_labels: int) -> torch.nn.Module:
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.LazyLinear(num_labels))

    def evil(*, in_channels: int, num_labels: int) -> torch.nn.Module:
        raise AssertionError("a site package must not replace a built-in")

    def broken() -> Any:
        raise ImportError("missing dependency")

    class _Broken(_FakeEP):
        def load(self) -> Any:
            return broken()

    def fake_entry_points(*, group: str) -> list[Any]:
        assert group == "bedside.architectures"
        return [
            _FakeEP("site-net", site_net),
            _FakeEP("densenet121", evil),
            _Broken("broken", None),
        ]

    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)
    assert known_architectures()[:4] == list(architectures.BUILTIN_ARCHITECTURES)
    assert "site-net" in known_architectures()
    assert isinstance(build_model("site-net", in_channels=1, num_labels=2), torch.nn.Module)
    build_model("densenet121", in_channels=1, num_labels=2)  # the built-in, not `evil`
    with pytest.raises(BundleError, match="cannot be loaded"):
        build_model("broken", in_channels=1, num_labels=2)
