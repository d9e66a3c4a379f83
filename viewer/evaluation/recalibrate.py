"""Choosing a site threshold from local confirmed cases (numpy only).

The proposal is the *highest* threshold whose exact one-sided lower confidence bound
(Clopper-Pearson, default 95 %) of sensitivity on the local positive cases meets the target.
Sensitivity at a threshold t counts positives scoring ``>= t`` (the model's own rule), so the
candidates are the positives' own scores: the proposal is the k-th highest positive score, k the
fewest true positives whose lower bound reaches the target. Because the bound holds with 95 %
confidence, the true sensitivity at the proposed threshold is at least the target in at least
95 % of sites (``tests/evaluation/test_recalibrate.py`` shows it on 200 simulated sites).

Refused (``RecalibrationRefusedError``) below the minimum number of positive cases, and when
even catching every local positive would not show the target (a 95 % bound of 0.95 needs at
least 59 positives).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from viewer.errors import BedsideError
from viewer.evaluation.stats import (
    DEFAULT_MINIMUM_POSITIVES,
    Proportion,
    Record,
    clopper_pearson_lower,
    proportion,
)

__all__ = ["Proposal", "RecalibrationRefusedError", "propose_threshold", "required_true_positives"]


class RecalibrationRefusedError(BedsideError):
    """No site threshold can be proposed from these cases (the message says why)."""


def required_true_positives(positives: int, target: float, confidence: float = 0.95) -> int | None:
    """The fewest true positives of ``positives`` whose lower bound reaches ``target``; None if
    even all of them do not."""
    if positives <= 0 or clopper_pearson_lower(positives, positives, confidence) < target:
        return None
    lo, hi = 0, positives  # invariant: bound(hi) >= target
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if clopper_pearson_lower(mid, positives, confidence) >= target:
            hi = mid
        else:
            lo = mid
    return hi if clopper_pearson_lower(lo, positives, confidence) < target else lo


@dataclass(frozen=True)
class Proposal(Record):
    threshold: float
    target_sensitivity: float
    confidence: float
    cases: int
    positives: int
    negatives: int
    sensitivity: Proportion
    specificity: Proportion
    alert_rate: float


def operating_point(
    truth: ArrayLike, scores: ArrayLike, threshold: float, confidence: float = 0.95
) -> tuple[Proportion, Proportion, float]:
    """Sensitivity, specificity (exact intervals) and alert rate at ``score >= threshold``."""
    t = np.asarray(truth, dtype=bool).reshape(-1)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    flagged = s >= threshold
    sens = proportion(int(np.count_nonzero(flagged & t)), int(t.sum()), confidence)
    spec = proportion(int(np.count_nonzero(~flagged & ~t)), int((~t).sum()), confidence)
    rate = float(flagged.mean()) if s.size else math.nan
    return sens, spec, rate


def propose_threshold(
    truth: ArrayLike,
    scores: ArrayLike,
    *,
    target_sensitivity: float,
    confidence: float = 0.95,
    minimum_positives: int = DEFAULT_MINIMUM_POSITIVES,
) -> Proposal:
    """The highest threshold meeting the target (see the module doc); refusals raise."""
    if not 0.0 < target_sensitivity < 1.0:
        raise RecalibrationRefusedError(
            f"The target sensitivity must be between 0 and 1 (got {target_sensitivity})."
        )
    t = np.asarray(truth, dtype=bool).reshape(-1)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if t.shape != s.shape or not np.isfinite(s).all():
        raise RecalibrationRefusedError("Each local case needs one finite score.")
    positives = int(t.sum())
    if positives < minimum_positives:
        raise RecalibrationRefusedError(
            f"Only {positives} locally confirmed positive case(s); recalibration needs at least "
            f"{minimum_positives}. No threshold is proposed."
        )
    k = required_true_positives(positives, target_sensitivity, confidence)
    if k is None:
        best = clopper_pearson_lower(positives, positives, confidence)
        raise RecalibrationRefusedError(
            f"Even flagging all {positives} local positive cases shows a sensitivity of at least "
            f"{best:.4f} only (one-sided {confidence:.0%} bound), below the target "
            f"{target_sensitivity:g}. More positive cases are needed."
        )
    threshold = float(np.sort(s[t])[::-1][k - 1])
    sens, spec, rate = operating_point(t, s, threshold, confidence)
    return Proposal(
        threshold=threshold,
        target_sensitivity=target_sensitivity,
        confidence=confidence,
        cases=int(s.size),
        positives=positives,
        negatives=int(s.size) - positives,
        sensitivity=sens,
        specificity=spec,
        alert_rate=rate,
    )
