"""The synthetic generator writes valid DICOM whose stored window shows the same anatomy for
MONOCHROME1 and MONOCHROME2 (the window applies to stored values, before the inversion)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from viewer.dicom import read_image, render
from viewer.dicom.synthetic import make_cxr, write_demo_set


@pytest.mark.parametrize("modality", ["CR", "DX"])
def test_monochrome1_displays_like_monochrome2(modality: str, tmp_path: Path) -> None:
    shown = []
    for photometric in ("MONOCHROME2", "MONOCHROME1"):
        path = tmp_path / f"{photometric}.dcm"
        ds = make_cxr(5, opacity=False, modality=modality, photometric=photometric, size=(128, 128))  # type: ignore[arg-type]
        ds.save_as(path, enforce_file_format=True)
        shown.append(render(read_image(path)).astype(np.int16))
    assert np.abs(shown[0] - shown[1]).max() <= 1
    # The anatomy spans the grey range: dark lungs and bright bone both present.
    assert shown[0].min() < 40 and shown[0].max() > 215


def test_demo_set_is_valid_dicom_with_fake_patients(tmp_path: Path) -> None:
    paths = write_demo_set(tmp_path, n=4, seed=1, size=(64, 64))
    assert [p.name for p in paths] == ["SYN0000.dcm", "SYN0001.dcm", "SYN0002.dcm", "SYN0003.dcm"]
    seen = set()
    for path in paths:
        ds = pydicom.dcmread(path)
        assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
        assert str(ds.PatientName).startswith("SYNTHETIC^DEMO")
        assert ds.pixel_array.shape == (64, 64)
        assert int(ds.pixel_array.max()) <= (1 << ds.BitsStored) - 1
        seen.add(ds.SOPInstanceUID)
    assert len(seen) == 4


def test_generation_is_deterministic() -> None:
    a = make_cxr(9, opacity=True, size=(64, 64))
    b = make_cxr(9, opacity=True, size=(64, 64))
    assert a.PixelData == b.PixelData and a.SOPInstanceUID == b.SOPInstanceUID
    assert make_cxr(10, opacity=True, size=(64, 64)).PixelData != a.PixelData


def test_demo_set_into_a_file_is_a_clear_error(tmp_path: Path) -> None:
    from viewer.errors import BedsideError

    target = tmp_path / "taken"
    target.write_text("x")
    with pytest.raises(BedsideError, match="is a file, not a folder"):
        write_demo_set(target, n=1, size=(32, 32))
