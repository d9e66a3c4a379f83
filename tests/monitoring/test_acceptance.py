"""Issue 15's acceptance for the drift monitor, on simulated streams (numpy, no log):

- false alarms: 200 windows drawn from the reference profile itself raise <= 5 % alerts;
- detection: a +0.1 shift of one label's scores, 30 % of cases from a new manufacturer (windows
  of 600 cases) and an override rate rising from 10 % to 25 % (a window of 200 reads) are flagged;
- the monitor's numbers equal a plain recomputation with scipy on the same rows.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import numpy as np
import pytest
import scipy.stats as ss
from scipy.spatial.distance import jensenshannon

from tests.monitoring.simulate import Drift, Rates, make_profile, simulate
from viewer.monitoring import MonitorConfig, WindowSpec, monitor_model
from viewer.monitoring.monitor import OTHER

END = datetime(2026, 11, 30, tzinfo=UTC)
PROFILE = make_profile()


def _alerts(streams, cases: int) -> set[str]:  # type: ignore[no-untyped-def]
    report = monitor_model(streams, PROFILE, WindowSpec(days=None, cases=cases), end=END)
    return {a.test for a in report.alerts}


def test_false_alarms_at_most_5_percent_of_200_reference_windows() -> None:
    flagged = [bool(_alerts(simulate(PROFILE, seed=10_000 + i), 600)) for i in range(200)]
    rate = sum(flagged) / len(flagged)
    print(f"false-alarm rate: {sum(flagged)}/200 = {rate:.1%}")
    assert rate <= 0.05


@pytest.mark.parametrize(
    ("drift", "cases", "expected"),
    [
        (Drift(score_shift={"effusion": 0.1}), 600, "scores:effusion"),
        (Drift(new_manufacturer=0.3), 600, "category:manufacturer"),
        (Drift(rates=Rates(override=0.25)), 200, "override_rate"),
    ],
    ids=["score_shift_0.1", "new_manufacturer_30pct", "override_10_to_25pct"],
)
def test_drift_flagged_within_one_window(drift: Drift, cases: int, expected: str) -> None:
    hits = 0
    for i in range(20):
        alerts = _alerts(simulate(PROFILE, seed=20_000 + i, window=cases, drift=drift), cases)
        hits += expected in alerts
    print(f"{expected}: flagged in {hits}/20 windows of {cases}")
    assert hits == 20


def test_summary_says_what_changed() -> None:
    streams = simulate(PROFILE, seed=3, drift=Drift(score_shift={"opacity": 0.1}))
    report = monitor_model(streams, PROFILE, WindowSpec(days=None, cases=600), end=END)
    assert any("Scores of 'opacity' have shifted upward" in s for s in report.summary)
    streams = simulate(PROFILE, seed=4, drift=Drift(new_manufacturer=0.3))
    report = monitor_model(streams, PROFILE, WindowSpec(days=None, cases=600), end=END)
    assert any("new manufacturer ('Zenith Medical')" in s for s in report.summary)


def test_numbers_equal_a_plain_scipy_recomputation_on_the_same_rows() -> None:
    streams = simulate(PROFILE, seed=99, drift=Drift(score_shift={"opacity": 0.05}))
    config = MonitorConfig()
    report = monitor_model(streams, PROFILE, WindowSpec(days=None, cases=600), end=END)
    results = {k: v[-600:] for k, v in streams.results.columns.items()}
    openings = {k: v[-600:] for k, v in streams.openings.columns.items()}
    tests = {(t.kind, t.name): t for t in report.tests}
    assert len(tests) == len(PROFILE.scores) + len(PROFILE.categories) + len(PROFILE.numeric)
    m = len(tests)
    for label, hist in PROFILE.scores.items():
        t = tests[("scores", label)]
        v = results[f"score:{label}"]
        v = v[np.isfinite(v)]
        edges = np.asarray(hist.bin_edges)
        idx = np.clip(np.digitize(v, edges), 1, len(edges) - 1)  # all scores lie in 0..1
        ref_idx = np.repeat(np.arange(1, len(edges)), hist.counts)
        d = ss.ks_2samp(idx, ref_idx).statistic
        en = v.size * ref_idx.size / (v.size + ref_idx.size)
        assert t.n == v.size and t.n_reference == ref_idx.size
        assert t.value == pytest.approx(d, abs=1e-12)
        assert t.pvalue == pytest.approx(ss.kstwobign.sf(d * np.sqrt(en)), rel=1e-9)
        win_counts = np.bincount(idx - 1, minlength=len(hist.counts))
        js = jensenshannon(win_counts, hist.counts, base=2)
        assert t.distance == pytest.approx(js, rel=1e-9)
        assert t.mean_shift == pytest.approx(v.mean() - hist.mean())
        assert t.threshold == pytest.approx(config.alpha / m)
        assert t.alert == (t.pvalue < config.alpha / m)
    for tag, ref_counts in PROFILE.categories.items():
        t = tests[("category", tag)]
        seen = Counter(str(x) for x in openings[tag])
        names = t.table["categories"]
        kept = [c for c in names if c != OTHER]
        for name, count in zip(names, t.table["window"], strict=True):
            if name != OTHER:
                assert count == seen[name]
        assert sum(t.table["window"]) == 600 == sum(seen.values())
        pooled_ref = sum(v for k, v in ref_counts.items() if k not in kept)
        if OTHER in names:
            assert t.table["reference"][names.index(OTHER)] == pooled_ref
        stat, p, dof, _ = ss.chi2_contingency(
            np.asarray([t.table["reference"], t.table["window"]]), correction=False
        )
        assert (t.value, t.df) == (pytest.approx(stat, rel=1e-12), dof)
        assert t.pvalue == pytest.approx(p, rel=1e-9, abs=1e-300)
    charts = {c.name: c for c in report.charts}
    for name, column, source in (
        ("positive_rate", "positive", streams.results),
        ("refusal_rate", "refused", streams.results),
        ("override_rate", "overrode", streams.reads),
        ("disagreement_rate", "disagree", streams.reads),
    ):
        col = source.columns[column]
        base, cur = col[:-600], col[-600:]
        base, cur = base[np.isfinite(base)], cur[np.isfinite(cur)]
        chart = charts[name]
        assert chart.center == pytest.approx(base.mean())
        assert chart.current is not None and chart.current.rate == pytest.approx(cur.mean())
        sigma = np.sqrt(base.mean() * (1 - base.mean()) * (1 / cur.size + 1 / base.size))
        assert chart.current.upper == pytest.approx(min(1.0, base.mean() + 3 * sigma))


def test_days_window_and_history() -> None:
    streams = simulate(PROFILE, seed=5, baseline=3000, window=600)
    end = datetime.fromtimestamp(float(streams.reads.time[-1]) + 1.0, UTC)
    report = monitor_model(streams, PROFILE, WindowSpec(days=0.25), end=end)  # 6 h = 360 cases
    assert report.window.results == 360
    override = next(c for c in report.charts if c.name == "override_rate")
    assert override.current is not None
    assert override.baseline_n + override.current.n == 3600  # reads: every read is counted once
    assert len(override.points) == 10  # 9 earlier 6-hour windows (3240 cases) and the current


def test_without_a_reference_monitoring_is_unavailable_but_rates_run() -> None:
    streams = simulate(PROFILE, seed=6, window=200, drift=Drift(rates=Rates(override=0.3)))
    report = monitor_model(streams, None, WindowSpec(days=None, cases=200), end=END)
    assert report.reference == "unavailable" and not report.tests
    assert any("Monitoring unavailable" in n for n in report.notes)
    assert [a.test for a in report.alerts] == ["override_rate"]
    assert report.as_dict()["status"] == "alert"
