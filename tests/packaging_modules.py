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


@functools.cache
def demo_build() -> ModuleType:
    """``packaging/demo_build.py``: the demo model's trainer."""
    spec = importlib.util.spec_from_file_location("bedside_demo_build", PACKAGING / "demo_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
