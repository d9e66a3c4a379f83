"""The preprocessing steps added for TorchXRayVision (#13 item 2), against their references."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.errors import BundleError, InferenceError
from viewer.inference.preprocess import ModelInput, preprocess, validate_steps

STORED = {"op": "source", "pixels": "stored"}
BITS = {"op": "normalize", "method": "bits_stored", "out_min": -1024.0, "out_max": 1024.0}


def _input(stored: np.ndarray, bits: int, photometric: str = "MONOCHROME2") -> ModelInput:
    return ModelInput(
        pixels=stored.astype(np.float32), photometric=photometric, stored=stored, bits_stored=bits
    )


@pytest.mark.parametrize("bits", [8, 10, 12, 15, 16])
def test_bits_stored_normalisation_is_txvs_bit_for_bit(bits: int) -> None:
    rng = np.random.default_rng(bits)
    stored = rng.integers(0, 2**bits, size=(37, 41), dtype=np.uint16)
    maxval = 2**bits - 1
    for photometric in ("MONOCHROME1", "MONOCHROME2"):
        steps = validate_steps([STORED, {"op": "invert_monochrome1"}, BITS])
        ours = preprocess(_input(stored, bits, photometric), steps)[0]
        data = maxval - stored if photometric == "MONOCHROME1" else stored
        theirs = (2 * (data.astype(np.float32) / maxval) - 1.0) * 1024  # txv utils.normalize
        assert np.array_equal(ours, theirs.astype(np.float32))


def test_stored_values_outside_bits_stored_are_not_scored() -> None:
    stored = np.full((16, 16), 300, dtype=np.uint16)
    with pytest.raises(InferenceError, match="outside 0 to 255"):
        preprocess(_input(stored, 8), validate_steps([STORED, BITS]))


def test_bits_stored_needs_a_stored_source() -> None:
    with pytest.raises(BundleError, match="needs a 'stored' source"):
        validate_steps([{"op": "source", "pixels": "modality"}, BITS])


@pytest.mark.parametrize("shape", [(300, 261), (261, 300), (257, 320), (331, 300), (40, 40)])
def test_center_crop_floor_halves_is_txvs(shape: tuple[int, int]) -> None:
    x = np.arange(shape[0] * shape[1], dtype=np.float32).reshape(shape)
    ours = preprocess(
        ModelInput(pixels=x, photometric="MONOCHROME2"),
        validate_steps(
            [
                {"op": "source", "pixels": "modality"},
                {"op": "center_crop", "offset": "floor_halves"},
            ]
        ),
    )[0]
    y, w = shape
    side = min(y, w)
    sx, sy = w // 2 - side // 2, y // 2 - side // 2  # txv XRayCenterCrop
    assert np.array_equal(ours, x[sy : sy + side, sx : sx + side])


@pytest.mark.parametrize(
    ("shape", "size"),
    [((300, 300), 224), ((2048, 2048), 224), ((640, 640), 512), ((100, 100), 224)],
)
def test_skimage_linear_matches_scikit_image(shape: tuple[int, int], size: int) -> None:
    resize = pytest.importorskip("skimage.transform").resize
    rng = np.random.default_rng(size)
    x = (rng.random(shape, dtype=np.float32) * 2048 - 1024).astype(np.float32)
    x[:4] = 7.0  # a flat edge band
    steps = validate_steps(
        [
            {"op": "source", "pixels": "modality"},
            {"op": "resize", "size": size, "interpolation": "skimage-linear", "antialias": True},
        ]
    )
    ours = preprocess(ModelInput(pixels=x, photometric="MONOCHROME2"), steps)
    theirs = resize(x[None], (1, size, size), mode="constant", preserve_range=True)
    # scipy rounds to float32 after each pass, we once: a float32 step at 1024 is 6.1e-5
    assert np.abs(ours - theirs.astype(np.float32)).max() <= 1.3e-4


def test_skimage_linear_upsampled_edges_are_clipped_like_scikit_image() -> None:
    """Edges blend with the zeros beyond them, then the clip to the input's range undoes it."""
    resize = pytest.importorskip("skimage.transform").resize
    x = np.full((50, 50), 500.0, dtype=np.float32)
    x[10:20, 10:20] = 900.0
    steps = validate_steps(
        [
            {"op": "source", "pixels": "modality"},
            {"op": "resize", "size": 224, "interpolation": "skimage-linear", "antialias": True},
        ]
    )
    ours = preprocess(ModelInput(pixels=x, photometric="MONOCHROME2"), steps)[0]
    theirs = resize(x, (224, 224), mode="constant", preserve_range=True)
    assert ours.min() == 500.0
    assert np.abs(ours - theirs).max() <= 1e-4
