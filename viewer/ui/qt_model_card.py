"""The model manager's model card: the bundle's structured card as HTML, in the reader's language.

The card itself (sections, fields, escaping) is ``viewer.bundle.model_card``, the same one
``MODEL_CARD.md`` and ``bedside bundle inspect`` print; this module adds what only the window
knows (install time in the local zone, the signing key, the self-test state, warnings) and the
translated headings. The texts keep the ``QtModelManager`` translation context they always had.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from viewer.bundle.model_card import html_head, render_html
from viewer.keyprint import format_fingerprint
from viewer.session.model_admin import BundleRow
from viewer.ui.i18n import local_time_text

# What the window shows of the card (the signed MODEL_CARD.md has all of it).
SHOWN_SECTIONS = (
    "intended_use",
    "out_of_scope",
    "findings",
    "accepted_inputs",
    "training_data",
    "validation_data",
    "performance",
    "changelog",
)
REFUSED_COLOUR = "#b00020"
DEMO_COLOUR = "#8a4b00"


def card_texts() -> dict[str, str]:
    """Headings, labels and column titles of the card (keys of ``model_card.HTML_TEXTS``)."""
    return {
        "intended_use": QCoreApplication.translate("QtModelManager", "Intended use"),
        "out_of_scope": QCoreApplication.translate(
            "QtModelManager", "Out of scope (do not use for)"
        ),
        "findings": QCoreApplication.translate(
            "QtModelManager", "Findings, thresholds and operating points"
        ),
        "accepted_inputs": QCoreApplication.translate("QtModelManager", "Accepted inputs"),
        "training_data": QCoreApplication.translate("QtModelManager", "Training data"),
        "validation_data": QCoreApplication.translate("QtModelManager", "Validation data"),
        "performance": QCoreApplication.translate(
            "QtModelManager", "Performance (with confidence intervals)"
        ),
        "changelog": QCoreApplication.translate("QtModelManager", "Changelog"),
        "regulatory_status": QCoreApplication.translate("QtModelManager", "Regulatory status"),
        "creator": QCoreApplication.translate("QtModelManager", "Creator"),
        "created": QCoreApplication.translate("QtModelManager", "Created"),
        "licence": QCoreApplication.translate("QtModelManager", "Licence"),
        "architecture": QCoreApplication.translate("QtModelManager", "Architecture"),
        "finding": QCoreApplication.translate("QtModelManager", "Finding"),
        "threshold": QCoreApplication.translate("QtModelManager", "Threshold"),
        "operating_point": QCoreApplication.translate("QtModelManager", "Operating point"),
        "metric": QCoreApplication.translate("QtModelManager", "Metric"),
        "value": QCoreApplication.translate("QtModelManager", "Value"),
        "confidence_interval": QCoreApplication.translate("QtModelManager", "Confidence interval"),
        "dataset": QCoreApplication.translate("QtModelManager", "Data set"),
        "sources": QCoreApplication.translate("QtModelManager", "Sources"),
        "dates": QCoreApplication.translate("QtModelManager", "Dates"),
        "images": QCoreApplication.translate("QtModelManager", "Images"),
        "positives": QCoreApplication.translate("QtModelManager", "Positives"),
        "devices": QCoreApplication.translate("QtModelManager", "Devices"),
    }


def selftest_text(row: BundleRow) -> str:
    """The self-test state as the table and the card show it."""
    if row.selftest == "refused":
        return QCoreApplication.translate("QtModelManager", "REFUSED")
    if row.selftest == "failed":
        return QCoreApplication.translate("QtModelManager", "FAILED")
    if row.checked_now:
        return QCoreApplication.translate("QtModelManager", "Passed (just now)")
    return QCoreApplication.translate("QtModelManager", "Passed at install")


def card_html(row: BundleRow, *, demo: bool) -> str:
    """The row's model card; a refused bundle (no readable manifest) shows what the store knows."""
    notices = []
    if row.problem:
        refused = QCoreApplication.translate("QtModelManager", "This bundle is refused: {reason}")
        notices.append((refused.format(reason=row.problem), REFUSED_COLOUR))
    if demo or "demo" in row.model_id.lower():
        text = QCoreApplication.translate("QtModelManager", "Demo model — NOT for clinical use.")
        notices.append((text, DEMO_COLOUR))
    facts = [
        (
            QCoreApplication.translate("QtModelManager", "Installed"),
            local_time_text(row.installed_at),
        ),
        (
            QCoreApplication.translate("QtModelManager", "Signing key fingerprint"),
            format_fingerprint(row.key_fingerprint),
        ),
        (QCoreApplication.translate("QtModelManager", "Self-test"), selftest_text(row)),
    ]
    if row.card is None:
        title = row.name or row.model_id
        return html_head(title, row.model_id, row.version, notices=notices, facts=facts)
    return render_html(
        row.card,
        texts=card_texts(),
        sections=SHOWN_SECTIONS,
        notices=notices,
        facts=facts,
        time_text=local_time_text,
    )


__all__ = ["card_html", "card_texts", "selftest_text"]
