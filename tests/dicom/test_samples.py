"""Real chest X-rays from ../shared/samples (skipped where absent): bones bright, lungs dark."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.waits import WAIT_S
from viewer.dicom import read_image, render

pytestmark = pytest.mark.samples


def _lung_vs_mediastinum(buf: np.ndarray) -> tuple[float, float]:
    rows, cols = buf.shape
    band = buf[int(rows * 0.35) : int(rows * 0.55)]
    lungs = np.concatenate(
        [band[:, int(cols * 0.2) : int(cols * 0.35)], band[:, int(cols * 0.65) : int(cols * 0.8)]],
        axis=1,
    )
    mediastinum = band[:, int(cols * 0.45) : int(cols * 0.55)]
    return float(lungs.mean()), float(mediastinum.mean())


@pytest.mark.parametrize("name", ["nih-cxr14-dx-pa.dcm", "wg04-rg1-cr-mono1-j2k.dcm"])
def test_lungs_dark_mediastinum_bright(samples_dir: Path, name: str) -> None:
    image = read_image(samples_dir / name)
    lungs, mediastinum = _lung_vs_mediastinum(render(image))
    assert mediastinum > lungs + 40


def test_cr_is_monochrome1_and_inverted(samples_dir: Path) -> None:
    image = read_image(samples_dir / "wg04-rg1-cr-mono1-j2k.dcm")
    assert image.meta.photometric == "MONOCHROME1" and image.meta.bits_stored == 15
    # In MONOCHROME1 the lungs have *high* stored values; displayed they are dark.
    rows, cols = image.stored.shape
    stored_lung = float(image.stored[int(rows * 0.4), int(cols * 0.25)])
    stored_mid = float(image.stored[int(rows * 0.4), int(cols * 0.5)])
    assert stored_lung > stored_mid


@pytest.mark.dcmtk
@pytest.mark.skipif(shutil.which("dcmj2pnm") is None, reason="dcmtk not installed")
def test_dx_sample_matches_dcmtk(samples_dir: Path, tmp_path: Path) -> None:
    path = samples_dir / "nih-cxr14-dx-pa.dcm"
    image = read_image(path)
    win = image.default_window
    out = tmp_path / "ref.pgm"
    subprocess.run(
        ["dcmj2pnm", "+Ww", str(win.center), str(win.width), str(path), str(out)],
        check=True,
        capture_output=True,
        timeout=WAIT_S,
    )
    with Image.open(out) as im:
        ref = np.asarray(im).astype(int)
    assert np.abs(render(image).astype(int) - ref).max() <= 1


# Regions (fractions of rows, columns) read on the two samples (docs/display.md): the lungs,
# the mediastinum and the region below the diaphragm.
DISPLAY_REGIONS = {
    "nih-cxr14-dx-pa.dcm": {
        "lung": [(0.30, 0.60, 0.20, 0.38), (0.30, 0.60, 0.60, 0.75)],
        "mediastinum": [(0.30, 0.55, 0.44, 0.56)],
        "below diaphragm": [(0.80, 0.95, 0.20, 0.80)],
    },
    "wg04-rg1-cr-mono1-j2k.dcm": {
        "lung": [(0.15, 0.45, 0.15, 0.38), (0.15, 0.45, 0.58, 0.80)],
        "mediastinum": [(0.20, 0.55, 0.44, 0.56)],
        "below diaphragm": [(0.80, 0.92, 0.15, 0.85)],
    },
}


def _region(buf: np.ndarray, rects: list[tuple[float, float, float, float]]) -> np.ndarray:
    rows, cols = buf.shape
    return np.concatenate(
        [
            buf[int(a * rows) : int(b * rows), int(c * cols) : int(d * cols)].ravel()
            for a, b, c, d in rects
        ]
    ).astype(float)


@pytest.mark.parametrize("name", sorted(DISPLAY_REGIONS))
def test_default_window_keeps_lungs_dark_and_mediastinum_readable(
    samples_dir: Path, name: str
) -> None:
    """The criterion of docs/display.md: lungs dark (mean <= 110 of 255, <= 5 % black),
    mediastinum and below the diaphragm not burnt out (<= 2 % white), the mediastinum at least
    90 grey levels above the lungs with a spread (5..95 %) of at least 25 grey levels."""
    image = read_image(samples_dir / name)
    assert image.default_window == image.auto_window  # no usable stored window on either
    buf = render(image)
    part = {key: _region(buf, rects) for key, rects in DISPLAY_REGIONS[name].items()}
    lung, med, below = part["lung"], part["mediastinum"], part["below diaphragm"]
    assert lung.mean() <= 110 and (lung <= 2).mean() <= 0.05
    assert (med >= 253).mean() <= 0.02 and (below >= 253).mean() <= 0.02
    assert med.mean() - lung.mean() >= 90
    assert np.percentile(med, 95) - np.percentile(med, 5) >= 25


def test_cr_placeholder_window_is_kept_as_a_preset(samples_dir: Path) -> None:
    image = read_image(samples_dir / "wg04-rg1-cr-mono1-j2k.dcm")
    stored = image.windows[0]
    assert (stored.center, stored.width) == (15000, 30000)
    assert image.wide_windows == (stored,) and image.presets[-1] == stored
