"""The demo bundle's reference check on generated images (issue 15, item 2 acceptance).

Reference-like images are drawn as ``packaging/demo_build.py`` draws its reference set, from a
seed range no build uses; shifted ones are not chest radiographs, or chest radiographs altered
past what a detector would produce. The demo model must refuse <= 2 % of the first and >= 90 %
of the second (by the reference check), and still score the demo's own images. That it refuses
the two real samples is tests/inference/test_corpus.py's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from viewer.bundle.loader import load_bundle
from viewer.bundle.resources import DEMO_BUNDLE, resource_path
from viewer.bundle.trust import TrustStore
from viewer.dicom.reader import read_image
from viewer.dicom.synthetic import make_cxr, write_demo_set
from viewer.inference.predict import InputRefusedError, Predictor

FRESH_SEED = 700_000  # demo_build uses 100,000-400,599


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from viewer.bundle.trust import TrustedKey
    from viewer.keyprint import fingerprint

    pem = resource_path("demo", "demo-signing-key.pub.pem").read_bytes()
    public = load_pem_public_key(pem)
    trust = TrustStore.of_keys([TrustedKey(public, fingerprint(public), "demo", "demo")])  # type: ignore[arg-type]
    loaded = load_bundle(resource_path(*DEMO_BUNDLE), trust)
    assert loaded.ood is not None
    return Predictor(loaded, threads=1)


def _outcome(predictor: Predictor, path: Path) -> str:
    """ "scored", "ood" (refused by the reference check) or "refused" (another check)."""
    try:
        predictor.predict(read_image(path))
    except InputRefusedError as exc:
        codes = {c.code for c in exc.checks if c.level == "refusal"}
        return "ood" if codes == {"out_of_distribution"} else "refused"
    return "scored"


def _save(ds: Any, path: Path, pixels: np.ndarray | None = None) -> Path:
    if pixels is not None:
        top = (1 << int(ds.BitsStored)) - 1
        stored = np.clip(np.round(pixels), 0, top).astype(np.uint16)
        ds.Rows, ds.Columns = stored.shape
        ds.PixelData = stored.tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def _chest(seed: int) -> tuple[Any, np.ndarray]:
    ds = make_cxr(seed, opacity=seed % 2 == 0, size=(256, 256))
    return ds, ds.pixel_array.astype(np.float64)


def _blobs(rng: np.random.Generator, chest: np.ndarray) -> np.ndarray:
    """A hand- or knee-like picture: a few bright bony bars on a dark background."""
    out = np.full(chest.shape, 300.0)
    yy, xx = np.mgrid[: chest.shape[0], : chest.shape[1]]
    for _ in range(5):
        cy, cx = rng.uniform(40, 216, size=2)
        angle = rng.uniform(0, np.pi)
        u = (xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)
        v = -(xx - cx) * np.sin(angle) + (yy - cy) * np.cos(angle)
        out[(np.abs(u) < 60) & (np.abs(v) < 9)] = 3200.0
    return out + rng.normal(0, 40, chest.shape)


SHIFTS: dict[str, Callable[[np.random.Generator, np.ndarray], np.ndarray]] = {
    "noise": lambda rng, c: rng.uniform(0, 4095, c.shape),
    "gradient": lambda rng, c: np.add.outer(np.linspace(0, 4095, c.shape[0]), np.zeros(c.shape[1]))
    + rng.normal(0, 30, c.shape),
    "checkerboard": lambda rng, c: ((np.add.outer(np.arange(c.shape[0]), np.arange(c.shape[1]))
                                     // int(rng.integers(8, 40))) % 2) * 3500.0 + 300.0,
    "inverted": lambda rng, c: 4095.0 - c,
    "rotated": lambda rng, c: np.rot90(c),
    "upside-down": lambda rng, c: c[::-1],
    "bones": _blobs,
}  # fmt: skip


def test_reference_like_images_are_scored_and_shifted_ones_refused(
    predictor: Predictor, tmp_path: Path
) -> None:
    like: list[str] = []
    for i in range(300):
        ds = make_cxr(
            FRESH_SEED + i,
            opacity=i % 2 == 1,
            modality="CR" if i % 3 else "DX",
            photometric="MONOCHROME1" if i % 4 == 2 else "MONOCHROME2",
            size=(256, 256) if i % 2 else (512, 512),
            patient_index=i,
        )
        like.append(_outcome(predictor, _save(ds, tmp_path / f"like{i}.dcm")))
    shifted: dict[str, list[str]] = {}
    for name, shift in SHIFTS.items():
        for i in range(20):
            rng = np.random.default_rng(FRESH_SEED + 1000 + i)
            ds, chest = _chest(FRESH_SEED + 2000 + i)
            path = _save(ds, tmp_path / f"{name}{i}.dcm", shift(rng, chest))
            shifted.setdefault(name, []).append(_outcome(predictor, path))
    assert like.count("scored") >= 0.98 * len(like), like.count("ood")
    every = [o for outcomes in shifted.values() for o in outcomes]
    assert every.count("ood") >= 0.90 * len(every), {k: v.count("ood") for k, v in shifted.items()}


def test_demo_images_still_score(predictor: Predictor, tmp_path: Path) -> None:
    """What `bedside demo` opens (write_demo_set) is scored, not refused."""
    for path in write_demo_set(tmp_path, n=8):
        assert _outcome(predictor, path) == "scored", path.name


def test_no_heatmap_for_an_image_the_reference_check_refuses(
    predictor: Predictor, tmp_path: Path
) -> None:
    """The heatmap runs the same reference check as the score: a refused image gets none."""
    ds, chest = _chest(FRESH_SEED + 5000)
    noise = _save(ds, tmp_path / "noise.dcm", SHIFTS["noise"](np.random.default_rng(1), chest))
    with pytest.raises(InputRefusedError, match="No heatmap: This image is outside") as info:
        predictor.heatmap(read_image(noise), "opacity")
    assert [c.code for c in info.value.checks if c.level == "refusal"] == ["out_of_distribution"]
    chest_path = write_demo_set(tmp_path / "demo", n=1)[0]
    heat = predictor.heatmap(read_image(chest_path), "opacity")
    assert heat.ndim == 2 and float(heat.max()) > 0.0
