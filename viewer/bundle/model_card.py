"""The model card: one structure built from the manifest, rendered as Markdown or as HTML.

Sections follow Mitchell et al., "Model Cards for Model Reporting" (2019), and what the FDA/MHRA/
Health Canada good machine learning practice principles ask to travel with a model: intended
use, data, performance with uncertainty, limitations and the conditions of use.

:func:`build_card` reads the manifest once into :class:`ModelCard` (sections and fields as plain
dataclasses, in the card's order); :func:`render_markdown` writes ``MODEL_CARD.md`` and ``bedside
bundle inspect``, :func:`render_html` the model manager's card. A manifest is input: control
characters (and the bidirectional overrides that reorder text on screen) never reach either output
raw, and the HTML escapes every manifest string.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from viewer.bundle.manifest import DatasetDescription, Manifest
from viewer.errors import printable
from viewer.inference.postprocess import threshold_text

# Section keys in the card's order, with their Markdown headings.
SECTIONS: dict[str, str] = {
    "intended_use": "Intended use",
    "out_of_scope": "Out of scope",
    "findings": "Findings and thresholds",
    "accepted_inputs": "Accepted inputs",
    "preprocessing": "Preprocessing (applied in this order)",
    "training_data": "Training data",
    "validation_data": "Validation data",
    "performance": "Performance",
    "selftest": "Self-test",
    "versions": "Versions",
    "changelog": "Changelog",
}
# Every text :func:`render_html` shows that is not manifest data; a caller passes its own
# (translated) texts for any of these keys.
HTML_TEXTS: dict[str, str] = {
    **SECTIONS,
    "regulatory_status": "Regulatory status",
    "creator": "Creator",
    "created": "Created",
    "licence": "Licence",
    "architecture": "Architecture",
    "finding": "Finding",
    "threshold": "Threshold",
    "operating_point": "Operating point",
    "metric": "Metric",
    "value": "Value",
    "confidence_interval": "Confidence interval",
    "dataset": "Data set",
    "sources": "Sources",
    "dates": "Dates",
    "images": "Images",
    "positives": "Positives",
    "devices": "Devices",
}


def clean(text: object) -> str:
    """Manifest text made safe to show (:func:`viewer.errors.printable`, the one rule for file
    text): line breaks and tabs become a space, other controls and bidi overrides U+FFFD."""
    return printable(text)


@dataclass(frozen=True)
class Fact:
    """One ``label: value`` line (labels are the card's own English words)."""

    label: str
    value: str


@dataclass(frozen=True)
class Finding:
    name: str
    threshold: float
    operating_point: str


@dataclass(frozen=True)
class Performance:
    metric: str
    label: str
    value: float
    ci_low: float
    ci_high: float
    ci_level: float
    ci_method: str
    dataset: str


@dataclass(frozen=True)
class DataSet:
    description: str
    sources: tuple[str, ...]
    dates: str
    count: int
    positives: tuple[tuple[str, int], ...]
    devices: tuple[str, ...]


@dataclass(frozen=True)
class Change:
    version: str
    date: str
    changes: str


@dataclass(frozen=True)
class SelfTest:
    photometric: str
    tolerance: float
    tensor_tolerance: float


@dataclass(frozen=True)
class ModelCard:
    """The manifest as a model card; every string already passed through :func:`clean`."""

    model_id: str
    name: str
    version: str
    regulatory_status: str
    created: str  # UTC, as the manifest states it
    creator: str
    organisation: str
    contact: str
    licence: str
    architecture: str
    in_channels: int
    parameters: int
    weights_sha256: str
    intended_use: str
    out_of_scope: tuple[str, ...]
    findings: tuple[Finding, ...]
    accepted_inputs: tuple[Fact, ...]
    preprocessing: tuple[str, ...]  # each step as compact JSON, in order
    training_data: DataSet
    validation_data: DataSet
    performance: tuple[Performance, ...]
    selftest: SelfTest
    versions: tuple[tuple[str, str], ...]  # library versions at creation, sorted
    changelog: tuple[Change, ...]

    @property
    def creator_text(self) -> str:
        """'name (organisation)'."""
        both = self.creator and self.organisation
        return (
            f"{self.creator} ({self.organisation})" if both else self.creator or self.organisation
        )


def build_card(m: Manifest) -> ModelCard:
    acc = m.accepted_inputs
    accepted = (
        ("Modalities", ", ".join(acc.modalities) or "any"),
        ("Views", ", ".join(acc.views) or "any"),
        ("Body parts", ", ".join(acc.body_parts) or "any"),
        ("Photometric", ", ".join(acc.photometric)),
        ("Bits stored", f"{acc.bits_stored_min}-{acc.bits_stored_max}"),
        ("Pixel spacing (mm)", _range(acc.pixel_spacing_mm_min, acc.pixel_spacing_mm_max)),
        ("Reference check", _reference_text(m)),
    )
    return ModelCard(
        model_id=clean(m.id),
        name=clean(m.name),
        version=clean(m.version),
        regulatory_status=clean(m.regulatory_status),
        created=clean(m.created),
        creator=clean(m.creator.name),
        organisation=clean(m.creator.organisation),
        contact=clean(m.creator.contact),
        licence=clean(m.licence),
        architecture=clean(m.architecture.id),
        in_channels=m.architecture.in_channels,
        parameters=m.weights.parameters,
        weights_sha256=clean(m.weights.sha256),
        intended_use=clean(m.intended_use),
        out_of_scope=tuple(clean(u) for u in m.out_of_scope_uses),
        findings=tuple(
            Finding(clean(lab.display_name or lab.name), lab.threshold, clean(lab.operating_point))
            for lab in m.labels
        ),
        accepted_inputs=tuple(Fact(label, clean(v)) for label, v in accepted),
        preprocessing=tuple(clean(s.model_dump_json(exclude_none=True)) for s in m.preprocessing),
        training_data=_dataset(m.training_data),
        validation_data=_dataset(m.validation_data),
        performance=tuple(
            Performance(
                clean(x.name),
                clean(x.label),
                x.value,
                x.ci_low,
                x.ci_high,
                x.ci_level,
                clean(x.ci_method),
                clean(x.dataset),
            )
            for x in m.metrics
        ),
        selftest=SelfTest(
            clean(m.selftest.photometric), m.selftest.tolerance, m.selftest.tensor_tolerance
        ),
        versions=tuple((clean(k), clean(v)) for k, v in sorted(m.library_versions.items())),
        changelog=tuple(
            Change(clean(c.version), clean(c.date), clean(c.changes)) for c in m.changelog
        ),
    )


def _reference_text(m: Manifest) -> str:
    """The per-image reference check in one sentence (``viewer.inference.ood``)."""
    profile = m.reference_profile
    if profile is None or profile.ood is None:
        return "none (the bundle carries no reference profile)"
    ood = profile.ood
    return (
        f"images whose features lie beyond distance {ood.threshold:.1f} of the {profile.count} "
        f"reference images (their {ood.quantile * 100:g}th percentile, Mahalanobis with "
        "Ledoit-Wolf shrinkage) are refused as unlike the images the model was validated on"
    )


def _range(lo: float | None, hi: float | None) -> str:
    if lo is None and hi is None:
        return "any"
    return f"{lo if lo is not None else '-'} to {hi if hi is not None else '-'}"


def _dataset(d: DatasetDescription) -> DataSet:
    return DataSet(
        description=clean(d.description),
        sources=tuple(clean(s) for s in d.sources),
        dates=clean(d.dates),
        count=d.count,
        positives=tuple((clean(k), v) for k, v in d.positives.items()),
        devices=tuple(clean(x) for x in d.devices),
    )


# -- Markdown (MODEL_CARD.md, `bedside bundle inspect`) -----------------------------------------


def render_model_card(m: Manifest) -> str:
    """``MODEL_CARD.md`` of a manifest (what ``bundle create`` signs into the bundle)."""
    return render_markdown(build_card(m))


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(c: ModelCard) -> str:
    sections: dict[str, list[str]] = {
        "intended_use": [c.intended_use],
        "out_of_scope": [f"- {u}" for u in c.out_of_scope],
        "findings": [
            "| label | threshold | operating point |",
            "|---|---|---|",
            *[
                f"| {_cell(f.name)} | {threshold_text(f.threshold)} | {_cell(f.operating_point)} |"
                for f in c.findings
            ],
        ],
        "accepted_inputs": [f"- {f.label}: {f.value}" for f in c.accepted_inputs],
        "preprocessing": [f"{i}. `{step}`" for i, step in enumerate(c.preprocessing, 1)],
        "training_data": _dataset_markdown(c.training_data),
        "validation_data": _dataset_markdown(c.validation_data),
        "performance": [
            "| metric | label | value | CI | method | dataset |",
            "|---|---|---|---|---|---|",
            *[
                f"| {_cell(x.metric)} | {_cell(x.label)} | {x.value:.3f} | "
                f"{x.ci_low:.3f}-{x.ci_high:.3f} ({x.ci_level:.0%}) | {_cell(x.ci_method)} | "
                f"{_cell(x.dataset)} |"
                for x in c.performance
            ],
        ],
        "selftest": [_selftest_sentence(c.selftest)],
        "versions": [f"- {k}: {v}" for k, v in c.versions],
        "changelog": [f"- {x.version} ({x.date}): {x.changes}" for x in c.changelog],
    }
    lines = [
        f"# {c.name} ({c.model_id} {c.version})",
        "",
        f"**Regulatory status:** {c.regulatory_status}",
        "",
        f"- Created {c.created} by {c.creator} ({c.organisation})"
        + (f", contact {c.contact}" if c.contact else ""),
        f"- Licence: {c.licence}",
        f"- Architecture: {c.architecture}, {c.in_channels} input channel(s), "
        f"{c.parameters:,} parameters",
        f"- Weights SHA-256: {c.weights_sha256}",
        "",
    ]
    for key, title in SECTIONS.items():
        lines += [f"## {title}", "", *sections[key], ""]
    return "\n".join(lines)


def _selftest_sentence(x: SelfTest) -> str:
    return (
        f"A stored {x.photometric} input is rerun at every load; outputs must match within "
        f"{x.tolerance:g} (preprocessed tensor within {x.tensor_tolerance:g})."
    )


def _dataset_markdown(d: DataSet) -> list[str]:
    out = [d.description, "", f"- Sources: {', '.join(d.sources)}", f"- Dates: {d.dates}"]
    out.append(f"- Images: {d.count}")
    if d.positives:
        out.append("- Positives: " + ", ".join(f"{k} {v}" for k, v in d.positives))
    if d.devices:
        out.append(f"- Devices: {', '.join(d.devices)}")
    return out


# -- HTML (the model manager) -------------------------------------------------------------------


def _num(value: float) -> str:
    return f"{value:.3g}"


def render_html(
    c: ModelCard,
    *,
    texts: Mapping[str, str] | None = None,
    sections: Collection[str] | None = None,
    notices: Sequence[tuple[str, str]] = (),
    facts: Sequence[tuple[str, str]] = (),
    time_text: Callable[[str], str] = str,
) -> str:
    """The card as HTML for a rich-text view; every manifest string is escaped.

    ``texts`` replaces any of :data:`HTML_TEXTS` (headings, labels, column titles: a translated
    UI passes its own), ``sections`` limits the sections shown (default: all, in card order),
    ``notices`` are (text, CSS colour) warnings under the title, ``facts`` (label, value) rows the
    caller adds after the card's own facts, and ``time_text`` formats the UTC creation time.
    """
    t = {**HTML_TEXTS, **(texts or {})}
    esc = html.escape
    own = [
        (t["regulatory_status"], c.regulatory_status),
        (t["creator"], c.creator_text),
        (t["created"], time_text(c.created)),
        (t["licence"], c.licence),
        (t["architecture"], c.architecture),
    ]
    parts = [html_head(c.name, c.model_id, c.version, notices=notices, facts=[*own, *facts])]
    bodies: dict[str, Callable[[], str]] = {
        "intended_use": lambda: f"<p>{esc(c.intended_use)}</p>",
        "out_of_scope": lambda: _list_html(c.out_of_scope),
        "findings": lambda: _table_html(
            (t["finding"], t["threshold"], t["operating_point"]),
            [(f.name, threshold_text(f.threshold), f.operating_point) for f in c.findings],
        ),
        "accepted_inputs": lambda: _list_html(
            [f"<b>{esc(f.label)}</b>: {esc(f.value)}" for f in c.accepted_inputs], raw=True
        ),
        "preprocessing": lambda: (
            "<ol>"
            + "".join(f"<li><code>{esc(step)}</code></li>" for step in c.preprocessing)
            + "</ol>"
        ),
        "training_data": lambda: _dataset_html(c.training_data, t),
        "validation_data": lambda: _dataset_html(c.validation_data, t),
        "performance": lambda: _table_html(
            (t["metric"], t["finding"], t["value"], t["confidence_interval"], t["dataset"]),
            [(x.metric, x.label, _num(x.value), _ci(x), x.dataset) for x in c.performance],
        ),
        "selftest": lambda: f"<p>{esc(_selftest_sentence(c.selftest))}</p>",
        "versions": lambda: _list_html([f"{k}: {v}" for k, v in c.versions]),
        "changelog": lambda: _list_html(
            [f"<b>{esc(x.version)}</b> ({esc(x.date)}): {esc(x.changes)}" for x in c.changelog],
            raw=True,
        ),
    }
    for key in (k for k in SECTIONS if sections is None or k in sections):
        parts.append(f"<h3>{esc(t[key])}</h3>")
        parts.append(bodies[key]())
    return "\n".join(parts)


def html_head(
    title: str,
    model_id: str,
    version: str,
    *,
    notices: Sequence[tuple[str, str]] = (),
    facts: Sequence[tuple[str, str]] = (),
) -> str:
    """The card's title, (text, CSS colour) notices and (label, value) facts; also what a card
    shows for a bundle whose manifest cannot be read. Everything escaped, controls cleaned."""
    esc = html.escape
    head = f"{esc(clean(title))} <small>({esc(clean(model_id))} {esc(clean(version))})</small>"
    parts = [f"<h2>{head}</h2>"]
    for text, colour in notices:
        parts.append(f"<p style='color:{esc(colour)}'><b>{esc(clean(text))}</b></p>")
    parts.append("<table cellspacing='0' cellpadding='2'>")
    for name, value in facts:
        if value:
            parts.append(f"<tr><td><b>{esc(name)}</b>&nbsp;</td><td>{esc(clean(value))}</td></tr>")
    parts.append("</table>")
    return "\n".join(parts)


def _ci(x: Performance) -> str:
    """'95% 0.4–0.6 (method)'."""
    return f"{x.ci_level * 100:.0f}% {_num(x.ci_low)}–{_num(x.ci_high)} ({x.ci_method})"


def _list_html(items: Sequence[str], *, raw: bool = False) -> str:
    """``raw``: the items are HTML already (their manifest parts escaped by the caller)."""
    return "<ul>" + "".join(f"<li>{i if raw else html.escape(i)}</li>" for i in items) + "</ul>"


def _table_html(titles: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(x)}</th>" for x in titles)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table border='1' cellspacing='0' cellpadding='3'><tr>{head}</tr>{body}</table>"


def _dataset_html(d: DataSet, t: Mapping[str, str]) -> str:
    esc = html.escape
    facts = (
        (t["sources"], ", ".join(d.sources)),
        (t["dates"], d.dates),
        (t["images"], str(d.count)),
        (t["positives"], "; ".join(f"{k}: {v}" for k, v in d.positives)),
        (t["devices"], ", ".join(d.devices)),
    )
    out = [f"<p>{esc(d.description)}</p>"] if d.description else []
    out.append(_list_html([f"<b>{esc(k)}</b>: {esc(v)}" for k, v in facts if v], raw=True))
    return "".join(out)


__all__ = [
    "HTML_TEXTS",
    "SECTIONS",
    "ModelCard",
    "build_card",
    "clean",
    "html_head",
    "render_html",
    "render_markdown",
    "render_model_card",
]
