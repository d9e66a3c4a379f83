"""The PDF report: statistics, a broken chain impossible to miss, Japanese text, empty logs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.audit.helpers import CLINICIAN, decision, drop_triggers, fill, raw
from tests.waits import WAIT_S
from viewer.audit import AuditEvent, AuditLog, export
from viewer.audit.stats import NO_REASON, model_stats
from viewer.config import Settings


def test_model_stats_by_hand(log: AuditLog) -> None:
    # scores (i*37 % 100)/100 for i=0..7: .00 .37 .74 .11 .48 .85 .22 .59 -> 3 at/above 0.5
    for i in range(8):
        log.append(decision(i, overrode=i in (1, 4)))
    other = decision(8)
    other.model_version = "2.0.0"
    log.append(other)
    log.append(
        AuditEvent(
            type="amendment",
            user=CLINICIAN,
            meaning="overrode",
            reason="late look",
            clinician_finding="opacity",
            corrects=3,
        )
    )
    stats = {s.model_version: s for s in model_stats(log.records())}
    v1 = stats["1.2.0"]
    assert v1.cases == 8 and v1.ai_scored == 8 and v1.ai_positive == 3
    assert v1.overrode == 3 and v1.confirmed == 5  # decision 3 (i=2) amended to overrode
    assert v1.override_rate == pytest.approx(3 / 8) and v1.agreement_rate == pytest.approx(5 / 8)
    assert v1.amended == 1
    assert v1.reasons == {"肺野の陰影は古い瘢痕": 2, "late look": 1}
    assert sum(w.cases for w in v1.weeks.values()) == 8
    assert stats["2.0.0"].cases == 1 and stats["2.0.0"].reasons == {}
    assert NO_REASON not in v1.reasons


def _pdftotext(pdf: Path, first: int, last: int) -> str:
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    done = subprocess.run(
        [exe, "-f", str(first), "-l", str(last), "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=WAIT_S,
    )
    return done.stdout


def test_broken_chain_is_on_page_one_and_every_page(settings: Settings, tmp_path: Path) -> None:
    with AuditLog.open(settings) as log:
        fill(log, 120)
        conn = raw(log.path)
        drop_triggers(conn)
        conn.execute("UPDATE audit_log SET meaning='confirmed' WHERE seq=8")
        conn.close()
    result = export(settings, "pdf", tmp_path / "report.pdf")
    assert not result.verification.ok and result.verification.first_bad_seq == 8
    page1 = _pdftotext(result.path, 1, 1)
    assert "AUDIT LOG INTEGRITY FAILURE" in page1 and "First bad row: #8" in page1
    last = _pdftotext(result.path, 3, 3)
    assert "AUDIT LOG FAILED VERIFICATION" in last


def test_intact_report_contents(settings: Settings, tmp_path: Path, site_file: Path) -> None:
    site_file.write_text(
        '[audit]\nsite_name = "St. Example General, Radiology"\n', encoding="utf-8"
    )
    from viewer.config import load_settings

    settings = load_settings()
    with AuditLog.open(settings) as log:
        fill(log, 10)
    result = export(settings, "pdf", tmp_path / "report.pdf")
    text = _pdftotext(result.path, 1, 2)
    assert "Audit log integrity: VERIFIED" in text
    assert "St. Example General, Radiology" in text
    assert result.checkpoint.head_hash in text.replace("\n", "")
    assert "AI-positive" in text and "Override" in text


def test_japanese_text_uses_the_cjk_font(log: AuditLog) -> None:
    from viewer.audit import report

    log.append(decision(3, overrode=True))
    cells, styles = next(report._decision_rows(log.records(), {}))
    assert "佐藤 花子, Radiologist" in cells
    assert ("FONTNAME", (2, 0), (2, 0), report.CJK) in styles
    assert report._needs_cjk("佐藤") and not report._needs_cjk("Dr. Roe — “café” …")


def test_empty_log_still_makes_a_report(settings: Settings, tmp_path: Path) -> None:
    AuditLog.open(settings).close()
    result = export(settings, "pdf", tmp_path / "empty.pdf")
    assert result.rows == 0 and result.path.read_bytes().startswith(b"%PDF")


def test_very_long_free_text_is_cut_not_fatal(settings: Settings, tmp_path: Path) -> None:
    with AuditLog.open(settings) as log:
        for i in range(3):
            ev = decision(i, overrode=True)
            ev.reason = ("長い理由 " + "a very long reason " * 20) * 15  # ~5,000 characters
            ev.user = CLINICIAN.__class__("x", "N" * 200, "R" * 100)
            log.append(ev)
    result = export(settings, "pdf", tmp_path / "long.pdf")
    assert result.rows == 3 and result.path.read_bytes().startswith(b"%PDF")


def test_decisions_with_the_demo_model_carry_its_warning(
    settings: Settings, tmp_path: Path
) -> None:
    """Rows made with the demo model (detail.demo_model) are marked, and page 1 says why."""
    from viewer.audit import report

    with AuditLog.open(settings) as log:
        demo = decision(1)
        demo.detail = {"demo_model": True}
        log.append(demo)
        log.append(decision(2))
        records = log.records()
    rows = [cells for cells, _ in report._decision_rows(records, {})]
    meanings = [r[3].text if hasattr(r[3], "text") else str(r[3]) for r in rows]
    assert "DEMO MODEL" in meanings[0] and "DEMO MODEL" not in meanings[1]
    warning = report._demo_block(records)
    assert warning and "NOT FOR CLINICAL USE" in warning[-1].text
    assert "demo-cxr 1.2.0" in warning[-1].text
    assert report._demo_block(records[1:]) == []  # no demo rows, no warning
    result = export(settings, "pdf", tmp_path / "demo.pdf")
    page1 = _pdftotext(result.path, 1, 1)
    assert "DEMO MODEL" in page1 and "meaningless" in page1


def test_annotations_are_listed_as_counts_per_decision(settings: Settings, tmp_path: Path) -> None:
    """A decision row's ``detail.annotations`` (counts by kind) is its Annotations cell; a
    malformed value is left out, never shown raw."""
    from viewer.audit import report

    with AuditLog.open(settings) as log:
        ev = decision(1)
        ev.detail = {"annotations": {"distance": 2, "ctr": 1, "text": 1}}
        log.append(ev)
        odd = decision(2)
        odd.detail = {"annotations": {"distance": "2; DROP", "laser": 3, "angle": True}}
        log.append(odd)
        log.append(decision(3))
        rows = [cells for cells, _ in report._decision_rows(log.records(), {})]
    assert report.DECISION_HEAD[-1] == "Annotations"
    assert [getattr(r[-1], "text", r[-1]) for r in rows] == ["2 distance, 1 CTR, 1 text", "", ""]
    result = export(settings, "pdf", tmp_path / "annotations.pdf")
    text = _pdftotext(result.path, 1, 9)
    assert "Annotations" in text and "2 distance," in text and "1 CTR, 1" in text
    assert "counted by kind" in text
