"""Locate files under ``resources/`` from a source checkout and from a PyInstaller one-dir build.

A frozen app unpacks data next to the executable (``sys._MEIPASS``); a source checkout keeps
``resources/`` at the repository root, two levels above this file.
"""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """The ``resources`` folder: PyInstaller's ``_MEIPASS/resources`` if frozen, else the repo's."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        candidate = Path(frozen_root) / "resources"
        if candidate.is_dir():
            return candidate
    return Path(__file__).resolve().parents[2] / "resources"


def resource_path(*parts: str) -> Path:
    """A path inside ``resources/`` (it may not exist; callers check)."""
    return resources_dir().joinpath(*parts)


DEMO_PUBLIC_KEY = ("demo", "demo-signing-key.pub.pem")
DEMO_BUNDLE = ("demo", "demo-cxr.bundle")
MANIFEST_SCHEMA = ("schemas", "manifest.schema.json")
