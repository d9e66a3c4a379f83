"""The audit report as PDF (reportlab platypus), for the quality lead's file.

Page 1 carries the scope, the verification result and the signed checkpoint; a failed
verification is a full-width red statement there and a red banner on every page, so a broken
chain cannot be missed. Then per model version: cases, AI-positive, agreement and override
rates, override reasons and a weekly trend chart; then one row per decision with the printed
name, the UTC date/time and the meaning of the act (21 CFR 11.50). Japanese names and reasons
use the Adobe-Japan1 CID font HeiseiKakuGo-W5 built into reportlab (no font file needed).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from viewer.audit.change_record import ChangeEntry, change_entries
from viewer.audit.checkpoints import Checkpoint
from viewer.audit.events import AuditRecord, EventType, ExportCancelledError
from viewer.audit.stats import ModelStats, effective_decisions, model_stats
from viewer.audit.verify import NO_CHECKPOINT_NOTE, VerifyResult
from viewer.errors import AuditError
from viewer.inference.postprocess import score_threshold_text
from viewer.keyprint import format_fingerprint

CJK = "HeiseiKakuGo-W5"
pdfmetrics.registerFont(UnicodeCIDFont(CJK))

PAGE = landscape(A4)
MARGIN = 14 * mm
RED = colors.HexColor("#B00020")
GREEN = colors.HexColor("#1B5E20")
GREY = colors.HexColor("#555555")
LIGHT = colors.HexColor("#F2F4F7")
RULE = colors.HexColor("#C8CDD4")
ROWS_PER_TABLE = 60


def _needs_cjk(text: str) -> bool:
    """True when Helvetica (WinAnsi) cannot show ``text``; the CID font then covers Japanese,
    Greek and Cyrillic (JIS X 0208)."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return True
    return False


def _font(text: str, bold: bool = False) -> str:
    if _needs_cjk(text):
        return CJK
    return "Helvetica-Bold" if bold else "Helvetica"


_base = getSampleStyleSheet()


def _bold(name: str, size: float, leading: float, colour: Any) -> ParagraphStyle:
    """A bold status line (the integrity box's headline, a warning)."""
    return ParagraphStyle(
        name,
        parent=_base["Normal"],
        fontName="Helvetica-Bold",
        fontSize=size,
        leading=leading,
        textColor=colour,
    )


STYLES: dict[str, ParagraphStyle] = {
    "title": ParagraphStyle(
        "title", parent=_base["Title"], fontSize=18, leading=22, alignment=TA_LEFT, spaceAfter=2
    ),
    "subtitle": ParagraphStyle(
        "subtitle", parent=_base["Normal"], fontSize=10, textColor=GREY, spaceAfter=8
    ),
    "h2": ParagraphStyle(
        "h2", parent=_base["Heading2"], fontSize=13, leading=16, spaceBefore=10, spaceAfter=4
    ),
    "h3": ParagraphStyle(
        "h3", parent=_base["Heading3"], fontSize=11, leading=14, spaceBefore=6, spaceAfter=3
    ),
    "body": ParagraphStyle("body", parent=_base["Normal"], fontSize=9, leading=12),
    "small": ParagraphStyle(
        "small", parent=_base["Normal"], fontSize=7.5, leading=9.5, textColor=GREY
    ),
    "cell": ParagraphStyle("cell", parent=_base["Normal"], fontSize=7.5, leading=9),
    "mono": ParagraphStyle(
        "mono", parent=_base["Normal"], fontName="Courier", fontSize=7, leading=8.5
    ),
    "alarm": _bold("alarm", 20, 24, colors.white),
    "alarm_body": ParagraphStyle(
        "alarm_body", parent=_base["Normal"], fontSize=10, leading=13, textColor=colors.white
    ),
    "warn": _bold("warn", 11, 14, RED),
    "ok": _bold("ok", 14, 18, GREEN),
}


def para(text: str, style: str = "body", *, markup: bool = False) -> Paragraph:
    """A paragraph; plain text is escaped, and CJK text gets the CJK font and CJK wrapping."""
    body = text if markup else escape(text)
    st = STYLES[style]
    if _needs_cjk(text):
        st = ParagraphStyle(f"{st.name}-cjk", parent=st, fontName=CJK, wordWrap="CJK")
    return Paragraph(body, st)


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def utc(text: str) -> str:
    """Stored ISO time -> ``2026-11-28 13:21:49 UTC``."""
    return f"{text[:10]} {text[11:19]} UTC" if len(text) >= 19 else text


@dataclass(frozen=True)
class ReportScope:
    site_name: str
    app_version: str
    generated: str
    log_path: str
    log_id: str
    filters: list[tuple[str, str]]
    checkpoint: Checkpoint
    checkpoint_file: str
    verification: VerifyResult


def _kv_table(rows: Sequence[tuple[str, Any]], widths: tuple[float, float]) -> Table:
    data = [[para(k, "cell"), v if not isinstance(v, str) else para(v, "cell")] for k, v in rows]
    t = Table(data, colWidths=widths, hAlign="LEFT")
    t.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (0, -1), LIGHT),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return t


def _verification_block(v: VerifyResult) -> list[Any]:
    width = PAGE[0] - 2 * MARGIN
    if v.ok:
        body = [
            para("Audit log integrity: VERIFIED", "ok"),
            para(
                f"All {v.rows} rows of the log were checked: every row's hash matches its content "
                f"and links to the previous row; the append-only triggers are in place; "
                f"{len(v.checkpoints)} earlier checkpoint(s) match. Head hash {v.head_hash}.",
            ),
        ]
        body += [para(note, "small") for note in v.notes if note != NO_CHECKPOINT_NOTE]
        box = Table([[body]], colWidths=[width])
        box.setStyle(
            TableStyle(
                [
                    ("BOX", (0, 0), (-1, -1), 1.5, GREEN),
                    ("LEFTPADDING", (0, 0), (-1, -1), 8),
                    ("TOPPADDING", (0, 0), (-1, -1), 6),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
                ]
            )
        )
        return [box, Spacer(1, 3), para(v.limits, "small")]
    first = f"First bad row: #{v.first_bad_seq}. " if v.first_bad_seq else ""
    lines = [
        para("AUDIT LOG INTEGRITY FAILURE — THIS LOG FAILED VERIFICATION", "alarm"),
        Spacer(1, 4),
        para(
            f"{first}Entries in this report may have been altered, removed or inserted after "
            "they were recorded. Do not rely on this report without an investigation; keep this "
            "copy and the log file as evidence.",
            "alarm_body",
        ),
        Spacer(1, 4),
    ]
    for problem in v.problems[:8]:
        lines.append(para(f"• {problem}", "alarm_body"))
    if len(v.problems) > 8:
        lines.append(para(f"• … and {len(v.problems) - 8} more problem(s)", "alarm_body"))
    box = Table([[lines]], colWidths=[width])
    box.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), RED),
                ("LEFTPADDING", (0, 0), (-1, -1), 10),
                ("TOPPADDING", (0, 0), (-1, -1), 8),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 10),
            ]
        )
    )
    return [box, Spacer(1, 3), para(v.limits, "small")]


def _checkpoint_block(scope: ReportScope) -> list[Any]:
    cp = scope.checkpoint
    rows = [
        ("Rows certified", f"{cp.count} (rows #1–#{cp.count} of the whole log)"),
        (f"Head hash (row #{cp.count})", para(cp.head_hash, "mono")),
        ("Signed at", utc(cp.time)),
        ("Log ID", para(cp.log_id, "mono")),
        ("Installation key (SHA-256)", para(format_fingerprint(cp.key_fingerprint), "mono")),
        ("Signature (ECDSA P-256)", para(cp.signature, "mono")),
        (
            "Checkpoint file",
            para(
                f"{escape(scope.checkpoint_file)} — later, <font name='Courier'>bedside audit "
                f"verify --checkpoint {escape(Path(scope.checkpoint_file).name)}</font> proves "
                "that the log still holds these rows unchanged.",
                "cell",
                markup=True,
            ),
        ),
    ]
    width = PAGE[0] - 2 * MARGIN
    return [
        para("Signed checkpoint", "h2"),
        _kv_table(rows, (48 * mm, width - 48 * mm)),
        Spacer(1, 3),
        para("Public key of this installation (PEM):", "small"),
        para(cp.public_key_pem.strip().replace("\n", "<br/>"), "mono", markup=True),
    ]


def _trend_chart(stats: ModelStats) -> Drawing:
    weeks = list(stats.weeks.values())
    step = max(1, len(weeks) // 12)
    names = [w.week[2:] if i % step == 0 else "" for i, w in enumerate(weeks)]
    d = Drawing(PAGE[0] - 2 * MARGIN, 62 * mm)
    bars = VerticalBarChart()
    bars.x, bars.y, bars.width, bars.height = 12 * mm, 12 * mm, 105 * mm, 42 * mm
    bars.data = [[w.cases for w in weeks]]
    bars.categoryAxis.categoryNames = names
    bars.categoryAxis.labels.fontSize = 6
    bars.categoryAxis.labels.angle = 45
    bars.categoryAxis.labels.boxAnchor = "ne"
    bars.valueAxis.valueMin = 0
    bars.valueAxis.labels.fontSize = 7
    bars.bars[0].fillColor = colors.HexColor("#4C78A8")
    bars.bars[0].strokeColor = None
    d.add(bars)
    d.add(String(12 * mm, 57 * mm, "Decisions per week", fontSize=8, fontName="Helvetica-Bold"))
    lines = HorizontalLineChart()
    lines.x, lines.y, lines.width, lines.height = 140 * mm, 12 * mm, 105 * mm, 42 * mm
    lines.data = [
        [100 * (w.override_rate or 0.0) for w in weeks],
        [100 * (w.ai_positive_rate or 0.0) for w in weeks],
    ]
    lines.categoryAxis.categoryNames = names
    lines.categoryAxis.labels.fontSize = 6
    lines.categoryAxis.labels.angle = 45
    lines.categoryAxis.labels.boxAnchor = "ne"
    lines.valueAxis.valueMin, lines.valueAxis.valueMax, lines.valueAxis.valueStep = 0, 100, 20
    lines.valueAxis.labels.fontSize = 7
    lines.lines[0].strokeColor = RED
    lines.lines[0].strokeWidth = 1.5
    lines.lines[1].strokeColor = colors.HexColor("#4C78A8")
    lines.lines[1].strokeWidth = 1.5
    lines.lines[1].strokeDashArray = (3, 2)
    lines.joinedLines = 1
    for i, color in enumerate((RED, colors.HexColor("#4C78A8"))):
        lines.lines[i].symbol = makeMarker("FilledCircle", size=3, fillColor=color)
    d.add(lines)
    d.add(String(140 * mm, 57 * mm, "Weekly rates (%)", fontSize=8, fontName="Helvetica-Bold"))
    legend = Legend()
    legend.x, legend.y = 250 * mm, 50 * mm
    legend.fontSize = 7
    legend.colorNamePairs = [
        (RED, "override rate"),
        (colors.HexColor("#4C78A8"), "AI-positive rate"),
    ]
    d.add(legend)
    return d


def _demo_block(records: Sequence[AuditRecord]) -> list[Any]:
    """A warning when decisions in scope were made with the demo model (rows whose detail says
    ``demo_model``): its output on real images is meaningless, and the report must say so."""
    demo = sorted({r.model or "(unknown model)" for r in records if r.detail.get("demo_model")})
    if not demo:
        return []
    return [
        Spacer(1, 6),
        para(
            f"DEMO MODEL — NOT FOR CLINICAL USE: results in this report were made with "
            f"{', '.join(demo)}, the demo model trained on synthetic images. Its output on real "
            "X-rays is meaningless; rows made with it are marked DEMO MODEL.",
            "warn",
        ),
    ]


def _model_section(stats: list[ModelStats]) -> list[Any]:
    out: list[Any] = [para("Per model version", "h2")]
    if not stats:
        out.append(para("No decisions in the selected scope."))
        return out
    head = [
        "Model",
        "Version",
        "Cases",
        "AI-positive",
        "Agreement",
        "Override",
        "AI shown before own read",
        "Amended",
    ]
    data: list[list[Any]] = [head]
    for s in stats:
        data.append(
            [
                para(s.model_id or "(none)", "cell"),
                s.model_version or "–",
                str(s.cases),
                f"{pct(s.ai_positive_rate)} ({s.ai_positive}/{s.ai_scored})",
                f"{pct(s.agreement_rate)} ({s.confirmed})",
                f"{pct(s.override_rate)} ({s.overrode})",
                f"{s.shown_before_read}",
                f"{s.amended}",
            ]
        )
    t = Table(
        data,
        repeatRows=1,
        hAlign="LEFT",
        colWidths=[55 * mm, 22 * mm, 16 * mm, 36 * mm, 30 * mm, 30 * mm, 42 * mm, 18 * mm],
    )
    t.setStyle(_grid_style())
    out.append(t)
    out.append(
        para(
            "Cases = decisions recorded (an amended decision counts once, with its amended "
            "meaning). AI-positive = score at or above the bundle's threshold. Agreement = the "
            "clinician confirmed the AI finding; override = the clinician's final finding differs.",
            "small",
        )
    )
    for s in stats:
        block: list[Any] = [para(f"{s.label}", "h3")]
        if s.bundle_digests:
            block.append(para("Bundle SHA-256: " + ", ".join(sorted(s.bundle_digests)), "small"))
        reasons = s.reasons.most_common(12)
        if reasons:
            rdata: list[list[Any]] = [["Override reason", "Count"]]
            rdata += [[para(clip(r), "cell"), str(n)] for r, n in reasons]
            if len(s.reasons) > 12:
                rest = sum(s.reasons.values()) - sum(n for _, n in reasons)
                rdata.append([para(f"{len(s.reasons) - 12} other reasons", "cell"), str(rest)])
            rt = Table(rdata, colWidths=[150 * mm, 20 * mm], hAlign="LEFT", repeatRows=1)
            rt.setStyle(_grid_style())
            block.append(rt)
        else:
            block.append(para("No overrides.", "small"))
        block.append(Spacer(1, 4))
        block.append(_trend_chart(s))
        out.append(KeepTogether(block))
    return out


def _grid_style() -> TableStyle:
    return TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
            ("FONTSIZE", (0, 0), (-1, -1), 7.5),
            ("LEADING", (0, 0), (-1, -1), 9),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDE3EA")),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]
    )


DECISION_HEAD = [
    "#",
    "Date / time (UTC)",
    "Clinician (printed name, role)",
    "Meaning",
    "Model",
    "Score / thr.",
    "AI finding",
    "Final finding",
    "AI shown",
    "Reason",
    "Case",
    "Annotations",
]
BAND_H = 13 * mm  # title + column header above the decision listing
DECISION_WIDTHS = [12, 30, 37, 27, 28, 17, 22, 22, 16, 30, 15, 18]
# the reader's annotations, counted by kind in a decision row's detail (never their content)
ANNOTATION_KINDS = {
    "distance": "distance",
    "angle": "angle",
    "rect": "rect. ROI",
    "ellipse": "ellipse ROI",
    "ctr": "CTR",
    "arrow": "arrow",
    "text": "text",
}


def annotation_counts_text(detail: dict[str, Any]) -> str:
    """``"2 distance, 1 CTR"`` from ``detail.annotations``; anything else in it is left out."""
    counts = detail.get("annotations")
    if not isinstance(counts, dict):
        return ""
    parts = []
    for kind, name in ANNOTATION_KINDS.items():
        n = counts.get(kind)
        if isinstance(n, int) and not isinstance(n, bool) and n > 0:
            parts.append(f"{n} {name}")
    return ", ".join(parts)


MAX_CELL_CHARS = 300


def clip(text: str, limit: int = MAX_CELL_CHARS) -> str:
    """Long free text is cut (a row taller than a page cannot be laid out); the CSV and JSON
    exports keep every character."""
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + " … [cut; full text in the CSV/JSON export]"


def _cell(text: str, width_mm: float) -> Any:
    """Plain string when it fits on one line (fast), else a wrapping paragraph."""
    if not text:
        return ""
    text = clip(text)
    font = _font(text)
    if pdfmetrics.stringWidth(text, font, 7.5) <= width_mm * mm - 5:
        return text
    return para(text, "cell")


def _decision_rows(
    records: Sequence[AuditRecord], amended_by: dict[int, int]
) -> Iterator[tuple[list[Any], list[tuple[Any, ...]]]]:
    """(cells, per-cell style commands) for each decision or amendment row."""
    w = DECISION_WIDTHS
    for rec in records:
        meaning = (rec.meaning or "").upper()
        if rec.type == EventType.AMENDMENT:
            meaning = f"AMENDS #{rec.corrects}: {meaning}"
        if rec.seq in amended_by:
            meaning += f" (amended by #{amended_by[rec.seq]})"
        if rec.detail.get("demo_model"):
            meaning += " — DEMO MODEL"
        name = rec.user_name or f"(no printed name) {rec.user_os}"
        who = f"{name}, {rec.user_role}" if rec.user_role else name
        score = ""
        if rec.score is not None:
            score = (
                " / ".join(score_threshold_text(rec.score, rec.threshold))
                if rec.threshold is not None
                else f"{rec.score:.3f}"
            )
        cells = [
            str(rec.seq),
            utc(rec.time)[:-4],
            _cell(who, w[2]),
            _cell(meaning, w[3]),
            _cell(rec.model, w[4]),
            score,
            _cell(rec.ai_finding or "", w[6]),
            _cell(rec.clinician_finding or "", w[7]),
            {"before_read": "before read", "after_read": "after read"}.get(rec.ai_shown or "", ""),
            _cell(rec.reason or "", w[9]),
            (rec.study_pseudonym or rec.sop_pseudonym or "")[:8],
            _cell(annotation_counts_text(rec.detail), w[11]),
        ]
        style: list[tuple[Any, ...]] = []
        for col, value in enumerate(cells):
            if isinstance(value, str) and _needs_cjk(value):
                style.append(("FONTNAME", (col, 0), (col, 0), CJK))
        if rec.meaning == "overrode":
            style.append(("TEXTCOLOR", (3, 0), (3, 0), RED))
        yield cells, style


def _decision_tables(records: Sequence[AuditRecord]) -> Iterator[Any]:
    _, amended_by = effective_decisions(records)
    rows = [r for r in records if r.type in (EventType.DECISION, EventType.AMENDMENT)]
    if not rows:
        yield para("No decisions in the selected scope.")
        return
    widths = [x * mm for x in DECISION_WIDTHS]
    chunk: list[list[Any]] = []
    styles: list[tuple[Any, ...]] = []
    for cells, style in _decision_rows(rows, amended_by):
        r = len(chunk)
        chunk.append(cells)
        styles += [(cmd, (a[0], r), (b[0], r), *rest) for cmd, a, b, *rest in style]
        if len(chunk) == ROWS_PER_TABLE:
            yield _decision_table(chunk, styles, widths)
            chunk, styles = [], []
    if chunk:
        yield _decision_table(chunk, styles, widths)


def _decision_table(
    chunk: list[list[Any]], styles: list[tuple[Any, ...]], widths: list[float]
) -> Table:
    t = Table(chunk, colWidths=widths, hAlign="LEFT")
    t.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), "Helvetica"),
                ("FONTSIZE", (0, 0), (-1, -1), 7.5),
                ("LEADING", (0, 0), (-1, -1), 9),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("ROWBACKGROUNDS", (0, 0), (-1, -1), [colors.white, LIGHT]),
                *styles,
            ]
        )
    )
    return t


CHANGE_HEAD = [
    "#",
    "Date / time (UTC)",
    "Change",
    "Thresholds (before, after)",
    "Evidence (SHA-256)",
    "Approved by (printed name, role, UTC)",
    "Rationale",
    "Record",
]
CHANGE_WIDTHS = [10, 28, 40, 38, 54, 50, 31, 18]
_ACTIONS = {
    "activate": "Activated",
    "rollback": "Rolled back",
    "site_threshold_set": "Site threshold set",
    "site_threshold_carry_over": "Site threshold carried over",
}


def _thresholds_text(before: dict[str, float], after: dict[str, float]) -> str:
    parts = []
    for label in sorted(set(before) | set(after)):
        old, new = before.get(label), after.get(label)
        a = "–" if old is None else f"{old:.4g}"
        b = "–" if new is None else f"{new:.4g}"
        parts.append(f"{label}: {a} → {b}" if a != b else f"{label}: {a}")
    return "; ".join(parts)


def _change_cells(entry: ChangeEntry) -> list[Any]:
    w = CHANGE_WIDTHS
    verdict = "VERIFIED" if entry.verified else "NOT VERIFIED: " + "; ".join(entry.problems)
    if entry.signed is None:
        return [str(entry.seq), utc(entry.time)[:-4], "", "", "", "", "", _cell(verdict, w[7])]
    r = entry.signed.record
    if r.action in ("activate", "rollback"):
        change = f"{r.model_id} {r.before.version if r.before else '(none)'} → {r.after.version}"
    else:
        change = f"{r.model_id} {r.after.version}"
    change = f"{_ACTIONS[r.action]}{' (PROPOSED)' if r.status == 'proposed' else ''}: {change}"
    if r.status == "proposed" and r.second_approver:
        change += f"; awaits {r.second_approver}"
    evidence: Any = "none cited"
    if r.evidence is not None:
        digest = r.evidence.sha256
        evidence = para(
            f"{escape(r.evidence.kind)}<br/><font name='Courier' size='6'>{digest[:32]}<br/>"
            f"{digest[32:]}</font>",
            "cell",
            markup=True,
        )
    approvers = "; ".join(
        f"{a.printed_name or '(no printed name) ' + a.user_id}{', ' + a.role if a.role else ''}, "
        f"{a.meaning.upper()} {utc(a.time)[:-4]}"
        for a in r.approvers
    )
    return [
        str(entry.seq),
        utc(entry.time)[:-4],
        _cell(change, w[2]),
        _cell(_thresholds_text(r.thresholds_before, r.thresholds_after), w[3]),
        evidence,
        _cell(approvers, w[5]),
        _cell(r.rationale, w[6]),
        _cell(verdict, w[7]),
    ]


def change_table(entries: Sequence[ChangeEntry]) -> Table:
    """Signed change records, one row each, in the order recorded (also the history PDF)."""
    rows: list[list[Any]] = [list(CHANGE_HEAD)]
    style: list[tuple[Any, ...]] = []
    for i, entry in enumerate(entries, start=1):
        cells = _change_cells(entry)
        rows.append(cells)
        for col, value in enumerate(cells):
            if isinstance(value, str) and _needs_cjk(value):
                style.append(("FONTNAME", (col, i), (col, i), CJK))
        colour = GREEN if entry.verified else RED
        style.append(("TEXTCOLOR", (7, i), (7, i), colour))
    t = Table(rows, colWidths=[x * mm for x in CHANGE_WIDTHS], hAlign="LEFT", repeatRows=1)
    t.setStyle(TableStyle([*_grid_style().getCommands(), *style]))
    return t


CHANGE_NOTE = (
    "A change record is the signed electronic record of a change to how the AI decides: "
    "activating or rolling back a model version, or setting a site threshold. Each is signed "
    "with the installation key (ECDSA P-256) and kept as a hash-chained audit row written in "
    "the same transaction as the act. VERIFIED = its signature holds, the chain holds up to "
    "it, and the row names what the record names. The evidence digest is the SHA-256 of the "
    "comparison or recalibration report the change rests on."
)


def _change_section(records: Sequence[AuditRecord], v: VerifyResult) -> list[Any]:
    entries = change_entries(
        records,
        chain_ok=v.ok,
        first_bad_seq=v.first_bad_seq,
        installation_key_fingerprint=v.installation_key_fingerprint,
    )
    if not entries:
        return []
    return [
        CondPageBreak(50 * mm),
        para("Change records", "h2"),
        para(CHANGE_NOTE, "small"),
        Spacer(1, 3),
        change_table(entries),
    ]


class _NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab is untyped
    """Defers pages so each footer can say "Page n of N" (one build pass)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont("Helvetica", 8)
            self.setFillColor(GREY)
            self.drawRightString(
                PAGE[0] - MARGIN, MARGIN - 2 * mm, f"Page {self._pageNumber} of {total}"
            )
            super().showPage()
        super().save()


class _Doc(BaseDocTemplate):  # type: ignore[misc]  # reportlab is untyped
    def __init__(self, path: str, scope: ReportScope) -> None:
        super().__init__(
            path,
            pagesize=PAGE,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN + 6 * mm,
            bottomMargin=MARGIN + 4 * mm,
            title="Audit report: AI second reader decisions",
            author=f"Bedside {scope.app_version}",
            subject=f"Audit log {scope.log_id}, checkpoint {scope.checkpoint.count} rows",
            creator="Bedside audit export",
        )
        self.scope = scope
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body")
        listing = Frame(
            self.leftMargin,
            self.bottomMargin,
            self.width,
            self.height - BAND_H,
            id="listing",
            topPadding=0,
        )
        self.addPageTemplates(
            [
                PageTemplate(id="page", frames=[frame], onPage=self._decorate),
                PageTemplate(id="decisions", frames=[listing], onPage=self._decorate_listing),
            ]
        )

    def _decorate_listing(self, canv: Canvas, doc: BaseDocTemplate) -> None:
        """The page band of the decision listing: a title and the column header, on every page
        (the rows themselves are plain tables, so a header never appears mid-page)."""
        self._decorate(canv, doc)
        top = PAGE[1] - self.topMargin
        canv.saveState()
        canv.setFont("Helvetica-Bold", 10)
        canv.setFillColor(colors.black)
        canv.drawString(MARGIN + 6, top - 4 * mm, "Decisions")
        canv.setFont("Helvetica", 7)
        canv.setFillColor(GREY)
        canv.drawString(
            MARGIN + 12 + pdfmetrics.stringWidth("Decisions", "Helvetica-Bold", 10),
            top - 4 * mm,
            "one row per decision or amendment, in the order recorded; times in UTC",
        )
        y = top - BAND_H
        canv.setFillColor(colors.HexColor("#DDE3EA"))
        canv.rect(MARGIN, y, sum(DECISION_WIDTHS) * mm, 5.5 * mm, stroke=0, fill=1)
        canv.setFillColor(colors.black)
        canv.setFont("Helvetica-Bold", 7.5)
        x = MARGIN
        for title, width in zip(DECISION_HEAD, DECISION_WIDTHS, strict=True):
            canv.drawString(x + 6, y + 1.8 * mm, title)
            x += width * mm
        canv.restoreState()

    def _decorate(self, canv: Canvas, doc: BaseDocTemplate) -> None:
        s = self.scope
        w, h = PAGE
        canv.saveState()
        canv.setFont("Helvetica-Bold", 8)
        canv.setFillColor(GREY)
        site = s.site_name or "(site name not configured)"
        canv.setFont(_font(site, bold=True), 8)
        canv.drawString(MARGIN, h - MARGIN + 1 * mm, f"Bedside audit report — {site}")
        canv.setFont("Helvetica", 8)
        canv.drawRightString(w - MARGIN, h - MARGIN + 1 * mm, f"Generated {utc(s.generated)}")
        canv.setStrokeColor(RULE)
        canv.line(MARGIN, h - MARGIN - 1 * mm, w - MARGIN, h - MARGIN - 1 * mm)
        canv.line(MARGIN, MARGIN + 2 * mm, w - MARGIN, MARGIN + 2 * mm)
        cp = s.checkpoint
        canv.drawString(
            MARGIN,
            MARGIN - 2 * mm,
            f"Checkpoint: {cp.count} rows, head {cp.head_hash[:16]}…, signed {utc(cp.time)}, "
            f"key {cp.key_fingerprint[:16]}…",
        )
        if not s.verification.ok:
            canv.setFillColor(RED)
            canv.rect(MARGIN, MARGIN + 3 * mm, w - 2 * MARGIN, 5 * mm, stroke=0, fill=1)
            canv.setFillColor(colors.white)
            canv.setFont("Helvetica-Bold", 8.5)
            first = s.verification.first_bad_seq
            canv.drawCentredString(
                w / 2,
                MARGIN + 4.6 * mm,
                "AUDIT LOG FAILED VERIFICATION"
                + (f" — first bad row #{first}" if first else "")
                + " — see page 1",
            )
        canv.restoreState()


def story(scope: ReportScope, records: Sequence[AuditRecord]) -> list[Any]:
    """All flowables of the report."""
    v = scope.verification
    counts = {"decision": 0, "amendment": 0}
    for rec in records:
        if rec.type in counts:
            counts[rec.type] += 1
    span = f"{utc(records[0].time)} to {utc(records[-1].time)}" if records else "no records"
    filters = "; ".join(f"{k}: {val}" for k, val in scope.filters) or "none (the whole log)"
    width = PAGE[0] - 2 * MARGIN
    out: list[Any] = [
        para("Audit report: AI second reader decisions", "title"),
        para(
            f"{scope.site_name or '(site name not configured)'} · Bedside {scope.app_version} · "
            f"generated {utc(scope.generated)}",
            "subtitle",
        ),
        *_verification_block(v),
        Spacer(1, 6),
        para("Scope", "h2"),
        _kv_table(
            [
                ("Site", scope.site_name or "(not configured: set [audit] site_name)"),
                ("Application", f"Bedside {scope.app_version}"),
                (
                    "Records in this report",
                    f"{len(records)} ({counts['decision']} decisions, "
                    f"{counts['amendment']} amendments, "
                    f"{len(records) - counts['decision'] - counts['amendment']} other events)",
                ),
                ("Date range of records", span),
                ("Filters", filters),
                ("Audit log", f"{scope.log_path} (log ID {scope.log_id})"),
                (
                    "Verification",
                    f"{v.rows} rows checked in {v.seconds:.2f} s; "
                    f"{len(v.checkpoints)} checkpoint(s) compared",
                ),
            ],
            (48 * mm, width - 48 * mm),
        ),
        *_checkpoint_block(scope),
        *_demo_block(records),
        PageBreak(),
        *_model_section(model_stats(records)),
        *_change_section(records, v),
        CondPageBreak(40 * mm),
        para("Reading the decision listing", "h3"),
        para(
            "The listing on the following pages has one row per decision or amendment, in the "
            "order recorded. Meaning: CONFIRMED = the clinician accepted the AI finding; "
            "OVERRODE = the clinician's final finding differs; AMENDS #n = a later correction of "
            "row #n, which itself stays unchanged. Times are UTC. AI shown = whether the AI "
            "result was visible before or only after the clinician's own read. Case = first "
            "characters of the study pseudonym (the log stores no patient identifiers). "
            "Annotations = the reader's annotations on the image when the decision was saved, "
            "counted by kind (their content, and any text typed, is never in the log).",
            "small",
        ),
    ]
    tables = list(_decision_tables(records))
    if any(isinstance(t, Table) for t in tables):
        out += [NextPageTemplate("decisions"), PageBreak()]
    out.extend(tables)
    out += [
        NextPageTemplate("page"),  # if the review block needs a new page, it has no band
        Spacer(1, 14),
        KeepTogether(
            [
                para("Review", "h2"),
                _kv_table(
                    [
                        ("Reviewed by (printed name)", ""),
                        ("Role", ""),
                        ("Date", ""),
                        ("Signature", ""),
                    ],
                    (60 * mm, 120 * mm),
                ),
            ]
        ),
    ]
    return out


def iter_build_pdf(
    path: Path,
    scope: ReportScope,
    records: Sequence[AuditRecord],
    *,
    cancel: Callable[[], bool] | None = None,
) -> Iterator[tuple[int, int]]:
    """Build the PDF, yielding (flowables done, total); stopping the iteration cancels.

    reportlab's build loop is not a generator, so it runs in a helper thread that reports
    progress through a queue and checks for cancellation between flowables.
    """
    flowables = story(scope, records)
    total = len(flowables)
    events: queue.Queue[tuple[str, Any]] = queue.Queue()
    stop = threading.Event()
    doc = _Doc(str(path), scope)

    def progress(kind: str, value: int) -> None:
        if stop.is_set() or (cancel is not None and cancel()):
            raise ExportCancelledError("The export was cancelled.")
        if kind == "PROGRESS":
            events.put(("progress", value))

    doc.setProgressCallBack(progress)

    def run() -> None:
        try:
            doc.build(flowables, canvasmaker=_NumberedCanvas)
            events.put(("done", None))
        except BaseException as exc:  # handed to the consumer
            events.put(("error", exc))

    worker = threading.Thread(target=run, name="audit-pdf", daemon=True)
    worker.start()
    best = 0
    try:
        while True:
            kind, value = events.get()
            if kind == "progress":
                # Split tables go back on the queue, so reportlab's count can step back.
                if value > best:
                    best = min(value, total - 1)
                    yield best, total
            elif kind == "done":
                yield total, total
                return
            elif isinstance(value, AuditError):
                raise value
            else:
                raise AuditError(f"The PDF report could not be laid out: {value}") from value
    finally:
        stop.set()
        worker.join()
