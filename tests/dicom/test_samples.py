"""Real chest X-rays from ../shared/samples (skipped where absent): bones bright, lungs dark."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

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
    )
    with Image.open(out) as im:
        ref = np.asarray(im).astype(int)
    assert np.abs(render(image).astype(int) - ref).max() <= 1
