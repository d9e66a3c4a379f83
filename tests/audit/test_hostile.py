"""Findings of the hostile-input review (numbers refer to its report): unsafe export targets,
a lost log restarted silently, dates out of range, foreign files, read-only logs, and rows shown
from a log that fails verification."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.audit.helpers import drop_triggers, fill, raw
from tests.audit.test_failures import NOBODY, _in_child_as, shared_data_dir  # noqa: F401
from viewer.audit import AuditLog, export, verify_log
from viewer.audit.state import state_path
from viewer.audit.store import AuditLogMissingError, sidecar_paths
from viewer.cli.main import main
from viewer.config import Settings, load_settings
from viewer.errors import AuditError


@pytest.fixture
def filled(settings: Settings) -> Settings:
    with AuditLog.open(settings) as log:
        fill(log, 6)
    return settings


def _snapshot(paths: list[Path]) -> dict[Path, bytes | None]:
    return {p: (p.read_bytes() if p.is_file() else None) for p in paths}


# ---------------------------------------------------------------- 2: where a report may go

PROTECTED: dict[str, Callable[[Settings], Path]] = {
    "audit-db": lambda s: s.audit_db_path,
    "audit-wal": lambda s: sidecar_paths(s.audit_db_path)[1],
    "audit-shm": lambda s: sidecar_paths(s.audit_db_path)[2],
    "site-secret": lambda s: s.secret_path,
    "installation-key": lambda s: s.installation_key_path,
    "state-file": state_path,
    "user-settings": lambda s: s.data_dir / "settings.toml",
    "model-store": lambda s: s.model_store_dir / "x" / "r.csv",
}


@pytest.mark.parametrize("target", list(PROTECTED), ids=list(PROTECTED))
def test_export_refuses_installation_files(
    filled: Settings, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    export(filled, "csv", filled.data_dir / "first.csv")  # creates the installation key
    (filled.model_store_dir / "x").mkdir(parents=True)
    out = PROTECTED[target](filled)
    guarded = [*sidecar_paths(filled.audit_db_path), filled.secret_path]
    guarded += [filled.installation_key_path, state_path(filled)]
    before = _snapshot(guarded)
    with AuditLog.open_readonly(filled.audit_db_path, settings=filled) as log:
        rows = log.head()[0]
    code = main(["audit", "export", "--format", "csv", "--out", str(out), "--force"])
    assert code == 1
    assert "Refusing to write the report" in capsys.readouterr().err
    assert not out.with_name(out.name + ".checkpoint.json").exists() or target == "state-file"
    with AuditLog.open_readonly(filled.audit_db_path, settings=filled) as log:
        assert log.head()[0] == rows  # nothing was recorded either
        assert verify_log(log).ok
    after = _snapshot(guarded)
    for path in (filled.audit_db_path, filled.secret_path, filled.installation_key_path):
        assert after[path] == before[path]


def test_export_refuses_symlink_and_hard_link_to_the_log(
    filled: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "innocent.csv"
    link.symlink_to(filled.secret_path)
    assert main(["audit", "export", "--format", "csv", "--out", str(link), "--force"]) == 1
    assert "site-secret" in capsys.readouterr().err
    hard = tmp_path / "hard.csv"
    os.link(filled.secret_path, hard)
    assert main(["audit", "export", "--format", "csv", "--out", str(hard), "--force"]) == 1
    assert "Refusing" in capsys.readouterr().err


def test_export_refuses_special_files_and_folders(
    filled: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert main(["audit", "export", "--format", "csv", "--out", str(fifo), "--force"]) == 1
    assert "device, pipe or socket" in capsys.readouterr().err
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # still the FIFO
    assert not (tmp_path / "pipe.csv.checkpoint.json").exists()
    assert main(["audit", "export", "--format", "csv", "--out", "/dev/null", "--force"]) == 1
    assert "device, pipe or socket" in capsys.readouterr().err
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)
    (tmp_path / "dir.csv").mkdir()
    assert main(["audit", "export", "--format", "csv", "--out", str(tmp_path / "dir.csv")]) == 1
    assert "is a folder" in capsys.readouterr().err


def test_export_needs_force_to_replace_a_file(
    filled: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.csv"
    out.write_text("keep me", encoding="utf-8")
    assert main(["audit", "export", "--format", "csv", "--out", str(out)]) == 1
    assert "--force" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "keep me"
    assert not (tmp_path / "r.csv.checkpoint.json").exists()
    other = tmp_path / "s.csv"
    cp = tmp_path / "s.csv.checkpoint.json"
    cp.write_text("an earlier checkpoint", encoding="utf-8")
    assert main(["audit", "export", "--format", "csv", "--out", str(other)]) == 1
    assert cp.read_text(encoding="utf-8") == "an earlier checkpoint"
    assert not other.exists()
    assert main(["audit", "export", "--format", "csv", "--out", str(out), "--force"]) == 0
    assert out.read_text(encoding="utf-8-sig").startswith("seq,")
    assert json.loads((tmp_path / "r.csv.checkpoint.json").read_text(encoding="utf-8"))["count"] > 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


# ---------------------------------------------------------- 3: a lost log is not a new log


@pytest.mark.parametrize("how", ["emptied", "deleted"])
def test_lost_log_is_refused_not_restarted(
    filled: Settings, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for p in sidecar_paths(filled.audit_db_path):
        p.unlink(missing_ok=True)
    if how == "emptied":
        filled.audit_db_path.write_bytes(b"")
    with pytest.raises(AuditLogMissingError, match="missing or empty although this installation"):
        AuditLog.open(filled)
    assert main(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert "recorded 6 row(s)" in err and "restore it" in err.lower()
    assert main(["audit", "show"]) == 1
    assert "missing or empty" in capsys.readouterr().err
    assert filled.audit_db_path.exists() == (how == "emptied")  # nothing was created
    if how == "emptied":
        assert filled.audit_db_path.stat().st_size == 0


def test_lost_log_of_an_installation_without_state_file_is_refused(filled: Settings) -> None:
    export(filled, "csv", filled.data_dir / "r.csv")  # signs a checkpoint: installation key
    state_path(filled).unlink()  # as an installation from before the state file existed
    for p in sidecar_paths(filled.audit_db_path):
        p.unlink(missing_ok=True)
    with pytest.raises(AuditLogMissingError, match="installation key"):
        AuditLog.open(filled)


def test_new_log_only_explicitly_and_recorded(
    filled: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    with AuditLog.open(filled) as log:
        old_id = log.log_id
    assert main(["audit", "init", "--new-log", "--reason", "disk replaced"]) == 1
    assert "holds 6 row(s)" in capsys.readouterr().err
    for p in sidecar_paths(filled.audit_db_path):
        p.unlink(missing_ok=True)
    assert main(["audit", "init", "--new-log", "--reason", "disk replaced, no backup"]) == 0
    with AuditLog.open(filled) as log:
        first = log.get(1)
        assert first is not None and first.type == "log_started"
        assert first.reason == "disk replaced, no backup"
        assert first.detail["previous_log"]["log_id"] == old_id
        assert first.detail["previous_log"]["rows"] == 6
        assert log.log_id != old_id
        assert verify_log(log).ok


def test_truncated_or_replaced_log_fails_verify_without_checkpoints(
    filled: Settings, tmp_path: Path
) -> None:
    conn = raw(filled.audit_db_path)
    drop_triggers(conn)
    conn.execute("DELETE FROM audit_log WHERE seq >= 5")
    conn.execute("DELETE FROM checkpoints")
    conn.close()
    with AuditLog.open(filled) as log:
        result = verify_log(log)
    assert not result.ok and result.first_bad_seq == 5
    other = load_settings(env={"BEDSIDE_DATA_DIR": str(tmp_path / "other")})
    with AuditLog.open(other) as log:
        fill(log, 7)
    for p in sidecar_paths(filled.audit_db_path):
        p.unlink(missing_ok=True)
    (tmp_path / "other" / "audit.sqlite").rename(filled.audit_db_path)
    with AuditLog.open(filled) as log:
        result = verify_log(log)
    assert not result.ok and "was replaced" in result.problems[0]


def test_fresh_installation_still_starts_a_log(settings: Settings) -> None:
    settings.audit_db_path.parent.mkdir(parents=True, exist_ok=True)
    settings.audit_db_path.write_bytes(b"")  # a 0-byte file and no history: a first start
    with AuditLog.open(settings) as log:
        fill(log, 1)
        assert verify_log(log).ok


# ------------------------------------------------------------------ 11, 12: dates in argparse


@pytest.mark.parametrize(
    "args",
    [
        ["--from", "0001-01-01", "--to", "9999-12-31"],
        ["--to", "9999-12-31T23:59:59-05:00"],
        ["--from", "0001-01-01T00:00+05:00"],
    ],
    ids=["to-max-day", "to-past-max-in-utc", "from-before-min-in-utc"],
)
def test_extreme_dates(
    filled: Settings, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(["audit", "show", *args])
    except SystemExit as exc:  # out of range once moved to UTC: a usage error
        assert exc.code == 2
        assert "out of the supported date range" in capsys.readouterr().err
        return
    assert code == 0
    assert "(6 records" in capsys.readouterr().out


def test_to_max_day_in_export(filled: Settings, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    assert (
        main(["audit", "export", "--format", "csv", "--out", str(out), "--to", "9999-12-31"]) == 0
    )


@pytest.mark.parametrize("bad", ["2026-02-30T25:99", "2026-02-30", "tomorrow"])
def test_bad_to_date_is_a_usage_error(
    filled: Settings, bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["audit", "show", "--to", bad])
    assert exc.value.code == 2
    assert "is not a date" in capsys.readouterr().err


# ---------------------------------------------------------- 13: foreign or empty --db files


@pytest.mark.parametrize("kind", ["empty", "foreign-sqlite"])
def test_verify_foreign_db_is_not_an_audit_log(
    filled: Settings, tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "x.sqlite"
    if kind == "empty":
        db.write_bytes(b"")
    else:
        with sqlite3.connect(db) as conn:
            conn.execute("CREATE TABLE t (a)")
        conn.close()
    assert main(["audit", "verify", "--db", str(db)]) == 1
    assert "not a Bedside audit log" in capsys.readouterr().err


def test_verify_log_without_meta_table_fails_cleanly(filled: Settings) -> None:
    conn = raw(filled.audit_db_path)
    drop_triggers(conn)
    conn.execute("DROP TABLE meta")
    conn.close()
    with AuditLog.open_readonly(filled.audit_db_path, settings=filled) as log:
        result = verify_log(log)
    assert not result.ok and any("meta" in p for p in result.problems)


# ------------------------------------------------------------------- 19: read-only logs


def _make_read_only(data: Path) -> None:
    for p in data.iterdir():
        p.chmod(0o400)
    data.chmod(0o500)


def test_read_only_log_can_be_verified_and_browsed(shared_data_dir: Path) -> None:  # noqa: F811
    as_user = NOBODY if os.geteuid() == 0 else None
    site = shared_data_dir.parent / "site.toml"  # the test's default site file is root-only
    site.write_text("", encoding="utf-8")
    site.chmod(0o644)
    env = {"BEDSIDE_DATA_DIR": str(shared_data_dir), "BEDSIDE_SITE_CONFIG": str(site)}

    settings = load_settings(env=env)

    def write() -> str:
        with AuditLog.open(settings) as log:
            fill(log, 4)
        return "done"

    def run(*argv: str) -> Callable[[], str]:
        def work() -> str:
            import contextlib
            import io

            os.environ.update(env)
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(list(argv))
            return json.dumps([code, out.getvalue(), err.getvalue()])

        return work

    assert _in_child_as(as_user, write) == "done"
    assert not sidecar_paths(settings.audit_db_path)[1].exists()  # clean close: no -wal
    _make_read_only(shared_data_dir)
    answer = _in_child_as(as_user, run("audit", "verify", "--json"))
    assert answer.startswith("["), answer
    code, out, err = json.loads(answer)
    assert code == 0, err
    assert json.loads(out)["ok"] is True and json.loads(out)["recorded"] is False
    assert "NOT recorded" in err
    code, out, err = json.loads(
        _in_child_as(as_user, run("audit", "verify", "--db", str(settings.audit_db_path)))
    )
    assert code == 0 and "intact: 4 rows" in out, err
    code, out, err = json.loads(_in_child_as(as_user, run("audit", "show")))
    assert code == 0 and "(4 records" in out, err
    report = shared_data_dir.parent / "r.csv"
    code, out, err = json.loads(
        _in_child_as(as_user, run("audit", "export", "--format", "csv", "--out", str(report)))
    )
    assert code == 1 and "No report was written" in err and "read-only" in err
    assert not report.exists()


def test_wal_with_rows_on_read_only_media_is_refused_clearly(
    filled: Settings,
    shared_data_dir: Path,  # noqa: F811
) -> None:
    """A -wal holding rows can be read from read-only media with its -shm, and without it is
    refused clearly (reading the main file alone would silently miss rows)."""
    media = shared_data_dir
    keeper = AuditLog.open(filled)  # an open writer keeps the -wal
    try:
        fill(keeper, 2)
        for suffix in ("", "-wal", "-shm"):
            (media / f"audit.sqlite{suffix}").write_bytes(
                Path(str(filled.audit_db_path) + suffix).read_bytes()
            )
    finally:
        keeper.close()
    assert (media / "audit.sqlite-wal").stat().st_size > 0
    for p in media.iterdir():
        p.chmod(0o444)  # readable by the reviewer, writable by nobody
    media.chmod(0o555)
    as_user = NOBODY if os.geteuid() == 0 else None

    def read() -> str:
        try:
            with AuditLog.open_readonly(media / "audit.sqlite") as log:
                result = verify_log(log)
                return f"opened {result.rows} {result.ok}"
        except AuditError as exc:
            return f"refused: {exc}"

    assert _in_child_as(as_user, read) == "opened 8 True"
    media.chmod(0o700)
    (media / "audit.sqlite-shm").unlink()
    media.chmod(0o555)
    out = _in_child_as(as_user, read)
    assert out.startswith("refused:") and "Copy the log together with its -wal" in out, out


# ------------------------------------------------------------- 21: show warns on tampering


def test_show_warns_when_the_chain_does_not_verify(
    filled: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    conn = raw(filled.audit_db_path)
    drop_triggers(conn)
    conn.execute("UPDATE audit_log SET reason='edited' WHERE seq=3")
    conn.close()
    assert main(["audit", "show"]) == 1
    captured = capsys.readouterr()
    assert "FAILED VERIFICATION (first bad row #3)" in captured.err
    assert "CHAIN NOT VERIFIED" in captured.out
    assert main(["audit", "show", "--json"]) == 1
    shown = json.loads(capsys.readouterr().out)
    assert shown["verified"] is False and shown["first_bad_seq"] == 3
    assert len(shown["records"]) == 6


@pytest.mark.parametrize(
    "value", [b"\x00binary", float("inf")], ids=["blob-in-text-column", "infinite-score"]
)
def test_planted_values_that_json_cannot_hold_are_reported_not_raised(
    filled: Settings, value: object
) -> None:
    conn = raw(filled.audit_db_path)
    drop_triggers(conn)
    column = "reason" if isinstance(value, bytes) else "score"
    conn.execute(f"UPDATE audit_log SET {column}=? WHERE seq=2", (value,))  # noqa: S608
    conn.close()
    with AuditLog.open_readonly(filled.audit_db_path, settings=filled) as log:
        result = verify_log(log)
    assert not result.ok and result.first_bad_seq == 2


# ------------------------------------------- issue 12.3: what a local chain cannot prove

LIMIT_WORDS = (
    "cannot prove",
    "truncated tail",
    "installation's key",
    "rolled back together with its state file",
    "checkpoint kept elsewhere",
    "bedside audit verify --checkpoint FILE",
)


def _assert_limits(text: str) -> None:
    flat = " ".join(text.split())
    for words in LIMIT_WORDS:
        assert words in flat, (words, flat)


@pytest.mark.parametrize("broken", [False, True], ids=["intact", "broken"])
def test_verify_says_what_a_local_chain_cannot_prove(
    filled: Settings, capsys: pytest.CaptureFixture[str], broken: bool
) -> None:
    if broken:
        conn = raw(filled.audit_db_path)
        drop_triggers(conn)
        conn.close()
    assert main(["audit", "verify"]) == (1 if broken else 0)
    _assert_limits(capsys.readouterr().out)
    assert main(["audit", "verify", "--json"]) == (1 if broken else 0)
    out = json.loads(capsys.readouterr().out)
    _assert_limits(out["limits"])


def _story_text(flowables: object) -> str:
    """The words of a report's flowables (paragraphs inside tables and groups too)."""
    from reportlab.platypus import Paragraph, Table

    if isinstance(flowables, Paragraph):
        return flowables.text  # type: ignore[no-any-return]
    if isinstance(flowables, Table):
        return " ".join(_story_text(cell) for row in flowables._cellvalues for cell in row)
    if isinstance(flowables, list | tuple):
        return " ".join(_story_text(f) for f in flowables)
    content = getattr(flowables, "_content", None)
    return _story_text(content) if content is not None else ""


def _capture_story(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    from viewer.audit import report

    texts: list[str] = []
    real = report.story

    def story(scope: report.ReportScope, records: object) -> list[object]:
        flowables = real(scope, records)  # type: ignore[arg-type]
        texts.append(_story_text(flowables))
        return flowables

    monkeypatch.setattr(report, "story", story)
    return texts


@pytest.mark.parametrize("broken", [False, True], ids=["intact", "broken"])
def test_report_says_what_a_local_chain_cannot_prove(
    filled: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: bool
) -> None:
    if broken:
        conn = raw(filled.audit_db_path)
        drop_triggers(conn)
        conn.close()
    texts = _capture_story(monkeypatch)
    export(filled, "pdf", tmp_path / "report.pdf")
    assert len(texts) == 1
    _assert_limits(texts[0])


# ------------------------------------ issue 12.13: one checkpoint per export, named after it


def test_pdf_csv_and_json_of_one_base_name_each_keep_their_checkpoint(
    filled: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    texts = _capture_story(monkeypatch)
    for fmt in ("pdf", "csv", "json"):
        out = tmp_path / f"report.{fmt}"
        assert main(["audit", "export", "--format", fmt, "--out", str(out)]) == 0, (
            capsys.readouterr()
        )
        assert f"report.{fmt}.checkpoint.json" in capsys.readouterr().out
    files = {fmt: tmp_path / f"report.{fmt}.checkpoint.json" for fmt in ("pdf", "csv", "json")}
    with AuditLog.open(filled) as log:
        exported = {
            r.detail["file"]: r.detail["checkpoint"]
            for r in log.records(types=("report_exported",))
        }
    for fmt, path in files.items():
        cp = json.loads(path.read_text(encoding="utf-8"))
        recorded = exported[f"report.{fmt}"]
        assert (cp["count"], cp["head_hash"], cp["time"]) == (
            recorded["count"],
            recorded["head_hash"],
            recorded["time"],
        ), fmt
    assert "report.pdf.checkpoint.json" in texts[0]  # the PDF names its own checkpoint file
    pdf_cp = json.loads(files["pdf"].read_text(encoding="utf-8"))
    assert pdf_cp["head_hash"] in texts[0].replace("<br/>", "")
    assert main(["audit", "verify", "--checkpoint", *map(str, files.values())]) == 0
