"""Refresh ``resources/schemas/manifest.schema.json`` from the Manifest model.

Usage: ``.venv/bin/python packaging/write_manifest_schema.py`` (after changing the manifest or a
preprocessing step). ``tests/bundle/test_manifest.py`` fails while the file is stale.
"""

from __future__ import annotations

from viewer.bundle.manifest import schema_text
from viewer.bundle.resources import MANIFEST_SCHEMA, resource_path


def main() -> None:
    target = resource_path(*MANIFEST_SCHEMA)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(schema_text(), encoding="utf-8")
    print(target)


if __name__ == "__main__":
    main()
