"""``bedside model history --format pdf``: the signed change records, each verified.

The same table as the audit report's "Change records" section (:func:`report.change_table`),
under the chain's verification result: a failed chain is the full-width red statement of the
audit report, so a record that cannot be relied on is never shown as if it could.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, BinaryIO

from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer

from viewer.audit.change_record import ChangeEntry
from viewer.audit.report import (
    CHANGE_NOTE,
    MARGIN,
    PAGE,
    _kv_table,
    _verification_block,
    change_table,
    para,
    utc,
)
from viewer.audit.verify import VerifyResult
from viewer.keyprint import format_fingerprint

__all__ = ["write_history_pdf"]


def write_history_pdf(
    out: BinaryIO,
    entries: Sequence[ChangeEntry],
    verification: VerifyResult,
    *,
    generated: str,
    app_version: str,
    site_name: str = "",
    model_id: str | None = None,
    installation_key: str | None = None,
) -> None:
    """Write the history PDF to ``out`` (``viewer.outputs.write_atomically`` supplies it)."""
    scope = f"model {model_id}" if model_id else "every model"
    width = PAGE[0] - 2 * MARGIN
    verified = sum(1 for e in entries if e.verified)
    story: list[Any] = [
        para(f"Model change history — {scope}", "title"),
        para(
            f"{site_name or '(site name not configured)'} · Bedside {app_version} · generated "
            f"{utc(generated)}",
            "subtitle",
        ),
        *_verification_block(verification),
        Spacer(1, 6),
        _kv_table(
            [
                ("Change records", f"{len(entries)} ({verified} verified)"),
                ("Audit log", f"{verification.db_path} (log ID {verification.log_id})"),
                (
                    "Installation key (SHA-256)",
                    format_fingerprint(installation_key) if installation_key else "(none here)",
                ),
            ],
            (48 * mm, width - 48 * mm),
        ),
        Spacer(1, 6),
        para(CHANGE_NOTE, "small"),
        Spacer(1, 4),
        change_table(entries) if entries else para("No change records in the audit log."),
    ]
    doc = SimpleDocTemplate(
        out,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"Model change history: {scope}",
        author=f"Bedside {app_version}",
        creator="Bedside model history",
    )
    doc.build(story)
