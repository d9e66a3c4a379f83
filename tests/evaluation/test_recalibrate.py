"""Acceptance (issue 16 item 3): on a simulated site whose true sensitivity at any threshold is
known, the proposed threshold achieves the target in >= 95 % of 200 seeded trials; refused below
the minimum positives.

Each trial draws a site (positives' logits ~ N(1.5, 1), negatives' ~ N(-1.5, 1), score =
sigmoid(logit)) and splits it into two halves: the threshold is derived on one, and the other
(held apart) is scored at it. The true sensitivity at threshold t is P(N(1.5, 1) >= logit(t)),
exactly; the held-apart half's observed sensitivity is reported beside it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from viewer.evaluation.recalibrate import (
    RecalibrationRefusedError,
    propose_threshold,
    required_true_positives,
)
from viewer.evaluation.stats import clopper_pearson_lower

TARGET = 0.95
TRIALS = 200
POSITIVES_PER_HALF = 150
NEGATIVES_PER_HALF = 450


def _true_sensitivity(threshold: float) -> float:
    logit = math.log(threshold / (1.0 - threshold))
    return 0.5 * math.erfc((logit - 1.5) / math.sqrt(2.0))


def _half(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    truth = np.r_[np.ones(POSITIVES_PER_HALF, bool), np.zeros(NEGATIVES_PER_HALF, bool)]
    logits = np.where(truth, rng.normal(1.5, 1.0, truth.size), rng.normal(-1.5, 1.0, truth.size))
    return truth, 1.0 / (1.0 + np.exp(-logits))


def test_recalibration_meets_the_target_in_95_percent_of_200_sites() -> None:
    met_true = met_held = 0
    held_sens = []
    for seed in range(TRIALS):
        rng = np.random.default_rng(seed)
        truth, scores = _half(rng)
        held_truth, held_scores = _half(rng)
        p = propose_threshold(truth, scores, target_sensitivity=TARGET)
        assert p.sensitivity.lower_one_sided >= TARGET
        met_true += _true_sensitivity(p.threshold) >= TARGET
        sens = float((held_scores[held_truth] >= p.threshold).mean())
        held_sens.append(sens)
        met_held += sens >= TARGET
    print(
        f"true sensitivity >= {TARGET} in {met_true}/{TRIALS}; held-apart half observed >= "
        f"{TARGET} in {met_held}/{TRIALS} (mean {np.mean(held_sens):.4f})"
    )
    assert met_true >= 0.95 * TRIALS
    assert np.mean(held_sens) >= TARGET


def _held_apart_met(confidence: float) -> int:
    met = 0
    for seed in range(TRIALS):
        rng = np.random.default_rng(seed)
        truth, scores = _half(rng)
        held_truth, held_scores = _half(rng)
        p = propose_threshold(truth, scores, target_sensitivity=TARGET, confidence=confidence)
        met += float((held_scores[held_truth] >= p.threshold).mean()) >= TARGET
    return met


def test_held_apart_observed_sensitivity_needs_the_stricter_bound() -> None:
    """The held-apart half's *observed* sensitivity carries its own sampling error on top of the
    derivation half's: with the issue's 95 % bound it meets the target in about 93 % of sites
    (186/200 here; about Phi(1.645 / sqrt 2) = 88 % for a continuous score, more with the exact
    bound's conservatism), and a site that wants >= 95 % on its next half sets the 99 % bound
    (``--confidence 0.99``, or the site file), which meets it in 195/200."""
    assert _held_apart_met(0.95) == 186
    assert _held_apart_met(0.99) >= 0.95 * TRIALS


def test_the_proposal_is_the_highest_threshold_meeting_the_target() -> None:
    rng = np.random.default_rng(11)
    truth, scores = _half(rng)
    p = propose_threshold(truth, scores, target_sensitivity=0.9)
    pos = np.sort(scores[truth])[::-1]
    k = int((pos >= p.threshold).sum())
    assert clopper_pearson_lower(k, pos.size) >= 0.9
    above = pos[pos > p.threshold]
    if above.size:  # the next higher candidate fails the target
        assert clopper_pearson_lower(int((pos >= above.min()).sum()), pos.size) < 0.9
    assert p.alert_rate == pytest.approx(float((scores >= p.threshold).mean()))
    assert p.specificity.n == int((~truth).sum())


def test_refused_below_the_minimum_positives() -> None:
    truth = np.r_[np.ones(49, bool), np.zeros(200, bool)]
    scores = np.linspace(0.0, 1.0, truth.size)
    with pytest.raises(RecalibrationRefusedError, match="at least 50"):
        propose_threshold(truth, scores, target_sensitivity=0.9)
    # 50 positives meet the minimum but cannot show 0.95 (needs 59): refused with the reason
    truth = np.r_[np.ones(50, bool), np.zeros(200, bool)]
    with pytest.raises(RecalibrationRefusedError, match="More positive cases"):
        propose_threshold(truth, np.linspace(0, 1, truth.size), target_sensitivity=0.95)
    assert required_true_positives(58, 0.95) is None
    assert required_true_positives(59, 0.95) == 59
