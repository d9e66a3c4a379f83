"""Our display buffer against dcmtk's ``dcmj2pnm`` (same window) on generated CR/DX files.

dcmtk is the reference implementation of the PS3.3 C.11 pipeline; we must agree within one grey
level (rounding) for LINEAR and SIGMOID windows, stored and explicit, MONOCHROME1 included.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.waits import WAIT_S
from viewer.cli.main import main
from viewer.dicom import DisplayRenderer, Window, read_image
from viewer.dicom.synthetic import make_cxr

pytestmark = [
    pytest.mark.dcmtk,
    pytest.mark.skipif(shutil.which("dcmj2pnm") is None, reason="dcmtk (dcmj2pnm) not installed"),
]

CASES = [
    ("CR", "MONOCHROME1", 12, {}),
    ("CR", "MONOCHROME2", 12, {}),
    ("DX", "MONOCHROME2", 12, {}),
    ("DX", "MONOCHROME1", 10, {}),
    ("CR", "MONOCHROME2", 12, {"RescaleSlope": 2, "RescaleIntercept": -1000}),
    ("DX", "MONOCHROME1", 16, {}),
]
IDS = ["cr-mono1", "cr-mono2", "dx-mono2", "dx-mono1-10bit", "cr-rescale", "dx-mono1-16bit"]


@pytest.fixture(params=list(zip(CASES, IDS, strict=True)), ids=IDS)
def generated(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    (modality, photometric, bits, extra), name = request.param
    ds = make_cxr(
        11,
        opacity=True,
        modality=modality,
        photometric=photometric,
        size=(200, 160),
        bits_stored=bits,
    )
    for key, value in extra.items():
        setattr(ds, key, value)
    if extra:  # keep the stored window meaningful in modality units
        ds.WindowCenter = [float(c) * 2 - 1000 for c in ds.WindowCenter]
        ds.WindowWidth = [float(w) * 2 for w in ds.WindowWidth]
    path = tmp_path / f"{name}.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def dcmj2pnm(path: Path, out: Path, *options: str) -> np.ndarray:
    subprocess.run(
        ["dcmj2pnm", *options, str(path), str(out)], check=True, capture_output=True, timeout=WAIT_S
    )
    with Image.open(out) as im:
        return np.asarray(im.convert("L")).astype(int)


def ours(path: Path, out: Path, *options: str) -> np.ndarray:
    assert main(["dicom", "render", str(path), "--out", str(out), *options]) == 0
    with Image.open(out) as im:
        return np.asarray(im).astype(int)


def test_explicit_linear_window(generated: Path, tmp_path: Path) -> None:
    image = read_image(generated)
    win = image.auto_window
    c, w = f"{win.center:.3f}", f"{win.width:.3f}"
    ref = dcmj2pnm(generated, tmp_path / "ref.pgm", "+Ww", c, w)
    got = ours(generated, tmp_path / "ours.png", "--window", c, w)
    assert got.shape == ref.shape
    assert np.abs(got - ref).max() <= 1
    assert got.std() > 20  # a real image, not a flat buffer that would match trivially


def test_stored_window(generated: Path, tmp_path: Path) -> None:
    ref = dcmj2pnm(generated, tmp_path / "ref.pgm", "+Wi", "1")
    got = ours(generated, tmp_path / "ours.png", "--preset", "1")
    assert np.abs(got - ref).max() <= 1


def test_sigmoid_window(generated: Path, tmp_path: Path) -> None:
    ref = dcmj2pnm(generated, tmp_path / "ref.pgm", "+Ww", "2000", "1500", "+Wfs")
    image = read_image(generated)
    got = DisplayRenderer(image).render(Window(2000, 1500, "SIGMOID")).astype(int)
    assert np.abs(got - ref).max() <= 1


def test_monochrome1_is_inverted_like_dcmtk(tmp_path: Path) -> None:
    """The same anatomy stored as MONOCHROME1 and MONOCHROME2 displays the same."""
    paths = {}
    for photometric in ("MONOCHROME1", "MONOCHROME2"):
        ds = make_cxr(5, opacity=False, photometric=photometric, size=(128, 128))
        paths[photometric] = tmp_path / f"{photometric}.dcm"
        ds.save_as(paths[photometric], enforce_file_format=True)
    m1 = ours(paths["MONOCHROME1"], tmp_path / "m1.png", "--auto")
    m2 = ours(paths["MONOCHROME2"], tmp_path / "m2.png", "--auto")
    win = read_image(paths["MONOCHROME1"]).auto_window
    ref1 = dcmj2pnm(
        paths["MONOCHROME1"], tmp_path / "r1.pgm", "+Ww", str(win.center), str(win.width)
    )
    assert np.abs(m1 - ref1).max() <= 1
    # Lungs (dark) and spine (bright) agree between the two encodings (the automatic window
    # mirrors with the data).
    assert np.abs(m1 - m2).max() <= 1
    assert m1.std() > 20


@pytest.mark.parametrize(
    ("photometric", "shape"),
    [
        ("MONOCHROME2", "INVERSE"),
        ("MONOCHROME2", "IDENTITY"),
        ("MONOCHROME1", "INVERSE"),
        ("MONOCHROME1", "IDENTITY"),
    ],
    ids=["m2-inverse", "m2-identity", "m1-inverse", "m1-identity"],
)
def test_presentation_lut_shape_like_dcmtk(tmp_path: Path, photometric: str, shape: str) -> None:
    ds = make_cxr(5, opacity=False, photometric=photometric, size=(96, 80))
    ds.PresentationLUTShape = shape
    path = tmp_path / "p.dcm"
    ds.save_as(path, enforce_file_format=True)
    ref = dcmj2pnm(path, tmp_path / "ref.pgm", "+Wi", "1")
    got = ours(path, tmp_path / "ours.png", "--preset", "1")
    assert np.abs(got - ref).max() <= 1
    assert got.std() > 20


@pytest.mark.skipif(shutil.which("dcmdjpeg") is None, reason="dcmtk (dcmdjpeg) not installed")
@pytest.mark.parametrize("name", ["JPGExtended.dcm", "JPEG-lossy.dcm"])
def test_jpeg_extended_12bit_matches_dcmtk(tmp_path: Path, name: str) -> None:
    """Our imagecodecs plugin decodes 12-bit JPEG exactly like dcmtk's libijg12."""
    import pydicom
    import pydicom.data

    src = Path(pydicom.data.__file__).parent / "test_files" / name
    out = tmp_path / "raw.dcm"
    subprocess.run(
        ["dcmdjpeg", str(src), str(out)], check=True, capture_output=True, timeout=WAIT_S
    )
    reference = pydicom.dcmread(out).pixel_array
    assert np.array_equal(read_image(src).stored, reference)
