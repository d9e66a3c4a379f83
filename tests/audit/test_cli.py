"""``bedside audit verify|show|export`` through the real root parser."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.audit.helpers import decision, drop_triggers, fill, raw
from viewer.audit import AuditLog
from viewer.cli.main import main
from viewer.config import Settings


@pytest.fixture
def filled(settings: Settings) -> Settings:
    with AuditLog.open(settings) as log:
        fill(log, 6)
        log.append(decision(40, patient="REAL-ID-9"))
    return settings


def test_verify_ok_and_recorded(filled: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify"]) == 0
    assert "intact: 7 rows" in capsys.readouterr().out
    with AuditLog.open(filled) as log:
        assert log.records(types=("verification",))[0].outcome == "success"


def test_verify_names_first_bad_row(filled: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    conn = raw(filled.audit_db_path)
    drop_triggers(conn)
    conn.execute("DELETE FROM audit_log WHERE seq=4")
    conn.close()
    assert main(["audit", "verify", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and out["first_bad_seq"] == 4 and out["triggers_ok"] is False


def test_verify_with_checkpoint_files_detects_truncation(
    filled: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.csv"
    assert main(["audit", "export", "--format", "csv", "--out", str(out)]) == 0
    cp = tmp_path / "r.csv.checkpoint.json"
    assert cp.is_file()
    assert main(["audit", "verify", "--checkpoint", str(cp)]) == 0
    conn = raw(filled.audit_db_path)
    drop_triggers(conn)
    conn.execute("DELETE FROM audit_log WHERE seq >= 6")
    conn.execute("DELETE FROM checkpoints")
    conn.close()
    capsys.readouterr()
    assert main(["audit", "verify", "--checkpoint", str(cp)]) == 1
    text = capsys.readouterr().out
    assert "First bad row: #6" in text and "missing" in text


def test_verify_other_db_read_only(filled: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", "--db", str(filled.audit_db_path) + "-missing"]) == 1
    assert "no audit log" in capsys.readouterr().err
    copy = filled.audit_db_path.with_name("copy.sqlite")
    with AuditLog.open(filled) as log, sqlite3.connect(copy) as dst:
        log.connection().backup(dst)
        rows_before = log.head()[0]
    assert main(["audit", "verify", "--db", str(copy)]) == 0
    with AuditLog.open_readonly(copy) as log:
        assert log.records(types=("verification",)) == []  # a copy under review is not written
    with AuditLog.open(filled) as log:
        assert log.head()[0] == rows_before  # nor is this installation's own log


def test_show_filters_and_json(filled: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "show", "--patient-id", "REAL-ID-9", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["verified"] is True and shown["first_bad_seq"] is None
    rows = shown["records"]
    assert [r["detail"]["i"] for r in rows] == [40]
    assert "REAL-ID-9" not in json.dumps(rows)
    assert main(["audit", "show", "--to", "2000-01-01"]) == 0
    assert "(0 records" in capsys.readouterr().out
    assert main(["audit", "show", "--from", "2000-01-01", "--type", "decision"]) == 0
    assert "(7 records" in capsys.readouterr().out


def test_export_pdf_and_bad_date(
    filled: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.pdf"
    assert main(["audit", "export", "--format", "pdf", "--out", str(out), "--user", "佐藤"]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    with pytest.raises(SystemExit):
        main(["audit", "show", "--from", "yesterday"])
    assert "not a date" in capsys.readouterr().err


def test_no_log_yet_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "show"]) == 1
    assert "no audit log" in capsys.readouterr().err


def test_bad_checkpoint_file_is_a_clear_error(
    filled: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.checkpoint.json"
    bad.write_text("{not json", encoding="utf-8")
    assert main(["audit", "verify", "--checkpoint", str(bad)]) == 1
    assert "is not JSON" in capsys.readouterr().err
    bad.write_text('{"format": "something else"}', encoding="utf-8")
    assert main(["audit", "verify", "--checkpoint", str(bad)]) == 1
    assert "not a Bedside audit checkpoint" in capsys.readouterr().err
