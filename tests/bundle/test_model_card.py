"""The model card: one structure from the manifest, rendered as Markdown and as escaped HTML."""

from __future__ import annotations

import re

import pytest

from tests.bundle.conftest import read_members
from viewer.bundle.manifest import Manifest, parse_manifest
from viewer.bundle.model_card import (
    HTML_TEXTS,
    SECTIONS,
    build_card,
    clean,
    html_head,
    render_html,
    render_markdown,
    render_model_card,
)
from viewer.bundle.resources import DEMO_BUNDLE, resource_path

HOSTILE = "<script>alert(1)</script> & \x1b[31mred\x07 \u202egnp.exe\r\nnext|cell"


@pytest.fixture(scope="module")
def demo() -> tuple[Manifest, bytes]:
    members = read_members(resource_path(*DEMO_BUNDLE))
    return parse_manifest(members["manifest.json"]), members["MODEL_CARD.md"]


@pytest.fixture(scope="module")
def hostile(demo: tuple[Manifest, bytes]) -> Manifest:
    m = demo[0]
    label = m.labels[0].model_copy(update={"display_name": HOSTILE, "operating_point": HOSTILE})
    return m.model_copy(
        update={
            "name": HOSTILE,
            "intended_use": HOSTILE,
            "out_of_scope_uses": [HOSTILE],
            "creator": m.creator.model_copy(update={"name": HOSTILE}),
            "labels": [label],
            "training_data": m.training_data.model_copy(update={"sources": [HOSTILE]}),
        }
    )


def test_markdown_is_the_card_signed_into_the_demo_bundle(demo: tuple[Manifest, bytes]) -> None:
    manifest, signed = demo
    card = render_model_card(manifest)
    assert signed.decode("utf-8").startswith(card)  # the creators' notes follow it
    assert [line[3:] for line in card.splitlines() if line.startswith("## ")] == list(
        SECTIONS.values()
    )


def test_html_shows_every_section_in_the_card_order(demo: tuple[Manifest, bytes]) -> None:
    page = render_html(build_card(demo[0]))
    assert re.findall(r"<h3>(.*?)</h3>", page) == list(SECTIONS.values())
    from viewer.inference.postprocess import threshold_text

    stated = threshold_text(demo[0].labels[0].threshold)
    assert stated in page and len(stated) > 4  # the threshold as stored, not rounded to 2 places


def test_html_takes_texts_and_a_choice_of_sections(demo: tuple[Manifest, bytes]) -> None:
    page = render_html(
        build_card(demo[0]),
        texts={"findings": "所見", "threshold": "閾値"},
        sections={"findings", "intended_use"},
        notices=[("Demo <model>", "#8a4b00")],
        facts=[("Installed", "today")],
    )
    assert re.findall(r"<h3>(.*?)</h3>", page) == ["Intended use", "所見"]
    assert "<th>閾値</th>" in page
    assert "<b>Demo &lt;model&gt;</b>" in page
    assert "<td><b>Installed</b>&nbsp;</td><td>today</td>" in page
    assert set(HTML_TEXTS) >= set(SECTIONS)


def test_html_escapes_every_manifest_string(hostile: Manifest) -> None:
    page = render_html(build_card(hostile))
    assert "<script>" not in page
    assert page.count("&lt;script&gt;") >= 7  # title, creator, intended use, scope, label x2, data
    assert "&amp;" in page


@pytest.mark.parametrize("render", ["markdown", "html"])
def test_control_characters_never_reach_the_output(hostile: Manifest, render: str) -> None:
    card = build_card(hostile)
    text = render_markdown(card) if render == "markdown" else render_html(card)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text)
    assert "\ufffd[31mred\ufffd" in text  # the escape is shown as a mark, not swallowed
    assert "\n\nnext" not in text and "\r" not in text


def test_markdown_table_cells_cannot_add_columns(hostile: Manifest) -> None:
    rows = [line for line in render_markdown(build_card(hostile)).splitlines() if "next" in line]
    finding = next(row for row in rows if row.startswith("| <script>"))
    assert finding.count(" | ") == 2 and "next\\|cell" in finding


def test_clean_and_head_for_a_bundle_without_a_readable_manifest() -> None:
    assert clean("a\tb\nc\x00d") == "a b c\ufffdd"
    page = html_head("x<y", "m", "1.0.0", facts=[("Key", "ab\x1bcd"), ("Empty", "")])
    assert "x&lt;y" in page and "ab\ufffdcd" in page and "Empty" not in page
