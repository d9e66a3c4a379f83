"""docs/models.md: the manifest field reference is the schema's (packaging/write_models_doc.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_manifest_fields_in_the_it_guide_are_current() -> None:
    spec = importlib.util.spec_from_file_location(
        "write_models_doc", ROOT / "packaging" / "write_models_doc.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = (ROOT / "docs" / "models.md").read_text(encoding="utf-8")
    assert module.render(text) == text, "run .venv/bin/python packaging/write_models_doc.py"
    for field in ("hidden_outputs", "provenance", "skimage-linear", "bits_stored"):
        assert field in text
