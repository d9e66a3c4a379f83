"""The monitoring report as a PDF: the same content as ``monitor report --format json``.

reportlab, as ``viewer.audit.report`` (already shipped, BSD). Per model version: the plain
summary, the distribution tests (statistic, p, per-test threshold, distance), each label's score
histogram against the reference, and each rate on its p-chart with its 3-sigma limits.
"""

from __future__ import annotations

from typing import Any, BinaryIO
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

__all__ = ["write_pdf"]

FONT = "HeiseiKakuGo-W5"  # CJK-capable built-in CID font: manufacturer names may be Japanese
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

GRID = TableStyle(
    [
        ("FONT", (0, 0), (-1, -1), FONT, 8),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
)


def _num(value: Any, fmt: str = ".3g") -> str:
    return "-" if value is None else format(value, fmt)


def _histogram(test: dict[str, Any]) -> Drawing:
    """Window vs reference share per bin (the outer under/overflow bins left out)."""
    table = test["table"]
    window, reference = table["window"][1:-1], table["reference"][1:-1]
    nw, nr = sum(window) or 1, sum(reference) or 1
    drawing = Drawing(170 * mm, 45 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 8 * mm, 150 * mm, 30 * mm
    chart.data = [[r / nr for r in reference], [w / nw for w in window]]
    chart.bars[0].fillColor = colors.lightgrey
    chart.bars[1].fillColor = colors.steelblue
    edges = table["bin_edges"][1:-1]
    chart.categoryAxis.categoryNames = [f"{e:.2g}" for e in edges[:-1]]
    chart.categoryAxis.labels.fontSize = 5
    chart.valueAxis.labels.fontSize = 6
    chart.valueAxis.valueMin = 0
    drawing.add(chart)
    drawing.add(
        String(12 * mm, 41 * mm, f"{test['name']}: reference (grey) vs window (blue)", fontSize=7)
    )
    return drawing


def _p_chart(chart: dict[str, Any]) -> Drawing:
    points = [p for p in chart["points"] if p["rate"] is not None]
    drawing = Drawing(170 * mm, 40 * mm)
    lines = HorizontalLineChart()
    lines.x, lines.y, lines.width, lines.height = 12 * mm, 6 * mm, 150 * mm, 26 * mm
    center = chart["center"]
    lines.data = [
        [p["rate"] for p in points],
        [p["upper"] if p["upper"] is not None else center for p in points],
        [p["lower"] if p["lower"] is not None else center for p in points],
        [center for _ in points],
    ]
    lines.lines[0].strokeColor = colors.steelblue
    lines.lines[0].strokeWidth = 1.2
    for i in (1, 2):
        lines.lines[i].strokeColor = colors.red
        lines.lines[i].strokeDashArray = (2, 2)
    lines.lines[3].strokeColor = colors.grey
    lines.categoryAxis.categoryNames = [p["end"][5:10] for p in points]
    lines.categoryAxis.labels.fontSize = 5
    lines.valueAxis.labels.fontSize = 6
    lines.valueAxis.valueMin = 0
    drawing.add(lines)
    title = f"{chart['wording']}: rate (blue), centre (grey), 3-sigma limits (red)"
    drawing.add(String(12 * mm, 36 * mm, title, fontSize=7))
    return drawing


def write_pdf(report: dict[str, Any], fh: BinaryIO) -> None:
    styles = getSampleStyleSheet()
    for style in styles.byName.values():
        style.fontName = FONT
    body, head = styles["BodyText"], styles["Heading2"]

    def para(text: str, style: Any = body) -> Paragraph:
        return Paragraph(escape(text), style)

    story: list[Any] = [
        para("Bedside: site drift monitoring", styles["Title"]),
        para(
            f"Generated {report['generated']} (UTC); window: {report['window']}; family-wise "
            f"alpha {report['alpha']} (Bonferroni); p-charts at {report['k_sigma']} sigma; "
            f"alerts: {report['alerts']}."
        ),
    ]
    story += [para(note) for note in report.get("notes", [])]
    for model in report["models"]:
        w = model["window"]
        story += [
            Spacer(1, 4 * mm),
            para(f"{model['model']}: {model['status']}", head),
            para(
                f"Reference: {model['reference']}. Window {w['start']} to {w['end']}: "
                f"{w['results']} results, {w['openings']} images opened, {w['reads']} reads."
            ),
        ]
        story += [para("• " + line) for line in model["summary"]]
        story += [para(note) for note in model["notes"][1:] if model["reference"] != "unavailable"]
        if model["tests"]:
            rows = [["test", "statistic", "value", "p", "threshold", "JS distance", "n", "alert"]]
            for t in model["tests"]:
                rows.append(
                    [
                        f"{t['kind']}: {t['name']}",
                        t["statistic"] + (f" (df {t['df']})" if t["df"] else ""),
                        _num(t["value"], ".4g"),
                        _num(t["pvalue"], ".3g"),
                        _num(t["threshold"], ".3g"),
                        _num(t["distance"], ".3f"),
                        f"{t['n']} / {t['n_reference']}",
                        "ALERT" if t["alert"] else "",
                    ]
                )
            story += [Spacer(1, 2 * mm), Table(rows, style=GRID, repeatRows=1)]
            story += [_histogram(t) for t in model["tests"] if t["kind"] == "scores"]
        rows = [["rate", "centre", "window rate", "limits", "cases", "alert"]]
        for c in model["charts"]:
            cur = c["current"] or {}
            limits = f"{_num(cur.get('lower'), '.3f')} - {_num(cur.get('upper'), '.3f')}"
            rows.append(
                [
                    c["wording"],
                    _num(c["center"], ".3f"),
                    _num(cur.get("rate"), ".3f"),
                    limits,
                    str(cur.get("n", 0)),
                    "ALERT" if c["alert"] else c["note"][:60],
                ]
            )
        story += [Spacer(1, 2 * mm), Table(rows, style=GRID, repeatRows=1)]
        story += [_p_chart(c) for c in model["charts"] if c["center"] is not None and c["points"]]
        if model["refusals_by_reason"]:
            rows = [["refusal reason", "cases"]]
            rows += [[r[:90], str(n)] for r, n in model["refusals_by_reason"].items()]
            story += [Spacer(1, 2 * mm), Table(rows, style=GRID, repeatRows=1)]
    doc = SimpleDocTemplate(fh, pagesize=A4, title="Bedside drift monitoring")
    doc.build(story)
