"""Grad-CAM heatmaps (Selvaraju et al., ICCV 2017) over the last convolutional feature map.

For the built-in architectures (global average pooling, then one linear layer) Grad-CAM equals
the class activation map of Zhou et al. (CVPR 2016) up to ReLU gating: the weight of each feature
channel is the label's logit gradient averaged over space. No extra library: a forward hook
captures the feature map, which is detached and marked as the only tensor needing a gradient, so
the backward pass runs through the classifier head alone and costs little beside the forward.

What it is NOT: a localisation. It shows which regions of the network's input raised the label's
score, at the feature map's coarse resolution (1/32 of the input for DenseNet), blurred back to
the image. The GUI must show :data:`HEATMAP_CAPTION` with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from viewer.errors import InferenceError

if TYPE_CHECKING:
    import torch

__all__ = ["HEATMAP_CAPTION", "find_target_layer", "grad_cam"]

HEATMAP_CAPTION = (
    "Heatmap (Grad-CAM): the regions of the image that most raised this label's score in the "
    "model. It is not a localisation of the finding and must not be used to locate, measure or "
    "rule out a lesion."
)


def find_target_layer(model: torch.nn.Module, tensor: np.ndarray) -> str:
    """Name of the module that last produces a 4-D feature map with more than one position.

    Found by running the model once with forward hooks (modules complete children first, so the
    last completed one is the outermost block holding the final feature map: ``features`` for
    DenseNet and the demo CNN, ``layer4`` for ResNet).
    """
    import torch

    seen: list[str] = []
    handles = []

    def hook(name: str) -> Any:
        def record(_module: torch.nn.Module, _inp: Any, out: Any) -> None:
            if isinstance(out, torch.Tensor) and out.ndim == 4 and out.shape[2] * out.shape[3] > 1:
                seen.append(name)

        return record

    for name, module in model.named_modules():
        if name:
            handles.append(module.register_forward_hook(hook(name)))
    try:
        with torch.inference_mode():
            model(torch.from_numpy(np.ascontiguousarray(tensor))[None])
    finally:
        for h in handles:
            h.remove()
    if not seen:
        raise InferenceError("This model has no convolutional feature map to explain.")
    return seen[-1]


def grad_cam(
    model: torch.nn.Module, tensor: np.ndarray, label_index: int, target: str
) -> np.ndarray:
    """Grad-CAM of one label over the network input's grid: float32 (h, w) in 0..1.

    ReLU(sum_k alpha_k A_k), alpha_k = mean over space of d logit / d A_k, upsampled bilinearly
    to the input size and divided by its maximum (all zeros when nothing raised the score).
    """
    import torch
    import torch.nn.functional as F  # noqa: N812

    module = dict(model.named_modules()).get(target)
    if module is None:
        raise InferenceError(f"The model has no layer '{target}' to explain.")
    captured: list[torch.Tensor] = []

    def hook(_module: torch.nn.Module, _inp: Any, out: torch.Tensor) -> torch.Tensor:
        leaf = out.detach().requires_grad_(True)
        captured.append(leaf)
        return leaf.clone()  # later in-place ops (e.g. DenseNet's ReLU) must not touch the leaf

    handle = module.register_forward_hook(hook)
    try:
        with torch.enable_grad():
            logits = model(torch.from_numpy(np.ascontiguousarray(tensor))[None])
            if not captured:
                raise InferenceError(f"The layer '{target}' did not run; nothing to explain.")
            if not 0 <= label_index < logits.shape[1]:
                raise InferenceError(f"The model has no output {label_index}.")
            (grad,) = torch.autograd.grad(logits[0, label_index], captured[-1])
    finally:
        handle.remove()
    with torch.no_grad():
        feats = captured[-1].detach()
        weights = grad.mean(dim=(2, 3), keepdim=True)
        cam = F.relu((weights * feats).sum(dim=1, keepdim=True))
        cam = F.interpolate(cam, size=tensor.shape[1:], mode="bilinear", align_corners=False)
        top = float(cam.max())
        heat = (cam / top) if top > 0 and np.isfinite(top) else torch.zeros_like(cam)
    out: np.ndarray = np.clip(heat[0, 0].numpy(), 0.0, 1.0).astype(np.float32)
    return out
