"""Diagnostic-accuracy statistics on local cases, in numpy only (scipy and statsmodels are the
tests' independent references, never imported here).

- Exact (Clopper-Pearson) binomial intervals: the two-sided interval and the one-sided lower
  bound, found by bisection on the exact binomial tail (log-factorials, summed in log space), so
  they hold for any n without a normal approximation.
- Cohen's kappa from the 2 x 2 table of two raters.
- McNemar's test for two paired binary results: the exact binomial form (two-sided, doubled
  lower tail, capped at 1) and the chi-square form with Edwards' continuity correction
  ``(|b - c| - 1)^2 / (b + c)``, as statsmodels computes them.
- AUC (the Mann-Whitney estimate, ties counted one half) with DeLong, DeLong & Clarke-Pearson's
  (Biometrics 1988;44:837) variance from structural components, computed with midranks as in
  Sun & Xu (IEEE Signal Process Lett 2014;21:1389); the paired form compares two models scored on
  the same cases.
- A non-inferiority verdict: refused below a minimum number of positive cases, otherwise whether
  the lower confidence bound of (candidate - reference model) stays above minus the margin.

Every figure that rests on clinicians' final decisions carries :data:`REFERENCE_CAVEAT`: those
decisions are the local reference standard, not the truth, and they were made with the AI result
in view.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "DEFAULT_MINIMUM_POSITIVES",
    "REFERENCE_CAVEAT",
    "AucResult",
    "McNemarResult",
    "NonInferiority",
    "PairedAuc",
    "PairedDifference",
    "Proportion",
    "auc_delong",
    "binomial_cdf",
    "clopper_pearson",
    "clopper_pearson_lower",
    "cohens_kappa",
    "delong_paired",
    "mcnemar",
    "noninferiority",
    "normal_quantile",
    "paired_difference",
    "proportion",
]

DEFAULT_MINIMUM_POSITIVES = 50

REFERENCE_CAVEAT = (
    "The reference standard here is the clinicians' final decisions recorded in the audit log. "
    "They have errors of their own and were made with an AI result in view, so these figures "
    "measure agreement with local practice, not accuracy against the truth."
)

_BISECT_STEPS = 200


# ----------------------------------------------------------------------------- binomial


def _log_factorials(n: int) -> NDArray[np.float64]:
    out = np.zeros(n + 1, dtype=np.float64)
    if n > 0:
        out[1:] = np.cumsum(np.log(np.arange(1, n + 1, dtype=np.float64)))
    return out


def _log_pmf(n: int, p: float, ks: NDArray[np.int64]) -> NDArray[np.float64]:
    lf = _log_factorials(n)
    out: NDArray[np.float64] = (
        lf[n] - lf[ks] - lf[n - ks] + ks * math.log(p) + (n - ks) * math.log1p(-p)
    )
    return out


def _sum_exp(values: NDArray[np.float64]) -> float:
    if values.size == 0:
        return 0.0
    top = float(values.max())
    return math.exp(top) * float(np.exp(values - top).sum())


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), exact."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    lower = _log_pmf(n, p, np.arange(0, k + 1, dtype=np.int64))
    upper = _log_pmf(n, p, np.arange(k + 1, n + 1, dtype=np.int64))
    # sum the smaller side for precision
    if lower.max() <= upper.max():
        return min(1.0, _sum_exp(lower))
    return max(0.0, 1.0 - _sum_exp(upper))


def _tail_ge(x: int, n: int, p: float) -> float:
    """P(X >= x), exact."""
    if x <= 0:
        return 1.0
    if x > n or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    return min(1.0, _sum_exp(_log_pmf(n, p, np.arange(x, n + 1, dtype=np.int64))))


def _bisect(f: Any, lo: float, hi: float) -> float:
    """The root of an increasing ``f`` on [lo, hi] (f(lo) <= 0 <= f(hi))."""
    for _ in range(_BISECT_STEPS):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if f(mid) < 0.0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _check_counts(x: int, n: int) -> None:
    if n < 0 or x < 0 or x > n:
        raise ValueError(f"need 0 <= successes <= n, got {x} of {n}")


def _lower(x: int, n: int, alpha: float) -> float:
    if x == 0:
        return 0.0
    return _bisect(lambda p: _tail_ge(x, n, p) - alpha, 0.0, x / n)


def _upper(x: int, n: int, alpha: float) -> float:
    if x == n:
        return 1.0
    return _bisect(lambda p: alpha - binomial_cdf(x, n, p), x / n, 1.0)


def clopper_pearson(x: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The exact two-sided interval for a proportion x/n (each tail (1 - confidence) / 2)."""
    _check_counts(x, n)
    if n == 0:
        return (0.0, 1.0)
    alpha = (1.0 - confidence) / 2.0
    return (_lower(x, n, alpha), _upper(x, n, alpha))


def clopper_pearson_lower(x: int, n: int, confidence: float = 0.95) -> float:
    """The exact one-sided lower confidence bound for a proportion x/n."""
    _check_counts(x, n)
    if n == 0:
        return 0.0
    return _lower(x, n, 1.0 - confidence)


class Record:
    """A result that reports itself as plain JSON-ready data (``as_dict``)."""

    def as_dict(self) -> dict[str, Any]:
        values: dict[str, Any] = asdict(self)  # type: ignore[call-overload]  # dataclasses only
        return values


@dataclass(frozen=True)
class Proportion(Record):
    """``successes`` of ``n`` with its exact intervals (None estimate when n is 0)."""

    successes: int
    n: int
    estimate: float | None
    ci_low: float
    ci_high: float
    lower_one_sided: float
    confidence: float


def proportion(x: int, n: int, confidence: float = 0.95) -> Proportion:
    low, high = clopper_pearson(x, n, confidence)
    return Proportion(
        successes=int(x),
        n=int(n),
        estimate=(x / n) if n else None,
        ci_low=low,
        ci_high=high,
        lower_one_sided=clopper_pearson_lower(x, n, confidence),
        confidence=confidence,
    )


# ----------------------------------------------------------------------------- normal


def _normal_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def normal_quantile(q: float) -> float:
    """The standard normal quantile (bisection on erfc; exact to double precision)."""
    if not 0.0 < q < 1.0:
        raise ValueError("quantile level must be in (0, 1)")
    return _bisect(lambda z: (1.0 - _normal_sf(z)) - q, -40.0, 40.0)


# ----------------------------------------------------------------------------- agreement


def _bools(values: ArrayLike) -> NDArray[np.bool_]:
    return np.asarray(values, dtype=bool).reshape(-1)


def cohens_kappa(a: ArrayLike, b: ArrayLike) -> float | None:
    """Cohen's kappa of two binary raters; None when chance agreement is total (undefined)."""
    x, y = _bools(a), _bools(b)
    if x.shape != y.shape:
        raise ValueError("the two raters must rate the same cases")
    n = x.size
    if n == 0:
        return None
    observed = float(np.count_nonzero(x == y)) / n
    pa, pb = float(x.mean()), float(y.mean())
    expected = pa * pb + (1.0 - pa) * (1.0 - pb)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


@dataclass(frozen=True)
class McNemarResult(Record):
    """Discordant pairs ``b`` (first yes, second no) and ``c`` (first no, second yes)."""

    b: int
    c: int
    exact_p: float
    chi2: float
    chi2_p: float


def mcnemar(first: ArrayLike, second: ArrayLike) -> McNemarResult:
    """McNemar's test of two paired binary results on the same cases."""
    x, y = _bools(first), _bools(second)
    if x.shape != y.shape:
        raise ValueError("McNemar's test needs paired results")
    b = int(np.count_nonzero(x & ~y))
    c = int(np.count_nonzero(~x & y))
    n = b + c
    if n == 0:
        return McNemarResult(b=0, c=0, exact_p=1.0, chi2=0.0, chi2_p=1.0)
    exact = min(1.0, 2.0 * binomial_cdf(min(b, c), n, 0.5))
    chi2 = (abs(b - c) - 1.0) ** 2 / n
    return McNemarResult(b=b, c=c, exact_p=exact, chi2=chi2, chi2_p=math.erfc(math.sqrt(chi2 / 2)))


@dataclass(frozen=True)
class PairedDifference(Record):
    """Difference of two paired proportions (first - second) with a Wald interval."""

    difference: float
    ci_low: float
    ci_high: float
    n: int


def paired_difference(
    first: ArrayLike, second: ArrayLike, confidence: float = 0.95
) -> PairedDifference | None:
    """(p1 - p2) for paired binary results, Wald interval with the paired variance
    ``((b + c) - (b - c)^2 / n) / n^2`` (Agresti, Categorical Data Analysis, 10.1)."""
    x, y = _bools(first), _bools(second)
    n = x.size
    if n == 0:
        return None
    b = float(np.count_nonzero(x & ~y))
    c = float(np.count_nonzero(~x & y))
    diff = (b - c) / n
    var = max(0.0, ((b + c) - (b - c) ** 2 / n) / n**2)
    z = normal_quantile(0.5 + confidence / 2.0)
    half = z * math.sqrt(var)
    return PairedDifference(difference=diff, ci_low=diff - half, ci_high=diff + half, n=n)


# ----------------------------------------------------------------------------- AUC


def _midranks(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """1-based ranks, ties given their average rank."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts).astype(np.float64)
    mid = ends - (counts - 1) / 2.0
    out: NDArray[np.float64] = mid[inverse]
    return out


def _placements(
    truth: NDArray[np.bool_], scores: NDArray[np.float64]
) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
    """AUC and DeLong's structural components V10 (per positive) and V01 (per negative)."""
    pos, neg = scores[truth], scores[~truth]
    m, n = pos.size, neg.size
    combined = _midranks(np.concatenate([pos, neg]))
    v10 = (combined[:m] - _midranks(pos)) / n
    v01 = 1.0 - (combined[m:] - _midranks(neg)) / m
    return float(v10.mean()), v10, v01


def _prepare(truth: ArrayLike, scores: ArrayLike) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    t = _bools(truth)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if t.shape != s.shape:
        raise ValueError("one score per case")
    if not np.isfinite(s).all():
        raise ValueError("scores must be finite")
    return t, s


@dataclass(frozen=True)
class AucResult(Record):
    auc: float
    variance: float
    se: float
    ci_low: float
    ci_high: float
    positives: int
    negatives: int
    confidence: float
    method: str = "DeLong"


def _auc(
    t: NDArray[np.bool_], s: NDArray[np.float64], confidence: float
) -> tuple[AucResult, NDArray[np.float64], NDArray[np.float64]] | None:
    """:func:`auc_delong` on prepared arrays, with its structural components (the paired test
    needs them too)."""
    m, n = int(t.sum()), int((~t).sum())
    if m < 2 or n < 2:
        return None
    auc, v10, v01 = _placements(t, s)
    var = float(v10.var(ddof=1)) / m + float(v01.var(ddof=1)) / n
    se = math.sqrt(max(var, 0.0))
    z = normal_quantile(0.5 + confidence / 2.0)
    result = AucResult(
        auc=auc,
        variance=var,
        se=se,
        ci_low=max(0.0, auc - z * se),
        ci_high=min(1.0, auc + z * se),
        positives=m,
        negatives=n,
        confidence=confidence,
    )
    return result, v10, v01


def auc_delong(truth: ArrayLike, scores: ArrayLike, confidence: float = 0.95) -> AucResult | None:
    """AUC with DeLong's variance and a Wald interval clipped to [0, 1]; None unless both
    classes are present (and DeLong's variance needs two of each)."""
    found = _auc(*_prepare(truth, scores), confidence)
    return found[0] if found else None


@dataclass(frozen=True)
class PairedAuc(Record):
    """Two models' AUCs on the same cases; ``difference`` is first - second."""

    first: AucResult
    second: AucResult
    difference: float
    covariance: float
    se: float
    z: float | None
    p: float | None
    ci_low: float
    ci_high: float


def delong_paired(
    truth: ArrayLike, first: ArrayLike, second: ArrayLike, confidence: float = 0.95
) -> PairedAuc | None:
    """DeLong's test for two correlated AUCs (same cases, same reference)."""
    t, a = _prepare(truth, first)
    _, b = _prepare(truth, second)
    found_a, found_b = _auc(t, a, confidence), _auc(t, b, confidence)
    if found_a is None or found_b is None:
        return None
    (one, a10, a01), (two, b10, b01) = found_a, found_b
    m, n = one.positives, one.negatives
    cov = float(np.cov(a10, b10)[0, 1]) / m + float(np.cov(a01, b01)[0, 1]) / n
    var = one.variance + two.variance - 2.0 * cov
    se = math.sqrt(max(var, 0.0))
    diff = one.auc - two.auc
    z = diff / se if se > 0 else None
    p = math.erfc(abs(z) / math.sqrt(2.0)) if z is not None else None
    q = normal_quantile(0.5 + confidence / 2.0)
    return PairedAuc(
        first=one,
        second=two,
        difference=diff,
        covariance=cov,
        se=se,
        z=z,
        p=p,
        ci_low=diff - q * se,
        ci_high=diff + q * se,
    )


# ----------------------------------------------------------------------------- verdict

Verdict = Literal["non_inferior", "not_shown", "too_few_positives", "no_margin"]


@dataclass(frozen=True)
class NonInferiority(Record):
    verdict: Verdict
    metric: str
    margin: float | None
    lower_bound: float | None
    positives: int
    minimum_positives: int
    text: str


def noninferiority(
    *,
    metric: str,
    lower_bound: float | None,
    margin: float | None,
    positives: int,
    minimum_positives: int = DEFAULT_MINIMUM_POSITIVES,
) -> NonInferiority:
    """The verdict on (candidate - reference model) for ``metric``: non-inferior when the lower
    confidence bound of the difference is above ``-margin``; no verdict below the minimum number
    of positive cases or without a declared margin."""

    def make(verdict: Verdict, text: str) -> NonInferiority:
        return NonInferiority(
            verdict=verdict,
            metric=metric,
            margin=margin,
            lower_bound=lower_bound,
            positives=positives,
            minimum_positives=minimum_positives,
            text=text,
        )

    if positives < minimum_positives:
        return make(
            "too_few_positives",
            f"No verdict: {positives} positive case(s), fewer than the {minimum_positives} "
            "required.",
        )
    if margin is None:
        return make("no_margin", "No verdict: no non-inferiority margin is declared.")
    if lower_bound is None:
        return make("not_shown", f"Non-inferiority not shown: the {metric} cannot be compared.")
    if lower_bound > -margin:
        return make(
            "non_inferior",
            f"Non-inferior in {metric}: the lower bound of the difference ({lower_bound:+.4f}) is "
            f"above the margin (-{margin:g}).",
        )
    return make(
        "not_shown",
        f"Non-inferiority in {metric} not shown: the lower bound of the difference "
        f"({lower_bound:+.4f}) does not clear the margin (-{margin:g}).",
    )
