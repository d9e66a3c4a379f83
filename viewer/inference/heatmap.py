"""The heatmap's colours: one colour map for the screen (``viewer.ui.qt_image_view``) and the
Secondary Capture sent to PACS (``viewer.pacs.sc``), so the capture shows what the reader saw.
numpy only."""

from __future__ import annotations

import numpy as np

# blue -> cyan -> yellow -> red, alpha rising with the value
_CMAP_STOPS = np.array(
    [[0.0, 0, 0, 255], [0.35, 0, 255, 255], [0.65, 255, 255, 0], [1.0, 255, 0, 0]],
    dtype=np.float32,
)


def heatmap_rgba(heat: np.ndarray) -> np.ndarray:
    """Map a 0..1 float heatmap to RGBA uint8 (H, W, 4); alpha grows with the value."""
    h = np.clip(np.nan_to_num(heat.astype(np.float32)), 0.0, 1.0)
    x = _CMAP_STOPS[:, 0]
    out = np.empty((*h.shape, 4), dtype=np.uint8)
    for c in range(3):
        out[..., c] = np.interp(h, x, _CMAP_STOPS[:, c + 1]).astype(np.uint8)
    # below 0.2 fully transparent, so the radiograph outside the hot regions is untouched
    out[..., 3] = (np.clip((h - 0.2) / 0.8, 0.0, 1.0) ** 0.7 * 255).astype(np.uint8)
    return np.ascontiguousarray(out)
