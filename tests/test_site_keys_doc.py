"""docs/it-guide.md lists every site.toml key, generated from the settings schema (issue 18)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from tests.packaging_modules import site_keys_doc
from viewer.config import USER_KEYS, SettingsFile, _Section


def _keys(schema: dict[str, Any], prefix: str = "") -> list[str]:
    """Every dotted leaf key of the schema, sections followed through their $ref."""
    out = []
    defs = schema.get("$defs", {})
    for name, spec in schema["properties"].items():
        ref = spec.get("$ref", "")
        target = defs.get(ref.rsplit("/", 1)[-1]) if ref else None
        if target and "properties" in target:
            out += _keys({**target, "$defs": defs}, f"{prefix}{name}.")
        else:
            out.append(f"{prefix}{name}")
    return out


def test_the_guide_holds_the_generated_section() -> None:
    doc = site_keys_doc()
    text = doc.DOC.read_text(encoding="utf-8")
    assert doc.render(text) == text, (
        "docs/it-guide.md is stale: run .venv/bin/python packaging/write_site_keys_doc.py"
    )


def test_every_key_of_the_schema_is_listed_with_who_sets_it() -> None:
    section = site_keys_doc().generated()
    keys = _keys(SettingsFile.model_json_schema())
    assert len(keys) > 20
    for dotted in keys:
        *parents, leaf = dotted.split(".")
        heading = f"### `[{'.'.join(parents)}]`" if parents else "### top level"
        start = section.index(heading)
        rows = section[start:].split("\n### ", 1)[0]
        row = next((r for r in rows.splitlines() if r.startswith(f"| `{leaf}` |")), None)
        assert row is not None, f"{dotted} is missing from the guide"
        assert ("| user (" in row) == (dotted in USER_KEYS), row


def test_a_new_section_appears_without_editing_the_generator() -> None:
    class Extra(_Section):
        """A section another issue adds."""

        colour: str = Field(default="blue", description="The colour of the thing")

    class Wider(SettingsFile):
        extra: Extra = Extra()

    before = site_keys_doc().generated()
    after = site_keys_doc().generated(Wider.model_json_schema(), USER_KEYS)
    assert "### `[extra]`" not in before
    assert '| `colour` | string | "blue" | site | The colour of the thing |' in after
    assert "A section another issue adds." in after
