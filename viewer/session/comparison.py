"""Pairs for comparing two models on local decisions (issue 16 item 2, over the rows that exist).

A pair is one image (SOP Instance pseudonym and, where recorded, the pixel digest) with a final
clinician finding on the label and a score by each of the two bundles (the latest row of each
that carries a score: ``ai_result_shown``, ``shadow_result`` (the candidate in shadow mode,
``viewer.session.shadow``), ``decision`` or ``amendment``). A result row scores every label
(``detail.labels_raw``: raw score and threshold), so a label other than the headline pairs too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from viewer.session.reading import parse_finding

if TYPE_CHECKING:
    from viewer.audit.events import AuditRecord

__all__ = ["SCORED_TYPES", "PairedCases", "paired_cases"]

_SCORED = ("ai_result_shown", "shadow_result", "decision", "amendment")
SCORED_TYPES = _SCORED  # the rows to read for :func:`paired_cases`


@dataclass
class PairedCases:
    truth: list[bool] = field(default_factory=list)
    first: list[float] = field(default_factory=list)
    second: list[float] = field(default_factory=list)
    first_threshold: list[float] = field(default_factory=list)
    second_threshold: list[float] = field(default_factory=list)


def _image(rec: AuditRecord) -> tuple[str, str] | None:
    if not rec.sop_pseudonym:
        return None
    return rec.sop_pseudonym, str(rec.detail.get("pixel_sha256") or "")


def _label_score(rec: AuditRecord, label: str) -> tuple[float, float] | None:
    """(raw score, threshold) of ``label`` in one row: a result row's per-label detail, else the
    row's own columns when its finding is that label."""
    for item in rec.detail.get("labels_raw") or ():
        if isinstance(item, dict) and item.get("label") == label:
            score, threshold = item.get("raw_score"), item.get("threshold")
            if isinstance(score, int | float) and isinstance(threshold, int | float):
                return float(score), float(threshold)
    if rec.score is None or rec.threshold is None:
        return None
    if (parse_finding(rec.ai_finding) or ("",))[0] != label:
        return None
    return float(rec.score), float(rec.threshold)


def paired_cases(
    records: Iterable[AuditRecord], *, label: str, first_digest: str, second_digest: str
) -> PairedCases:
    from viewer.audit.stats import effective_decisions

    rows = [r for r in records if r.outcome == "success"]
    truth: dict[tuple[str, str], bool] = {}
    decisions, _ = effective_decisions(rows)
    for rec in sorted(decisions, key=lambda r: r.seq):
        finding, key = parse_finding(rec.clinician_finding), _image(rec)
        if finding is not None and key is not None and finding[0] == label:
            truth[key] = finding[1]
    scores: dict[tuple[tuple[str, str], str], tuple[float, float]] = {}
    for rec in rows:
        key = _image(rec)
        if key is None or rec.type not in _SCORED or rec.bundle_digest is None:
            continue
        if rec.bundle_digest not in (first_digest, second_digest):
            continue
        pair = _label_score(rec, label)
        if pair is not None:
            scores[(key, rec.bundle_digest)] = pair
    out = PairedCases()
    for key, positive in truth.items():
        a, b = scores.get((key, first_digest)), scores.get((key, second_digest))
        if a is None or b is None:
            continue
        out.truth.append(positive)
        out.first.append(a[0])
        out.first_threshold.append(a[1])
        out.second.append(b[0])
        out.second_threshold.append(b[1])
    return out
