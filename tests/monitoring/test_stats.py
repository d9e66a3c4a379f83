"""The monitor's statistics equal scipy's (scipy is a test dependency only)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.stats as ss
from scipy.spatial.distance import jensenshannon

from viewer.monitoring import stats


@pytest.mark.parametrize("seed", range(5))
def test_ks_2samp_equals_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.beta(2, 5, 300 + 50 * seed)
    b = np.round(rng.beta(2.2, 5, 900), 2)  # ties, as real scores have
    ours = stats.ks_2samp(a, b)
    ref = ss.ks_2samp(a, b)
    assert ours.statistic == pytest.approx(ref.statistic, abs=1e-15)
    en = a.size * b.size / (a.size + b.size)
    assert ours.pvalue == pytest.approx(ss.kstwobign.sf(ref.statistic * np.sqrt(en)), rel=1e-9)


@pytest.mark.parametrize("x", [0.05, 0.2, 0.5, 0.8, 0.99, 1.0, 1.36, 2.0, 4.0, 9.0])
def test_kolmogorov_sf_equals_scipy(x: float) -> None:
    assert stats.kolmogorov_sf(x) == pytest.approx(ss.kstwobign.sf(x), rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("seed", range(5))
def test_ks_histogram_is_ks_2samp_on_bin_indices(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ref_values = rng.beta(2, 5, 2000)
    edges = np.linspace(0.0, 1.0, 21)
    counts, _ = np.histogram(ref_values, edges)
    window = np.concatenate([rng.beta(2, 4, 600), [-0.5, 1.0, 1.5]])  # outside and on the edge
    ours = stats.ks_histogram(window, edges, counts)
    win_idx = np.searchsorted(edges, window, side="right")
    win_idx[window == edges[-1]] = len(edges) - 1
    ref_idx = np.repeat(np.arange(1, len(edges)), counts)
    ref = ss.ks_2samp(win_idx, ref_idx)
    assert ours.statistic == pytest.approx(ref.statistic, abs=1e-15)
    en = window.size * counts.sum() / (window.size + counts.sum())
    assert ours.pvalue == pytest.approx(ss.kstwobign.sf(ref.statistic * np.sqrt(en)), rel=1e-9)


def test_bin_counts_match_numpy_histogram_inside_the_edges() -> None:
    rng = np.random.default_rng(3)
    v = np.concatenate([rng.random(500), [0.0, 1.0, -1.0, 2.0]])
    edges = np.linspace(0, 1, 11)
    ours = stats.bin_counts(v, edges)
    assert list(ours[1:-1]) == list(np.histogram(v, edges)[0])
    assert (ours[0], ours[-1]) == (1, 1)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 9, 10, 31])
@pytest.mark.parametrize("x", [0.001, 0.5, 3.0, 11.0, 40.0, 250.0, 900.0])
def test_chi2_sf_equals_scipy(df: int, x: float) -> None:
    assert stats.chi2_sf(x, df) == pytest.approx(ss.chi2.sf(x, df), rel=1e-10, abs=1e-300)


@pytest.mark.parametrize(
    "table",
    [
        [[30, 20, 50], [10, 40, 60]],
        [[500, 350, 150, 0], [210, 150, 60, 180]],
        [[70, 30], [55, 45]],
    ],
)
def test_chi2_homogeneity_equals_scipy(table: list[list[int]]) -> None:
    ours = stats.chi2_homogeneity(table[0], table[1])
    stat, p, dof, _ = ss.chi2_contingency(np.asarray(table), correction=False)
    assert ours.statistic == pytest.approx(stat, rel=1e-12)
    assert ours.pvalue == pytest.approx(p, rel=1e-9, abs=1e-300)
    assert ours.df == dof


def test_jensen_shannon_equals_scipy() -> None:
    rng = np.random.default_rng(5)
    for _ in range(10):
        p = rng.integers(0, 50, 22).astype(float)
        q = rng.integers(1, 50, 22).astype(float)
        assert stats.jensen_shannon(p, q) == pytest.approx(jensenshannon(p, q, base=2), rel=1e-9)


def test_bonferroni_and_p_chart() -> None:
    threshold, adjusted = stats.bonferroni([0.001, 0.02, 0.5], 0.03)
    assert threshold == pytest.approx(0.01)
    assert adjusted == pytest.approx([0.003, 0.06, 1.0])
    lim = stats.p_chart(0.1, 200)
    assert lim.sigma == pytest.approx(np.sqrt(0.1 * 0.9 / 200))
    assert (lim.lower, lim.upper) == pytest.approx((0.1 - 3 * lim.sigma, 0.1 + 3 * lim.sigma))
    wide = stats.p_chart(0.1, 200, n_baseline=1000)
    assert wide.sigma == pytest.approx(np.sqrt(0.1 * 0.9 * (1 / 200 + 1 / 1000)))
    assert stats.p_chart(0.001, 50).lower == 0.0


def test_monitoring_runs_without_scipy() -> None:
    """The runtime never imports scipy: block it and run a report."""
    code = (
        "import sys; sys.modules['scipy'] = None\n"
        "from datetime import datetime, UTC\n"
        "from tests.monitoring.simulate import make_profile, simulate\n"
        "from viewer.monitoring import WindowSpec, monitor_model\n"
        "p = make_profile(); s = simulate(p, seed=1, baseline=300, window=100)\n"
        "r = monitor_model(s, p, WindowSpec(days=None, cases=100), end=datetime.now(UTC))\n"
        "assert r.tests, r.notes\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
