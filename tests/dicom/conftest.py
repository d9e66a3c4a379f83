"""Fixtures for the DICOM tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset

from tests.dicom.helpers import save


@pytest.fixture
def ramp16() -> np.ndarray:
    """64 x 64 uint16 ramp over 0..4095 (12-bit)."""
    return (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) % 4096).astype(np.uint16)


@pytest.fixture
def write(tmp_path: Path):  # type: ignore[no-untyped-def]
    """``write(ds, name="x.dcm") -> Path``."""

    def _write(ds: Dataset, name: str = "img.dcm") -> Path:
        return save(ds, tmp_path / name)

    return _write
