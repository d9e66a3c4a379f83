"""viewer.evaluation.stats equals an independent recomputation (statsmodels, scipy, definitions).

DeLong is also checked against a published worked example: Hanley & McNeil, Radiology
1982;143:29-36, Table 1 (109 CT images rated 1-5: 58 normal, 51 abnormal), whose area is
published as 0.893; DeLong's variance is recomputed from its definition (the m x n comparison
matrix) and lies near the published Hanley-McNeil standard error 0.032 (another estimator).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
from statsmodels.stats.inter_rater import cohens_kappa as sm_kappa
from statsmodels.stats.proportion import proportion_confint

from viewer.evaluation.compare import compare_paired
from viewer.evaluation.stats import (
    REFERENCE_CAVEAT,
    auc_delong,
    binomial_cdf,
    clopper_pearson,
    clopper_pearson_lower,
    cohens_kappa,
    delong_paired,
    mcnemar,
    noninferiority,
    paired_difference,
)

COUNTS = [(0, 10), (3, 10), (10, 10), (57, 60), (190, 212), (1, 1000), (499, 1000), (50, 50)]


@pytest.mark.parametrize(("x", "n"), COUNTS)
def test_clopper_pearson_equals_statsmodels(x: int, n: int) -> None:
    low, high = clopper_pearson(x, n)
    ref_low, ref_high = proportion_confint(x, n, alpha=0.05, method="beta")
    assert low == pytest.approx(ref_low, rel=1e-9, abs=1e-14)
    assert high == pytest.approx(ref_high, rel=1e-9, abs=1e-14)
    # one-sided 95 % lower bound = the lower end of the two-sided 90 % interval
    one = proportion_confint(x, n, alpha=0.10, method="beta")[0]
    assert clopper_pearson_lower(x, n) == pytest.approx(one, rel=1e-9, abs=1e-14)
    assert binomial_cdf(x, n, 0.3) == pytest.approx(sps.binom.cdf(x, n, 0.3), rel=1e-9, abs=1e-15)


def _pairs(seed: int, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.random(n) < 0.6
    b = np.where(rng.random(n) < 0.8, a, ~a)
    return a, b


@pytest.mark.parametrize("seed", range(5))
def test_mcnemar_and_kappa_equal_statsmodels(seed: int) -> None:
    a, b = _pairs(seed)
    table = [
        [int((a & b).sum()), int((a & ~b).sum())],
        [int((~a & b).sum()), int((~a & ~b).sum())],
    ]
    got = mcnemar(a, b)
    exact = sm_mcnemar(table, exact=True)
    chi = sm_mcnemar(table, exact=False, correction=True)
    assert (got.b, got.c) == (table[0][1], table[1][0])
    assert got.exact_p == pytest.approx(exact.pvalue, rel=1e-10)
    assert got.chi2 == pytest.approx(chi.statistic, rel=1e-12)
    assert got.chi2_p == pytest.approx(chi.pvalue, rel=1e-9)
    assert cohens_kappa(a, b) == pytest.approx(sm_kappa(np.array(table)).kappa, rel=1e-12)


def _delong_by_definition(truth: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    pos, neg = scores[truth], scores[~truth]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    var = v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size
    return float(psi.mean()), float(var)


def test_delong_on_the_published_hanley_mcneil_example() -> None:
    normal = [1] * 33 + [2] * 6 + [3] * 6 + [4] * 11 + [5] * 2
    abnormal = [1] * 3 + [2] * 2 + [3] * 2 + [4] * 11 + [5] * 33
    truth = np.array([False] * 58 + [True] * 51)
    scores = np.array(normal + abnormal, dtype=float)
    got = auc_delong(truth, scores)
    assert got is not None
    assert round(got.auc, 3) == 0.893  # the published area
    auc, var = _delong_by_definition(truth, scores)
    assert got.auc == pytest.approx(auc, abs=1e-14)
    assert got.variance == pytest.approx(var, rel=1e-12)
    assert abs(got.se - 0.032) < 0.002  # Hanley-McNeil's published SE, a close estimator
    assert (got.ci_low, got.ci_high) == pytest.approx(
        (auc - 1.959963984540054 * math.sqrt(var), auc + 1.959963984540054 * math.sqrt(var))
    )


@pytest.mark.parametrize("seed", range(4))
def test_auc_equals_mann_whitney_and_paired_delong_equals_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth = rng.random(250) < 0.3
    a = np.round(rng.normal(truth * 1.0, 1.0), 1)  # ties on purpose
    b = np.round(0.6 * a + rng.normal(truth * 0.5, 0.8), 1)
    got = delong_paired(truth, a, b)
    assert got is not None
    u = sps.mannwhitneyu(a[truth], a[~truth]).statistic
    assert got.first.auc == pytest.approx(u / (truth.sum() * (~truth).sum()), abs=1e-12)
    for res, s in ((got.first, a), (got.second, b)):
        auc, var = _delong_by_definition(truth, s)
        assert res.auc == pytest.approx(auc, abs=1e-12)
        assert res.variance == pytest.approx(var, rel=1e-10)
    pos, neg = truth, ~truth
    pa = (a[pos][:, None] > a[neg][None, :]) + 0.5 * (a[pos][:, None] == a[neg][None, :])
    pb = (b[pos][:, None] > b[neg][None, :]) + 0.5 * (b[pos][:, None] == b[neg][None, :])
    cov = (
        np.cov(pa.mean(1), pb.mean(1))[0, 1] / pos.sum()
        + np.cov(pa.mean(0), pb.mean(0))[0, 1] / neg.sum()
    )
    assert got.covariance == pytest.approx(cov, rel=1e-10)
    z = (got.first.auc - got.second.auc) / math.sqrt(
        got.first.variance + got.second.variance - 2 * cov
    )
    assert got.z == pytest.approx(z, rel=1e-10)
    assert got.p == pytest.approx(2 * sps.norm.sf(abs(z)), rel=1e-9)


def test_paired_difference_and_verdict() -> None:
    a, b = _pairs(7, 120)
    d = paired_difference(a, b)
    assert d is not None
    n, bb, cc = a.size, float((a & ~b).sum()), float((~a & b).sum())
    se = math.sqrt(((bb + cc) - (bb - cc) ** 2 / n) / n**2)
    assert d.ci_low == pytest.approx((bb - cc) / n - sps.norm.ppf(0.975) * se, rel=1e-10)
    few = noninferiority(metric="sensitivity", lower_bound=0.0, margin=0.05, positives=49)
    assert few.verdict == "too_few_positives"
    ok = noninferiority(metric="sensitivity", lower_bound=-0.03, margin=0.05, positives=80)
    bad = noninferiority(metric="sensitivity", lower_bound=-0.08, margin=0.05, positives=80)
    assert (ok.verdict, bad.verdict) == ("non_inferior", "not_shown")


def test_compare_states_the_reference_caveat() -> None:
    rng = np.random.default_rng(3)
    truth = rng.random(400) < 0.25
    a = rng.normal(truth * 1.5, 1)
    b = rng.normal(truth * 1.4, 1)
    out = compare_paired(truth, a, b, candidate_threshold=0.5, reference_threshold=0.5, margin=0.1)
    assert out["reference_standard"] == REFERENCE_CAVEAT
    assert "errors of their own" in REFERENCE_CAVEAT
    assert out["noninferiority"]["verdict"] in ("non_inferior", "not_shown")
    assert out["candidate"]["sensitivity"]["n"] == int(truth.sum())
