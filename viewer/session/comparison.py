"""Pairs for comparing two models on local decisions (issue 16 item 2, over the rows that exist).

A pair is one image (SOP Instance pseudonym and, where recorded, the pixel digest) with a final
clinician finding on the label and a score by each of the two bundles (the latest row of each
that carries a score: ``ai_result_shown``, ``decision`` or ``amendment``). Shadow rows (item 1)
will add pairs without any change here; until then most logs have none, and the command says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from viewer.session.reading import parse_finding

if TYPE_CHECKING:
    from viewer.audit.events import AuditRecord

__all__ = ["PairedCases", "paired_cases"]

_SCORED = ("ai_result_shown", "decision", "amendment")


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
        if (
            key is None
            or rec.type not in _SCORED
            or rec.score is None
            or rec.threshold is None
            or rec.bundle_digest not in (first_digest, second_digest)
            or (parse_finding(rec.ai_finding) or ("",))[0] != label
        ):
            continue
        scores[(key, rec.bundle_digest)] = (float(rec.score), float(rec.threshold))
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
