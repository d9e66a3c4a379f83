"""Scripts under ``packaging/`` (outside the shipped package), imported by path for tests/benches.

``packaging`` is also the name of a PyPI library, so the folder is not importable as a package.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

PACKAGING = Path(__file__).resolve().parents[1] / "packaging"


def _load(name: str, file: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, PACKAGING / file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@functools.cache
def demo_build() -> ModuleType:
    """``packaging/demo_build.py``: the demo model's trainer."""
    return _load("bedside_demo_build", "demo_build.py")


@functools.cache
def site_keys_doc() -> ModuleType:
    """``packaging/write_site_keys_doc.py``: the IT guide's site.toml key reference."""
    return _load("bedside_site_keys_doc", "write_site_keys_doc.py")


@functools.cache
def build_deb() -> ModuleType:
    """``packaging/build_deb.py``: the Debian package of the frozen app."""
    return _load("bedside_build_deb", "build_deb.py")


@functools.cache
def dicom_dictionary() -> ModuleType:
    """``packaging/write_dicom_dictionary.py``: viewer/dicom/dictionary.py from pydicom's."""
    return _load("bedside_dicom_dictionary", "write_dicom_dictionary.py")
