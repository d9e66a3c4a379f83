"""Test configuration shared by every layer.

Qt runs offscreen, and every test gets its own data dir and site config path so nothing touches
the real home directory or another test's audit log.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QT_QPA_PLATFORM"] = "offscreen"

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    data = tmp_path / "bedside-data"
    data.mkdir()
    monkeypatch.setenv("BEDSIDE_DATA_DIR", str(data))
    site = tmp_path / "site" / "site.toml"
    site.parent.mkdir()
    site.write_text("# empty site file: built-in defaults\n", encoding="utf-8")
    monkeypatch.setenv("BEDSIDE_SITE_CONFIG", str(site))
    yield


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "bedside-data"


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    """The (initially empty) site file; tests overwrite it when they need site settings."""
    return tmp_path / "site" / "site.toml"


@pytest.fixture
def settings():  # type: ignore[no-untyped-def]
    from viewer.config import load_settings

    return load_settings(demo=False)


@pytest.fixture
def demo_settings():  # type: ignore[no-untyped-def]
    from viewer.config import load_settings

    return load_settings(demo=True)


@pytest.fixture
def cxr_path(tmp_path: Path) -> Path:
    from viewer.dicom.synthetic import make_cxr

    path = tmp_path / "cxr.dcm"
    make_cxr(1, opacity=True, size=(256, 256)).save_as(path, enforce_file_format=True)
    return path


@pytest.fixture
def cxr_dir(tmp_path: Path) -> Path:
    from viewer.dicom.synthetic import write_demo_set

    out = tmp_path / "study"
    write_demo_set(out, n=4, seed=3, size=(256, 256))
    return out


@pytest.fixture
def samples_dir() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip("../shared/samples is not present on this machine")
    return SAMPLES
