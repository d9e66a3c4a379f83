"""What the Monitoring window and ``bedside monitor report`` ask of the drift monitor, Qt-free.

Why: the window (``viewer.ui.qt_monitoring``) and the command must say the same thing, so both
run :meth:`MonitoringSource.report` (read the monitored rows, find each model version's
reference, :func:`viewer.monitoring.report.monitor_streams`, record new alerts) and
:func:`write_report` (the JSON or the PDF). :func:`monitoring_view` then turns that one report
dict into what the window draws: the summary sentences (the report's own
:class:`~viewer.monitoring.monitor.Sentence` codes, so the window words them in the reader's
language from the same code and numbers the PDF prints in English), the alerts, and per model
version the plots (score histograms against the reference, rates over time with their centre line
and 3-sigma limits, the DICOM category mix). Plain data only: the window's worker runs
:meth:`MonitoringSource.report`, and the tests read :class:`MonitoringView` without Qt.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any, BinaryIO

from viewer.config import Settings
from viewer.errors import BedsideError, printable
from viewer.monitoring import MonitorConfig, ReferenceProfile, WindowSpec
from viewer.monitoring.monitor import Sentence
from viewer.monitoring.profile import CATEGORY_TAGS, NUMERIC_TAGS

__all__ = [
    "REPORT_FORMATS",
    "WINDOW_CHOICES",
    "ModelView",
    "MonitoringCancelledError",
    "MonitoringSource",
    "MonitoringView",
    "Plot",
    "Series",
    "monitoring_view",
    "report_json",
    "write_report",
]

Key = tuple[str, str]
REPORT_FORMATS = ("pdf", "json")
# the windows the Monitoring window offers (the command takes any --window / --cases)
WINDOW_CHOICES: tuple[WindowSpec, ...] = (
    WindowSpec(days=30.0),
    WindowSpec(days=7.0),
    WindowSpec(days=90.0),
    WindowSpec(days=None, cases=200),
    WindowSpec(days=None, cases=600),
)
_CHECK_EVERY = 2000  # rows between cancellation checks and progress reports


class MonitoringCancelledError(BedsideError):
    """The report was cancelled (the window closed while the log was being read)."""


class MonitoringSource:
    """The monitor over this installation's audit log: what the window shows and the command
    prints. ``bundles`` are extra bundle files holding references (``--bundle``);
    ``references`` replaces the look-up altogether (a test's simulated profile); ``record``
    appends a ``monitor_alert`` row per new alert (the command's default; ``--no-record``)."""

    def __init__(
        self,
        settings: Settings,
        *,
        bundles: Sequence[Path] = (),
        references: Mapping[Key, ReferenceProfile | None] | None = None,
        record: bool = True,
    ) -> None:
        self.settings = settings
        self.bundles = tuple(bundles)
        self.references = dict(references) if references is not None else None
        self.record = record

    def report(
        self,
        spec: WindowSpec,
        *,
        end: datetime | None = None,
        alpha: float = 0.01,
        model: str | None = None,
        progress: Callable[[int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> dict[str, Any]:
        """The report dict (the JSON of ``bedside monitor report``); ``progress`` gets the rows
        read so far; ``cancelled`` is polled while reading (then MonitoringCancelledError)."""
        from viewer.audit import AuditLog, Filters
        from viewer.monitoring import find_references, record_alerts
        from viewer.monitoring.cases import MONITORED_TYPES, streams_from_records
        from viewer.monitoring.report import monitor_streams

        settings = self.settings
        log = (
            AuditLog.open(settings)
            if self.record
            else AuditLog.open_readonly(settings.audit_db_path, settings=settings)
        )
        with log:
            rows = log.iter_records(Filters(types=MONITORED_TYPES))
            streams = streams_from_records(_watched(rows, progress, cancelled))
            if self.references is None:
                references, notes = find_references(settings, list(streams), self.bundles)
            else:
                references, notes = self.references, []
            report, models = monitor_streams(
                streams,
                references,
                spec,
                end=end,
                config=MonitorConfig(alpha=alpha),
                model=model,
            )
            report["log"] = str(settings.audit_db_path)
            report["notes"] = notes
            report["recorded"] = record_alerts(log, models) if self.record else 0
        return report


def _watched(
    rows: Iterable[Any],
    progress: Callable[[int], None] | None,
    cancelled: Callable[[], bool] | None,
) -> Iterator[Any]:
    for i, row in enumerate(rows, 1):
        if i % _CHECK_EVERY == 0:
            if cancelled is not None and cancelled():
                raise MonitoringCancelledError("The monitoring report was cancelled.")
            if progress is not None:
                progress(i)
        yield row


def write_report(
    report: Mapping[str, Any],
    fmt: str,
    path: Path,
    *,
    settings: Settings | None,
    overwrite: bool,
) -> Path:
    """Write the report as ``pdf`` or ``json`` atomically (never over the log, keys or store)."""
    from viewer.outputs import write_atomically

    if fmt not in REPORT_FORMATS:
        raise BedsideError(f"Unknown report format '{fmt}' (allowed: pdf, json).")
    if fmt == "pdf":
        from viewer.monitoring.pdf import write_pdf

        def write(fh: BinaryIO) -> None:
            write_pdf(dict(report), fh)

    else:
        text = report_json(report)

        def write(fh: BinaryIO) -> None:
            fh.write(text.encode("utf-8"))

    write_atomically(path, write, settings=settings, overwrite=overwrite, what="monitoring report")
    return path


def report_json(report: Mapping[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


# ----------------------------------------------------------------------------- the view model


@dataclass(frozen=True)
class Series:
    """One drawn series; values in percent (None: no value at that point)."""

    role: str  # "reference" | "window" (bars); "rate" | "center" | "upper" | "lower" (lines)
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class Plot:
    """One chart: bars (reference vs window share per bin or category) or lines (a rate per
    window with its centre line and control limits)."""

    key: str  # "scores:effusion", "numeric:rows", "category:manufacturer", "rate:override_rate"
    kind: str  # "scores" | "numeric" | "category" | "rate"
    name: str  # the label, the tag key or the rate key
    wording: str  # English: the label, the DICOM attribute or the rate's wording
    style: str  # "bars" | "lines"
    x_labels: tuple[str, ...]
    series: tuple[Series, ...]
    alert: bool = False
    out: tuple[bool, ...] = ()  # lines: points outside the control limits
    n: int = 0  # values in the window (bars) or cases in the current window (lines)

    def values(self, role: str) -> tuple[float | None, ...]:
        for s in self.series:
            if s.role == role:
                return s.values
        return ()

    @property
    def has_data(self) -> bool:
        return any(v is not None and v > 0 for s in self.series for v in s.values)


@dataclass(frozen=True)
class AlertView:
    test: str  # "scores:effusion", "override_rate", ...
    statistic: str  # "ks" | "chi2" | "p_chart"
    value: float
    threshold: float
    sentence: Sentence


@dataclass(frozen=True)
class ModelView:
    """One model version's part of the report, as the window shows it."""

    key: str  # "id version"
    status: str  # "ok" | "alert" | "unavailable"
    reference: str
    window: Mapping[str, Any]  # start, end (UTC ISO), results, openings, reads
    sentences: tuple[Sentence, ...]
    alerts: tuple[AlertView, ...]
    histograms: tuple[Plot, ...]
    rates: tuple[Plot, ...]
    mixes: tuple[Plot, ...]
    notes: tuple[str, ...]
    refusals: tuple[tuple[str, int], ...]

    @property
    def available(self) -> bool:
        """False when the bundle carries no reference profile (scores and inputs untested)."""
        return self.reference != "unavailable"


@dataclass(frozen=True)
class MonitoringView:
    generated: str
    window: str  # e.g. "last 30 days"
    alerts: int
    models: tuple[ModelView, ...]
    notes: tuple[str, ...]
    report: Mapping[str, Any] = field(repr=False)  # what an export writes

    def model(self, key: str) -> ModelView | None:
        return next((m for m in self.models if m.key == key), None)


def _shares(counts: Sequence[int]) -> list[float]:
    total = sum(counts)
    return [100.0 * c / total if total else 0.0 for c in counts]


def _edge(value: float, width: float) -> str:
    """A bin edge with as many decimals as the bin width needs (0.05 -> 2, 0.003 -> 3)."""
    decimals = min(6, max(0, -math.floor(math.log10(width)))) if width > 0 else 2
    return f"{value:.{decimals}f}"


def _histogram_plot(test: Mapping[str, Any]) -> Plot:
    """Reference vs window share per reference bin; the outer bins (below the reference's first
    edge, above its last) only when a window value fell there."""
    table = test["table"]
    edges = [float(e) if e is not None else math.nan for e in table["bin_edges"]]
    ref, win = list(table["reference"]), list(table["window"])
    ref_share, win_share = _shares(ref), _shares(win)
    width = min(b - a for a, b in pairwise(edges[1:-1]))
    labels = [_edge(edges[i], width) for i in range(1, len(edges) - 2)]
    labels = [f"<{_edge(edges[1], width)}", *labels, f">{_edge(edges[-2], width)}"]
    keep = [0 < i < len(ref) - 1 or win[i] > 0 or ref[i] > 0 for i in range(len(ref))]
    kind, name = str(test["kind"]), str(test["name"])
    wording = name if kind == "scores" else NUMERIC_TAGS.get(name, name)
    return Plot(
        key=f"{kind}:{name}",
        kind=kind,
        name=name,
        wording=wording,
        style="bars",
        x_labels=tuple(lab for lab, k in zip(labels, keep, strict=True) if k),
        series=(
            Series("reference", tuple(v for v, k in zip(ref_share, keep, strict=True) if k)),
            Series("window", tuple(v for v, k in zip(win_share, keep, strict=True) if k)),
        ),
        alert=bool(test["alert"]),
        n=int(test["n"]),
    )


def _mix_plot(test: Mapping[str, Any]) -> Plot:
    table = test["table"]
    name = str(test["name"])
    return Plot(
        key=f"category:{name}",
        kind="category",
        name=name,
        wording=CATEGORY_TAGS.get(name, name),
        style="bars",
        x_labels=tuple(printable(c) for c in table["categories"]),
        series=(
            Series("reference", tuple(_shares(table["reference"]))),
            Series("window", tuple(_shares(table["window"]))),
        ),
        alert=bool(test["alert"]),
        n=int(test["n"]),
    )


def _pct(value: Any) -> float | None:
    return None if value is None else 100.0 * float(value)


def _rate_plot(chart: Mapping[str, Any]) -> Plot:
    points = list(chart["points"])
    center = _pct(chart["center"])
    current = chart.get("current") or {}
    return Plot(
        key=f"rate:{chart['name']}",
        kind="rate",
        name=str(chart["name"]),
        wording=str(chart["wording"]),
        style="lines",
        x_labels=tuple(str(p["end"] or "")[5:10] for p in points),
        series=(
            Series("rate", tuple(_pct(p["rate"]) for p in points)),
            Series("center", tuple(center for _ in points)),
            Series("upper", tuple(_pct(p["upper"]) for p in points)),
            Series("lower", tuple(_pct(p["lower"]) for p in points)),
        ),
        alert=bool(chart["alert"]),
        out=tuple(bool(p["out"]) for p in points),
        n=int(current.get("n") or 0),
    )


def _sentence(entry: Mapping[str, Any]) -> Sentence:
    """A sentence whose text parameters (a manufacturer, a label: from log rows) are printable."""
    params = dict(entry.get("params") or {})
    return Sentence(
        str(entry["code"]),
        {k: printable(v) if isinstance(v, str) else v for k, v in params.items()},
    )


def _model_view(model: Mapping[str, Any]) -> ModelView:
    tests = list(model["tests"])
    return ModelView(
        key=printable(model["model"]),
        status=str(model["status"]),
        reference=printable(model["reference"]),
        window=dict(model["window"]),
        sentences=tuple(_sentence(s) for s in model["sentences"]),
        alerts=tuple(
            AlertView(
                test=str(a["test"]),
                statistic=str(a["statistic"]),
                value=float(a["value"] or 0.0),
                threshold=float(a["threshold"] or 0.0),
                sentence=_sentence(a),
            )
            for a in model["alerts"]
        ),
        histograms=tuple(_histogram_plot(t) for t in tests if t["kind"] in ("scores", "numeric")),
        rates=tuple(_rate_plot(c) for c in model["charts"]),
        mixes=tuple(_mix_plot(t) for t in tests if t["kind"] == "category"),
        notes=tuple(printable(n) for n in model["notes"]),
        refusals=tuple((printable(r), int(n)) for r, n in model["refusals_by_reason"].items()),
    )


def monitoring_view(report: Mapping[str, Any]) -> MonitoringView:
    """What the window shows of a report from :meth:`MonitoringSource.report`."""
    return MonitoringView(
        generated=str(report["generated"]),
        window=str(report["window"]),
        alerts=int(report["alerts"]),
        models=tuple(_model_view(m) for m in report["models"]),
        notes=tuple(str(n) for n in report.get("notes", ())),
        report=report,
    )
