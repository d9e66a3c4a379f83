"""The site drift monitor: one window of one model version's rows against its reference.

What is tested, and why these defaults (issue 15, item 3; CheXstray, Evidently, NannyML):

- **Scores** (per label): KS against the reference histogram, compared at its bin edges
  (:func:`~viewer.monitoring.stats.ks_histogram`), and the Jensen-Shannon distance on the same
  bins as the size of the change; the mean shift gives its direction.
- **Input mix** (per DICOM category: View Position, Manufacturer, Photometric Interpretation,
  Patient Sex, Bits Stored): Pearson chi-square of reference vs window counts. Categories too
  rare for the chi-square approximation (expected count below 5 in either row) are pooled into
  ``(other)``; a category the reference never saw is kept as long as it is common in the window,
  which is what a new manufacturer looks like.
- **Numeric tags** (Rows, Columns, Pixel Spacing): KS against their reference histograms.
- All of these are one family per window: Bonferroni at ``alpha`` (default 0.01). 0.01 and not
  the usual 0.05 because the window moves every day: 0.05 would mean a false alarm every few
  weeks on a site that has not changed at all.
- **Rates** as p-charts with ``k_sigma`` (3) limits: AI-positive rate, refusal rate,
  out-of-distribution refusal rate, override rate and own-read/AI disagreement. No ground truth
  reaches a workstation and the bundle states no expected override rate, so the centre line is
  the site's own rate before the window (at least ``min_baseline`` cases); earlier windows of the
  same size are the chart's history. The limits include the centre line's own sampling error
  (``p (1 - p) (1/n + 1/n_baseline)``): a centre estimated from 3,000 cases is not exact. A
  rate that was never seen (0 of n) is centred on half a case (0.5 / n), so one event is not an
  alarm.
- A test runs only with ``min_cases`` values in the window; fewer is reported, not tested.

Without a reference profile the score, mix and tag tests are "unavailable" (said so in the
report); the rate charts need only the site's own history and still run.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from viewer.monitoring import stats
from viewer.monitoring.cases import ModelStreams, Stream
from viewer.monitoring.profile import CATEGORY_TAGS, NUMERIC_TAGS, Histogram, ReferenceProfile

__all__ = [
    "MESSAGES",
    "Alert",
    "Chart",
    "ChartPoint",
    "DriftTest",
    "ModelReport",
    "MonitorConfig",
    "Sentence",
    "WindowSpec",
    "monitor_model",
]

DAY_S = 86_400.0
OTHER = "(other)"

RATES: dict[str, tuple[str, str, str]] = {
    # chart -> (stream, column, wording)
    "positive_rate": ("results", "positive", "AI-positive rate"),
    "refusal_rate": ("results", "refused", "refusal rate"),
    "ood_rate": ("results", "ood", "out-of-distribution refusal rate"),
    "override_rate": ("reads", "overrode", "override rate"),
    "disagreement_rate": ("reads", "disagree", "own-read / AI disagreement"),
}


MAX_WINDOW_DAYS = 36_525  # 100 years: further back than any audit log, and within datetime's range


@dataclass(frozen=True)
class WindowSpec:
    """The last ``days`` days before the report's end, or the last ``cases`` rows of each
    stream (results, openings, reads)."""

    days: float | None = 30.0
    cases: int | None = None

    @classmethod
    def parse(cls, text: str) -> WindowSpec:
        """``30d`` (days, at most :data:`MAX_WINDOW_DAYS`) or ``600`` (cases)."""
        t = text.strip().lower()
        try:
            value = float(t[:-1]) if t.endswith("d") else int(t)
        except ValueError:
            value = 0
        if t.endswith("d") and value > MAX_WINDOW_DAYS:
            raise ValueError(
                f"'{text}' is a longer window than {MAX_WINDOW_DAYS:,} days (100 years); for the "
                "whole log give a number of cases"
            )
        if value > 0 and t.endswith("d"):  # NaN fails both comparisons
            return cls(days=float(value))
        if value > 0:
            return cls(days=None, cases=int(value))
        raise ValueError(f"'{text}' is not a window (use e.g. 30d for days or 600 for cases)")

    def describe(self) -> str:
        if self.cases is not None:
            return f"last {self.cases} cases"
        return f"last {self.days:g} days"


@dataclass(frozen=True)
class MonitorConfig:
    alpha: float = 0.01
    k_sigma: float = 3.0
    min_cases: int = 30
    min_baseline: int = 100
    history: int = 12


@dataclass(frozen=True)
class WindowInfo:
    start: str | None  # UTC ISO, None for an empty window
    end: str | None
    results: int
    openings: int
    reads: int


@dataclass
class DriftTest:
    """One distribution test of the window against the reference."""

    kind: str  # "scores" | "category" | "numeric"
    name: str  # label or tag
    statistic: str  # "ks" | "chi2"
    value: float
    pvalue: float
    n: int
    n_reference: int
    df: int | None = None
    distance: float | None = None  # Jensen-Shannon (scores, numeric)
    mean_shift: float | None = None  # window mean minus reference mean (scores, numeric)
    threshold: float = 0.0  # Bonferroni per-test threshold
    p_adjusted: float = 1.0
    alert: bool = False
    table: dict[str, Any] = field(default_factory=dict)  # bins or categories with both counts


@dataclass(frozen=True)
class ChartPoint:
    start: str
    end: str
    n: int
    rate: float | None
    lower: float | None
    upper: float | None
    out: bool


@dataclass
class Chart:
    name: str
    wording: str
    center: float | None
    baseline_n: int
    points: list[ChartPoint]  # history, then the current window last
    current: ChartPoint | None
    alert: bool
    note: str = ""


@dataclass(frozen=True)
class Alert:
    """What a ``monitor_alert`` audit row records."""

    test: str  # e.g. "scores:opacity", "category:manufacturer", "override_rate"
    statistic: str  # "ks" | "chi2" | "p_chart"
    value: float
    threshold: float
    window: dict[str, Any]
    message: str
    code: str = ""  # the sentence's MESSAGES code (the window translates it)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModelReport:
    model_id: str
    model_version: str
    reference: str  # where the profile came from, or "unavailable"
    window: WindowInfo
    tests: list[DriftTest]
    charts: list[Chart]
    refusals_by_reason: dict[str, int]
    alerts: list[Alert]
    summary: list[str]  # the English text of ``sentences``
    notes: list[str]
    sentences: list[Sentence] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.alerts:
            return "alert"
        return "unavailable" if self.reference == "unavailable" else "ok"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["status"] = self.status
        out["model"] = f"{self.model_id} {self.model_version}".strip()
        clean: dict[str, Any] = _finite(out)
        return clean


def _finite(value: Any) -> Any:
    """NaN and infinities are not JSON: None instead."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


_FIRST_S = datetime(1, 1, 1, tzinfo=UTC).timestamp()


def _iso(seconds: float) -> str:
    """UTC ISO text of a time; a window reaching back before year 1 (``--end 0001-01-10``)
    starts at year 1, where the log cannot hold a row anyway."""
    return datetime.fromtimestamp(max(seconds, _FIRST_S), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ----------------------------------------------------------------------------- windows


@dataclass(frozen=True)
class _Span:
    start: float
    end: float


def _split(
    stream: Stream, spec: WindowSpec, end: float, history: int
) -> tuple[Stream, Stream, list[tuple[_Span, Stream]]]:
    """(current window, baseline before it, earlier windows of the same size, oldest first)."""
    if spec.cases is not None:
        n = spec.cases
        before = stream.take(slice(0, max(0, len(stream) - n)))
        current = stream.take(slice(max(0, len(stream) - n), len(stream)))
        chunks: list[tuple[_Span, Stream]] = []
        stop = len(before)
        while stop > 0 and len(chunks) < history:
            start = max(0, stop - n)
            part = before.take(slice(start, stop))
            chunks.append((_Span(float(part.time[0]), float(part.time[-1])), part))
            stop = start
        return current, before, chunks[::-1]
    days = float(spec.days or 30.0) * DAY_S
    since = end - days
    current = stream.take((stream.time >= since) & (stream.time <= end))
    before = stream.take(stream.time < since)
    chunks = []
    for j in range(1, history + 1):
        lo, hi = end - (j + 1) * days, end - j * days
        if before.time.size == 0 or hi <= before.time[0]:
            break
        chunks.append((_Span(lo, hi), before.take((before.time >= lo) & (before.time < hi))))
    return current, before, chunks[::-1]


# ----------------------------------------------------------------------------- tests


def _mean(v: npt.NDArray[Any]) -> float:
    """The mean; values near the float limit overflow it to infinity (reported as unknown)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.mean(v)) if v.size else math.nan


def _histogram_test(kind: str, name: str, values: npt.NDArray[Any], ref: Histogram) -> DriftTest:
    v = values[np.isfinite(values)]
    ks = stats.ks_histogram(v, ref.bin_edges, ref.counts)
    window = stats.bin_counts(v, ref.bin_edges)
    reference = np.concatenate([[0], np.asarray(ref.counts, dtype=np.int64), [0]])
    keep = (window + reference) > 0
    return DriftTest(
        kind=kind,
        name=name,
        statistic="ks",
        value=ks.statistic,
        pvalue=ks.pvalue,
        n=ks.n,
        n_reference=ks.m,
        distance=stats.jensen_shannon(window[keep], reference[keep]),
        mean_shift=_mean(v) - ref.mean(),
        table={
            "bin_edges": [-math.inf, *ref.bin_edges, math.inf],
            "window": [int(c) for c in window],
            "reference": [int(c) for c in reference],
        },
    )


def category_table(
    reference: dict[str, int], values: npt.NDArray[Any]
) -> tuple[list[str], list[int], list[int]]:
    """(categories, reference counts, window counts) with rare categories pooled (module doc)."""
    uniq, counts = np.unique(np.asarray(values, dtype=str), return_counts=True)
    window = {str(u): int(c) for u, c in zip(uniq, counts, strict=True)}
    names = sorted(set(reference) | set(window))
    ref_total, win_total = sum(reference.values()), sum(window.values())
    total = ref_total + win_total
    kept, pooled = [], [0, 0]
    for name in names:
        r, w = reference.get(name, 0), window.get(name, 0)
        column = r + w
        if min(ref_total, win_total) * column / total < 5.0:
            pooled[0] += r
            pooled[1] += w
        else:
            kept.append((name, r, w))
    if pooled[0] + pooled[1] > 0:
        kept.append((OTHER, pooled[0], pooled[1]))
    return [k[0] for k in kept], [k[1] for k in kept], [k[2] for k in kept]


def _category_test(tag: str, reference: dict[str, int], values: npt.NDArray[Any]) -> DriftTest:
    names, ref, win = category_table(reference, values)
    chi = stats.chi2_homogeneity(ref, win)
    return DriftTest(
        kind="category",
        name=tag,
        statistic="chi2",
        value=chi.statistic,
        pvalue=chi.pvalue,
        df=chi.df,
        n=sum(win),
        n_reference=sum(ref),
        table={"categories": names, "reference": ref, "window": win},
    )


def _drift_tests(
    profile: ReferenceProfile,
    results: Stream,
    openings: Stream,
    config: MonitorConfig,
    notes: list[str],
) -> list[DriftTest]:
    tests: list[DriftTest] = []

    def enough(what: str, n: int) -> bool:
        if n >= config.min_cases:
            return True
        notes.append(f"{what}: {n} values in the window, fewer than {config.min_cases}: not tested")
        return False

    for label, hist in profile.scores.items():
        column = results.columns.get(f"score:{label}")
        values = column[np.isfinite(column)] if column is not None else np.empty(0)
        if enough(f"scores of '{label}'", int(values.size)):
            tests.append(_histogram_test("scores", label, values, hist))
    for tag, ref_counts in profile.categories.items():
        column = openings.columns.get(tag)
        if column is None or not ref_counts:
            continue
        if enough(CATEGORY_TAGS.get(tag, tag), len(column)):
            try:
                tests.append(_category_test(tag, ref_counts, column))
            except ValueError:
                notes.append(f"{CATEGORY_TAGS.get(tag, tag)}: one category only: not tested")
    for tag, hist in profile.numeric.items():
        column = openings.columns.get(tag)
        values = column[np.isfinite(column)] if column is not None else np.empty(0)
        if enough(NUMERIC_TAGS.get(tag, tag), int(values.size)):
            tests.append(_histogram_test("numeric", tag, values, hist))
    threshold, adjusted = stats.bonferroni([t.pvalue for t in tests], config.alpha)
    for test, p_adj in zip(tests, adjusted, strict=True):
        test.threshold, test.p_adjusted = threshold, p_adj
        test.alert = test.pvalue < threshold
    return tests


# ----------------------------------------------------------------------------- charts


def _rate(values: npt.NDArray[Any]) -> tuple[int, int]:
    v = values[np.isfinite(values)]
    return int(v.sum()), int(v.size)


def _chart(
    name: str,
    stream: Stream,
    spec: WindowSpec,
    end: float,
    config: MonitorConfig,
) -> Chart:
    _stream_name, column, wording = RATES[name]
    current, before, chunks = _split(stream, spec, end, config.history)
    x, n = _rate(before.columns.get(column, np.empty(0)))
    center: float | None = None
    if n >= config.min_baseline:
        center = min(max(x, 0.5), n - 0.5) / n

    def point(span: _Span, part: Stream) -> ChartPoint:
        k, m = _rate(part.columns.get(column, np.empty(0)))
        rate = k / m if m else None
        if center is None or not m:
            return ChartPoint(_iso(span.start), _iso(span.end), m, rate, None, None, False)
        lim = stats.p_chart(center, m, config.k_sigma, n_baseline=n)
        out = rate is not None and not (lim.lower <= rate <= lim.upper)
        return ChartPoint(_iso(span.start), _iso(span.end), m, rate, lim.lower, lim.upper, out)

    points = [point(span, part) for span, part in chunks]
    cur: ChartPoint | None = None
    note = ""
    if len(current):
        span = (
            _Span(float(current.time[0]), float(current.time[-1]))
            if spec.cases is not None
            else _Span(end - float(spec.days or 30.0) * DAY_S, end)
        )
        cur = point(span, current)
        points.append(cur)
    if center is None:
        note = f"{n} earlier cases, fewer than {config.min_baseline}: no control limits yet"
    elif cur is not None and cur.n < config.min_cases:
        note = f"{cur.n} cases in the window, fewer than {config.min_cases}: not tested"
    alert = bool(cur is not None and cur.out and cur.n >= config.min_cases)
    return Chart(name, wording, center, n, points, cur, alert, note)


# ----------------------------------------------------------------------------- words

# Every sentence the report says, by a stable code: the English template here; the window
# (viewer.ui.qt_monitoring) translates the same code with the same {placeholders}. ``tag`` and
# ``rate`` hold the English wording; ``tag_key`` / ``rate_key`` name it for a translator.
MESSAGES: dict[str, str] = {
    "scores_up": (
        "Scores of '{label}' have shifted upward since {since} "
        "(mean {shift:+.2f}, KS D = {d:.3f}, p = {p:.2g})."
    ),
    "scores_down": (
        "Scores of '{label}' have shifted downward since {since} "
        "(mean {shift:+.2f}, KS D = {d:.3f}, p = {p:.2g})."
    ),
    "numeric_changed": (
        "{tag} of the images differ from the reference since {since} (KS D = {d:.3f})."
    ),
    "new_manufacturer": (
        "{share:.0f} % of images now come from a new manufacturer ('{name}'), unseen in the "
        "reference."
    ),
    "new_category": (
        "{share:.0f} % of images now carry a new {tag} value ('{name}'), unseen in the reference."
    ),
    "mix_changed": (
        "The {tag} mix has changed since {since}: '{name}' is {share:.0f} % of images "
        "(reference {reference:.0f} %; chi-square p = {p:.2g})."
    ),
    "rate_up": (
        "The {rate} has risen to {rate_pct:.0f} % over {n} cases (expected {center:.0f} %, "
        "control limits {lower:.0f} %-{upper:.0f} %)."
    ),
    "rate_down": (
        "The {rate} has fallen to {rate_pct:.0f} % over {n} cases (expected {center:.0f} %, "
        "control limits {lower:.0f} %-{upper:.0f} %)."
    ),
    "no_drift_days": "No drift detected in the last {days:g} days.",
    "no_drift_cases": "No drift detected in the last {cases} cases.",
    "unavailable": (
        "Monitoring unavailable: this model version's bundle carries no reference profile "
        "(score distribution or input mix), so scores and inputs cannot be compared; the "
        "rate charts use the site's own history."
    ),
}


@dataclass(frozen=True)
class Sentence:
    """One sentence of the summary: a :data:`MESSAGES` code and its parameters (plain JSON)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The English sentence (the report, the PDF and the audit row say this)."""
        return MESSAGES[self.code].format(**self.params)


def _test_sentence(test: DriftTest, since: str) -> Sentence:
    if test.kind == "scores":
        way = "scores_up" if (test.mean_shift or 0.0) > 0 else "scores_down"
        params = {"label": test.name, "since": since, "shift": test.mean_shift or 0.0}
        return Sentence(way, {**params, "d": test.value, "p": test.pvalue})
    label = CATEGORY_TAGS.get(test.name) or NUMERIC_TAGS.get(test.name) or test.name
    tag = {"tag": label, "tag_key": test.name}
    if test.kind == "numeric":
        return Sentence("numeric_changed", {**tag, "since": since, "d": test.value})
    names, ref, win = test.table["categories"], test.table["reference"], test.table["window"]
    ref_total, win_total = sum(ref) or 1, sum(win) or 1
    rise = [
        (w / win_total - r / ref_total, c, r, w) for c, r, w in zip(names, ref, win, strict=True)
    ]
    _gain, name, r, w = max(rise)
    share = 100.0 * w / win_total
    if r == 0 and name != OTHER:
        code = "new_manufacturer" if test.name == "manufacturer" else "new_category"
        return Sentence(code, {**tag, "share": share, "name": name})
    return Sentence(
        "mix_changed",
        {**tag, "since": since, "name": name, "share": share,
         "reference": 100.0 * r / ref_total, "p": test.pvalue},
    )  # fmt: skip


def _chart_sentence(chart: Chart) -> Sentence:
    cur = chart.current
    assert cur is not None and cur.rate is not None and chart.center is not None  # noqa: S101
    return Sentence(
        "rate_up" if cur.rate > chart.center else "rate_down",
        {"rate": chart.wording, "rate_key": chart.name, "rate_pct": 100.0 * cur.rate,
         "n": cur.n, "center": 100.0 * chart.center, "lower": 100.0 * (cur.lower or 0.0),
         "upper": 100.0 * (cur.upper or 0.0)},
    )  # fmt: skip


# ----------------------------------------------------------------------------- the monitor


def monitor_model(
    streams: ModelStreams,
    profile: ReferenceProfile | None,
    spec: WindowSpec,
    *,
    end: datetime | None = None,
    config: MonitorConfig | None = None,
) -> ModelReport:
    """The report of one model version for the window ending at ``end`` (default: now)."""
    config = config or MonitorConfig()
    end_s = (end or datetime.now(UTC)).timestamp()
    results, _, _ = _split(streams.results, spec, end_s, 0)
    openings, _, _ = _split(streams.openings, spec, end_s, 0)
    reads, _, _ = _split(streams.reads, spec, end_s, 0)
    times = np.concatenate([results.time, openings.time, reads.time])
    if spec.cases is None:
        w_start: float | None = end_s - float(spec.days or 30.0) * DAY_S
        w_end: float | None = end_s
    else:
        w_start = float(times.min()) if times.size else None
        w_end = float(times.max()) if times.size else None
    window = WindowInfo(
        start=_iso(w_start) if w_start is not None else None,
        end=_iso(w_end) if w_end is not None else None,
        results=len(results),
        openings=len(openings),
        reads=len(reads),
    )
    notes: list[str] = []
    if profile is None or profile.empty:
        reference = "unavailable"
        tests: list[DriftTest] = []
        notes.append(Sentence("unavailable").text)
    else:
        reference = profile.source or "reference profile"
        tests = _drift_tests(profile, results, openings, config, notes)
    charts = []
    for name, (stream_name, _col, _w) in RATES.items():
        stream = streams.results if stream_name == "results" else streams.reads
        charts.append(_chart(name, stream, spec, end_s, config))
    reasons: dict[str, int] = {}
    if "reason" in results.columns:
        refused = results.columns["refused"] > 0
        for reason in results.columns["reason"][refused]:
            key = str(reason)[:200] or "(no reason)"
            reasons[key] = reasons.get(key, 0) + 1
    window_dict = asdict(window)
    since = (window.start or "")[:10]
    alerts: list[Alert] = []
    sentences: list[Sentence] = []
    for t in tests:
        if t.alert:
            sentence = _test_sentence(t, since)
            sentences.append(sentence)
            alerts.append(
                Alert(
                    test=f"{t.kind}:{t.name}",
                    statistic=t.statistic,
                    value=t.value,
                    threshold=t.threshold,
                    window={**window_dict, "spec": spec.describe(), "p_value": t.pvalue},
                    message=sentence.text,
                    code=sentence.code,
                    params=sentence.params,
                )
            )
    for chart in charts:
        if chart.alert and chart.current is not None:
            cur = chart.current
            over = (cur.rate or 0.0) > (chart.center or 0.0)
            sentence = _chart_sentence(chart)
            sentences.append(sentence)
            alerts.append(
                Alert(
                    test=chart.name,
                    statistic="p_chart",
                    value=float(cur.rate or 0.0),
                    threshold=float((cur.upper if over else cur.lower) or 0.0),
                    window={**window_dict, "spec": spec.describe(), "center": chart.center},
                    message=sentence.text,
                    code=sentence.code,
                    params=sentence.params,
                )
            )
    if not sentences:
        if reference == "unavailable":
            sentences = [Sentence("unavailable")]
        elif spec.cases is not None:
            sentences = [Sentence("no_drift_cases", {"cases": spec.cases})]
        else:
            sentences = [Sentence("no_drift_days", {"days": float(spec.days or 30.0)})]
    return ModelReport(
        model_id=streams.model_id,
        model_version=streams.model_version,
        reference=reference,
        window=window,
        tests=tests,
        charts=charts,
        refusals_by_reason=dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
        alerts=alerts,
        summary=[sentence.text for sentence in sentences],
        notes=notes,
        sentences=sentences,
    )
