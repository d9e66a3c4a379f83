"""The architecture registry: ``arch_id`` -> ``nn.Module`` factory.

A bundle carries weights, never code; the code that gives them meaning arrives through the software
supply chain: the built-ins here, or a site's own package exposing a factory under the entry point
group ``bedside.architectures`` (``name = "module:factory"``, called as
``factory(in_channels=..., num_labels=...)``). A site package cannot replace a built-in id.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from viewer.errors import BundleError

if TYPE_CHECKING:
    import torch

ENTRY_POINT_GROUP = "bedside.architectures"
BUILTIN_ARCHITECTURES: tuple[str, ...] = ("densenet121", "resnet18", "resnet50", "demo-cnn")
_BUILTIN_FACTORIES = {
    "densenet121": "densenet121",
    "resnet18": "resnet18",
    "resnet50": "resnet50",
    "demo-cnn": "demo_cnn",
}
MAX_CHANNELS = 16
MAX_LABELS = 1000


def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    found: dict[str, importlib.metadata.EntryPoint] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in _BUILTIN_FACTORIES and ep.name not in found:
            found[ep.name] = ep
    return found


def known_architectures() -> list[str]:
    """Built-in ids first, then the site's entry-point ids (sorted). Does not import torch."""
    return [*BUILTIN_ARCHITECTURES, *sorted(_entry_points())]


def build_model(arch_id: str, *, in_channels: int, num_labels: int) -> torch.nn.Module:
    """A freshly initialised model in eval mode; unknown id -> BundleError(code="architecture")."""
    if not 1 <= in_channels <= MAX_CHANNELS or not 1 <= num_labels <= MAX_LABELS:
        raise BundleError(
            f"Architecture '{arch_id}' was asked for {in_channels} input channels and "
            f"{num_labels} labels; allowed are 1-{MAX_CHANNELS} channels and "
            f"1-{MAX_LABELS} labels.",
            code="architecture",
        )
    factory: Callable[..., Any]
    if arch_id in _BUILTIN_FACTORIES:
        from viewer.bundle import _nets

        factory = getattr(_nets, _BUILTIN_FACTORIES[arch_id])
    else:
        ep = _entry_points().get(arch_id)
        if ep is None:
            raise BundleError(
                f"The bundle needs the architecture '{arch_id}', which this installation does not "
                f"have (known: {', '.join(known_architectures())}). Ask IT to install the "
                "package that provides it.",
                code="architecture",
            )
        try:
            factory = ep.load()
        except Exception as exc:  # a broken site package must not crash the app
            raise BundleError(
                f"The architecture '{arch_id}' is installed but cannot be loaded ({exc}).",
                code="architecture",
            ) from exc
    import torch

    model = factory(in_channels=in_channels, num_labels=num_labels)
    if not isinstance(model, torch.nn.Module):
        raise BundleError(
            f"The architecture '{arch_id}' did not build a torch module.", code="architecture"
        )
    model.eval()
    return model


def select_outputs(model: torch.nn.Module, shown: list[int], num_outputs: int) -> torch.nn.Module:
    """The model whose outputs are only ``shown`` (a manifest's ``shown_outputs``).

    Hidden outputs (no label or no threshold) are computed by the network as published and
    dropped here, before any score exists, so no later step can show them. With nothing hidden
    the model itself is returned. The wrapper's weights are its ``net``'s; load them first.
    """
    if shown == list(range(num_outputs)):
        return model
    import torch

    class ShownOutputs(torch.nn.Module):
        def __init__(self, net: torch.nn.Module, index: list[int]) -> None:
            super().__init__()
            self.net = net
            self.index = index

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.net(x)
            return out[:, self.index]

    return ShownOutputs(model, shown)
