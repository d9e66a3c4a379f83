"""The human-readable model card, rendered from the manifest (``MODEL_CARD.md``, ``inspect``).

Sections follow Mitchell et al., "Model Cards for Model Reporting" (2019), and what the FDA/MHRA/
Health Canada good machine learning practice principles ask to travel with a model: intended
use, data, performance with uncertainty, limitations and the conditions of use.
"""

from __future__ import annotations

from viewer.bundle.manifest import Manifest


def render_model_card(m: Manifest) -> str:
    acc = m.accepted_inputs
    lines = [
        f"# {m.name} ({m.id} {m.version})",
        "",
        f"**Regulatory status:** {m.regulatory_status}",
        "",
        f"- Created {m.created} by {m.creator.name} ({m.creator.organisation})"
        + (f", contact {m.creator.contact}" if m.creator.contact else ""),
        f"- Licence: {m.licence}",
        f"- Architecture: {m.architecture.id}, {m.architecture.in_channels} input channel(s), "
        f"{m.weights.parameters:,} parameters",
        f"- Weights SHA-256: {m.weights.sha256}",
        "",
        "## Intended use",
        "",
        m.intended_use,
        "",
        "## Out of scope",
        "",
        *[f"- {u}" for u in m.out_of_scope_uses],
        "",
        "## Findings and thresholds",
        "",
        "| label | threshold | operating point |",
        "|---|---|---|",
        *[
            f"| {lab.display_name or lab.name} | {lab.threshold:.4f} | {lab.operating_point} |"
            for lab in m.labels
        ],
        "",
        "## Accepted inputs",
        "",
        f"- Modalities: {', '.join(m.accepted_inputs.modalities) or 'any'}",
        f"- Views: {', '.join(m.accepted_inputs.views) or 'any'}",
        f"- Body parts: {', '.join(m.accepted_inputs.body_parts) or 'any'}",
        f"- Photometric: {', '.join(m.accepted_inputs.photometric)}",
        f"- Bits stored: {m.accepted_inputs.bits_stored_min}-{m.accepted_inputs.bits_stored_max}",
        f"- Pixel spacing (mm): {_range(acc.pixel_spacing_mm_min, acc.pixel_spacing_mm_max)}",
        "",
        "## Preprocessing (applied in this order)",
        "",
        *[
            f"{i}. `{step.model_dump_json(exclude_none=True)}`"
            for i, step in enumerate(m.preprocessing, 1)
        ],
        "",
        "## Training data",
        "",
        *_dataset(m.training_data),
        "",
        "## Validation data",
        "",
        *_dataset(m.validation_data),
        "",
        "## Performance",
        "",
        "| metric | label | value | CI | method | dataset |",
        "|---|---|---|---|---|---|",
        *[
            f"| {x.name} | {x.label} | {x.value:.3f} | {x.ci_low:.3f}-{x.ci_high:.3f} "
            f"({x.ci_level:.0%}) | {x.ci_method} | {x.dataset} |"
            for x in m.metrics
        ],
        "",
        "## Self-test",
        "",
        f"A stored {m.selftest.photometric} input is rerun at every load; outputs must match "
        f"within {m.selftest.tolerance:g} "
        f"(preprocessed tensor within {m.selftest.tensor_tolerance:g}).",
        "",
        "## Versions",
        "",
        *[f"- {k}: {v}" for k, v in sorted(m.library_versions.items())],
        "",
        "## Changelog",
        "",
        *[f"- {c.version} ({c.date}): {c.changes}" for c in m.changelog],
        "",
    ]
    return "\n".join(lines)


def _range(lo: float | None, hi: float | None) -> str:
    if lo is None and hi is None:
        return "any"
    return f"{lo if lo is not None else '-'} to {hi if hi is not None else '-'}"


def _dataset(d: object) -> list[str]:
    from viewer.bundle.manifest import DatasetDescription

    assert isinstance(d, DatasetDescription)  # noqa: S101 - typing only
    out = [d.description, "", f"- Sources: {', '.join(d.sources)}", f"- Dates: {d.dates}"]
    out.append(f"- Images: {d.count}")
    if d.positives:
        out.append("- Positives: " + ", ".join(f"{k} {v}" for k, v in d.positives.items()))
    if d.devices:
        out.append(f"- Devices: {', '.join(d.devices)}")
    return out
