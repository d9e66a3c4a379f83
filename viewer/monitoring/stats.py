"""The drift monitor's statistics in numpy and the standard library (no scipy at run time).

Each function is the textbook formula, checked against scipy in ``tests/monitoring/test_stats.py``
(scipy is a test dependency only):

- :func:`ks_2samp`: the two-sample Kolmogorov-Smirnov statistic ``D = max |F_a - F_b|`` over the
  pooled values (ties handled as scipy does), with the asymptotic Kolmogorov p-value
  ``Q(sqrt(n m / (n + m)) D)`` (:func:`kolmogorov_sf`, scipy's ``kstwobign.sf``).
- :func:`ks_histogram`: the same test against a reference that exists only as a histogram (the
  bundle's ``reference_scores``): both CDFs are compared at the reference's bin edges only, which
  is exactly ``ks_2samp`` on bin indices. No assumption about how values lie inside a bin (model
  scores pile up near 0 and 1; a piecewise-linear CDF would call that drift). The reference counts
  are a sample too, so the effective size is ``n m / (n + m)``, not ``n``.
- :func:`chi2_homogeneity`: Pearson's chi-square on a 2 x k table (reference vs window counts of
  one DICOM category), no continuity correction; p from :func:`chi2_sf` (closed form for integer
  degrees of freedom).
- :func:`jensen_shannon`: the Jensen-Shannon distance (square root of the divergence, base 2, so
  0..1) between two count vectors on the same bins.
- :func:`bonferroni`: the per-test threshold and adjusted p-values of a family.
- :func:`p_chart`: a proportion's control limits ``p ± k sqrt(p (1 - p) / n)``, clipped to 0..1
  (widened by the centre line's own error when it was estimated from a baseline).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "ChiSquare",
    "ControlLimits",
    "KsResult",
    "bonferroni",
    "chi2_homogeneity",
    "chi2_sf",
    "jensen_shannon",
    "kolmogorov_sf",
    "ks_2samp",
    "ks_histogram",
    "p_chart",
]


@dataclass(frozen=True)
class KsResult:
    statistic: float  # D
    pvalue: float
    n: int  # window size
    m: int  # reference size


@dataclass(frozen=True)
class ChiSquare:
    statistic: float
    df: int
    pvalue: float


@dataclass(frozen=True)
class ControlLimits:
    center: float
    lower: float
    upper: float
    sigma: float  # the standard error at this n


def kolmogorov_sf(x: float) -> float:
    """P(K > x) for the Kolmogorov distribution: ``2 sum (-1)^(k-1) exp(-2 k^2 x^2)``.

    For small x the alternating series converges slowly; there the equivalent Jacobi form
    ``1 - sqrt(2 pi)/x sum exp(-(2k-1)^2 pi^2 / (8 x^2))`` is used (both as in Marsaglia,
    Tsang & Wang 2003 / scipy's ``kolmogorov``).
    """
    if not math.isfinite(x) or x <= 0.0:
        return 1.0 if not x > 0.0 else 0.0
    if x < 1.0:
        w = math.sqrt(2.0 * math.pi) / x
        t = math.pi**2 / (8.0 * x * x)
        cdf = w * sum(math.exp(-((2 * k - 1) ** 2) * t) for k in range(1, 8))
        return min(1.0, max(0.0, 1.0 - cdf))
    total = 0.0
    for k in range(1, 101):
        term = math.exp(-2.0 * k * k * x * x)
        total += term if k % 2 else -term
        if term < 1e-300:
            break
    return min(1.0, max(0.0, 2.0 * total))


def _ks_counts(cum_a: FloatArray, n: int, cum_b: FloatArray, m: int) -> KsResult:
    d = float(np.max(np.abs(cum_a / n - cum_b / m))) if n and m else 0.0
    en = n * m / (n + m) if n and m else 0.0
    return KsResult(statistic=d, pvalue=kolmogorov_sf(math.sqrt(en) * d), n=n, m=m)


def ks_2samp(a: npt.ArrayLike, b: npt.ArrayLike) -> KsResult:
    """Two-sample KS between the values ``a`` (the window) and ``b`` (the reference)."""
    x = np.sort(np.asarray(a, dtype=np.float64))
    y = np.sort(np.asarray(b, dtype=np.float64))
    if x.size == 0 or y.size == 0:
        raise ValueError("both samples need at least one value")
    pooled = np.concatenate([x, y])
    cum_a = np.searchsorted(x, pooled, side="right").astype(np.float64)
    cum_b = np.searchsorted(y, pooled, side="right").astype(np.float64)
    return _ks_counts(cum_a, int(x.size), cum_b, int(y.size))


def bin_counts(values: npt.ArrayLike, edges: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Counts of ``values`` in the bins of ``edges`` plus an underflow and an overflow bin
    (``len(edges) + 1`` counts). Bins are ``[e_i, e_i+1)``, the last one closed, as numpy's
    ``histogram``; a value outside the edges is kept in the outer bins, never dropped."""
    v = np.asarray(values, dtype=np.float64)
    e = np.asarray(edges, dtype=np.float64)
    idx = np.searchsorted(e, v, side="right")  # 0: below e0; len(e): at or above the last edge
    idx[v == e[-1]] = len(e) - 1  # the last bin is closed, as np.histogram
    return np.bincount(idx, minlength=len(e) + 1).astype(np.int64)


def ks_histogram(values: npt.ArrayLike, edges: npt.ArrayLike, counts: npt.ArrayLike) -> KsResult:
    """KS between raw ``values`` and a reference histogram (``edges``, ``counts``), compared at
    the bin edges (module doc). Equal to ``ks_2samp`` of the bin indices of both samples."""
    window = bin_counts(values, edges).astype(np.float64)
    ref = np.concatenate([[0.0], np.asarray(counts, dtype=np.float64), [0.0]])
    n, m = int(window.sum()), int(ref.sum())
    if n == 0 or m == 0:
        raise ValueError("both samples need at least one value")
    return _ks_counts(np.cumsum(window), n, np.cumsum(ref), m)


def chi2_sf(x: float, df: int) -> float:
    """P(X > x) for chi-square with integer ``df`` >= 1 (closed form: Poisson sum for even df,
    erfc plus a half-integer series for odd df; terms built in log space)."""
    if df < 1:
        raise ValueError("df must be at least 1")
    if x <= 0.0:
        return 1.0
    h = x / 2.0
    if df % 2 == 0:
        terms = (math.exp(-h + k * math.log(h) - math.lgamma(k + 1)) for k in range(df // 2))
        return min(1.0, sum(terms))
    total = math.erfc(math.sqrt(h))
    for k in range((df - 1) // 2):
        total += math.exp(-h + (k + 0.5) * math.log(h) - math.lgamma(k + 1.5))
    return min(1.0, total)


def chi2_homogeneity(reference: npt.ArrayLike, window: npt.ArrayLike) -> ChiSquare:
    """Pearson chi-square of the 2 x k table ``[reference, window]`` (counts per category);
    columns empty in both rows are left out. Needs at least two non-empty columns."""
    table = np.vstack([np.asarray(reference, np.float64), np.asarray(window, np.float64)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or np.any(table.sum(axis=1) == 0):
        raise ValueError("a chi-square test needs two non-empty rows and two categories")
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    stat = float(np.sum((table - expected) ** 2 / expected))
    df = table.shape[1] - 1
    return ChiSquare(statistic=stat, df=df, pvalue=chi2_sf(stat, df))


def jensen_shannon(p: npt.ArrayLike, q: npt.ArrayLike) -> float:
    """Jensen-Shannon distance (base 2, 0..1) between two non-negative vectors (normalised)."""
    a = np.asarray(p, dtype=np.float64)
    b = np.asarray(q, dtype=np.float64)
    a, b = a / a.sum(), b / b.sum()
    mid = (a + b) / 2.0

    def kl(u: FloatArray, v: FloatArray) -> float:
        mask = u > 0
        return float(np.sum(u[mask] * np.log2(u[mask] / v[mask])))

    return math.sqrt(max(0.0, (kl(a, mid) + kl(b, mid)) / 2.0))


def bonferroni(pvalues: list[float], alpha: float) -> tuple[float, list[float]]:
    """The per-test threshold ``alpha / m`` and the adjusted p-values ``min(1, m p)``."""
    m = max(1, len(pvalues))
    return alpha / m, [min(1.0, p * m) for p in pvalues]


def p_chart(
    center: float, n: int, k_sigma: float = 3.0, *, n_baseline: int | None = None
) -> ControlLimits:
    """Control limits of a proportion over ``n`` cases around the centre line ``center``.

    ``n_baseline``: the centre line was estimated from that many earlier cases (not known in
    advance), so its own sampling error is added: ``sigma^2 = p (1 - p) (1/n + 1/n_baseline)``,
    the standard error of the difference of two proportions. Without it the limits are the
    textbook ``p (1 - p) / n`` (a centre line known exactly)."""
    extra = 1.0 / n_baseline if n_baseline else 0.0
    sigma = math.sqrt(center * (1.0 - center) * (1.0 / n + extra)) if n > 0 else math.inf
    lower = max(0.0, center - k_sigma * sigma)
    upper = min(1.0, center + k_sigma * sigma)
    return ControlLimits(center=center, lower=lower, upper=upper, sigma=sigma)
