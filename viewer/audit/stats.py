"""Per-model-version statistics for the audit report (pure Python, no reportlab).

A decision later corrected by an amendment counts with the amended meaning, finding and reason
(the original row stays in the listing); amendments of rows outside the selection are listed
but not counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from viewer.audit.events import AuditRecord, EventType

NO_REASON = "(no reason given)"


@dataclass
class WeekStats:
    week: str  # ISO week, e.g. 2026-W48
    cases: int = 0
    ai_positive: int = 0
    ai_scored: int = 0
    overrides: int = 0

    @property
    def override_rate(self) -> float | None:
        return self.overrides / self.cases if self.cases else None

    @property
    def ai_positive_rate(self) -> float | None:
        return self.ai_positive / self.ai_scored if self.ai_scored else None


@dataclass
class ModelStats:
    model_id: str
    model_version: str
    bundle_digests: set[str] = field(default_factory=set)
    cases: int = 0
    ai_scored: int = 0
    ai_positive: int = 0
    confirmed: int = 0
    overrode: int = 0
    shown_before_read: int = 0
    amended: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    weeks: dict[str, WeekStats] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.model_id} {self.model_version}".strip() or "(no model)"

    @property
    def ai_positive_rate(self) -> float | None:
        return self.ai_positive / self.ai_scored if self.ai_scored else None

    @property
    def agreement_rate(self) -> float | None:
        return self.confirmed / self.cases if self.cases else None

    @property
    def override_rate(self) -> float | None:
        return self.overrode / self.cases if self.cases else None


def effective_decisions(records: Iterable[AuditRecord]) -> tuple[list[AuditRecord], dict[int, int]]:
    """Decisions with their latest amendment applied, and ``{corrected seq: amending seq}``.

    An amendment may correct a decision or an earlier amendment; either way it applies to the
    original decision.
    """
    decisions: dict[int, AuditRecord] = {}
    root_of: dict[int, int] = {}  # amendment seq -> decision seq
    amended_by: dict[int, int] = {}
    for rec in records:
        if rec.type == EventType.DECISION:
            decisions[rec.seq] = rec
        elif rec.type == EventType.AMENDMENT and rec.corrects is not None:
            amended_by[rec.corrects] = rec.seq
            root = rec.corrects if rec.corrects in decisions else root_of.get(rec.corrects)
            if root is None:
                continue
            root_of[rec.seq] = root
            amended_by[root] = rec.seq
            target = decisions[root]
            decisions[root] = replace(
                target,
                meaning=rec.meaning or target.meaning,
                clinician_finding=rec.clinician_finding or target.clinician_finding,
                reason=rec.reason if rec.reason is not None else target.reason,
            )
    return list(decisions.values()), amended_by


def model_stats(records: Iterable[AuditRecord]) -> list[ModelStats]:
    """One :class:`ModelStats` per model id + version, in first-seen order."""
    decisions, amended_by = effective_decisions(records)
    out: dict[tuple[str, str], ModelStats] = {}
    for rec in decisions:
        key = (rec.model_id or "", rec.model_version or "")
        stats = out.setdefault(key, ModelStats(*key))
        if rec.bundle_digest:
            stats.bundle_digests.add(rec.bundle_digest)
        stats.cases += 1
        iso = rec.when.isocalendar()
        week = f"{iso.year}-W{iso.week:02d}"
        w = stats.weeks.setdefault(week, WeekStats(week))
        w.cases += 1
        positive = rec.ai_positive
        if positive is not None:
            stats.ai_scored += 1
            w.ai_scored += 1
            stats.ai_positive += positive
            w.ai_positive += positive
        if rec.meaning == "confirmed":
            stats.confirmed += 1
        elif rec.meaning == "overrode":
            stats.overrode += 1
            w.overrides += 1
            stats.reasons[(rec.reason or "").strip() or NO_REASON] += 1
        if rec.ai_shown == "before_read":
            stats.shown_before_read += 1
        if rec.seq in amended_by:
            stats.amended += 1
    for stats in out.values():
        stats.weeks = dict(sorted(stats.weeks.items()))
    return list(out.values())
