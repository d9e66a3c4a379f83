"""Running the network: fixed thread count, no autograd, float32 logits out.

torch's intra-op thread count is process-global and changes how reductions are split, so the
Predictor fixes it and records it with every result (DESIGN: determinism). torch is imported
lazily: importing this module stays cheap for the GUI thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from viewer.errors import InferenceError

if TYPE_CHECKING:
    import torch

__all__ = ["configure_threads", "run_model"]


def configure_threads(threads: int) -> int:
    """Set torch's intra-op threads (1..64) and return the value torch reports back."""
    import torch

    if not 1 <= threads <= 64:
        raise InferenceError(f"Inference threads must be between 1 and 64, not {threads}.")
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return int(torch.get_num_threads())


def run_model(model: torch.nn.Module, tensor: np.ndarray) -> np.ndarray:
    """One image (C, H, W) float32 through the model in eval mode: float32 logits (L,)."""
    import torch

    if tensor.ndim != 3 or tensor.dtype != np.float32:
        raise InferenceError(
            f"The network input must be float32 (C, H, W), not {tensor.dtype} {tensor.shape}."
        )
    x = torch.from_numpy(np.ascontiguousarray(tensor))[None]
    if model.training:
        model.eval()
    try:
        with torch.inference_mode():
            out = model(x)
    except (RuntimeError, ValueError) as exc:
        raise InferenceError(f"The model could not process this image: {exc}") from exc
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != 1:
        raise InferenceError("The model returned an output of an unexpected shape.")
    return np.ascontiguousarray(out[0].detach().to(torch.float32).numpy())
