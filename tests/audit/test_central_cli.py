"""``bedside audit central setup|status``, ``audit forward``, ``audit verify --central`` and
``audit report --central`` against a real PostgreSQL: what IT types, what it reads, exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.audit.central_helpers import workstation
from tests.audit.helpers import decision, drop_triggers, raw, restore_triggers
from tests.audit.pg_cluster import ADMIN_PASSWORD, PgCluster
from viewer.audit import AuditLog
from viewer.audit.central import workstation_id
from viewer.cli.main import main
from viewer.config import Settings


def _use(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("BEDSIDE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BEDSIDE_SITE_CONFIG", str(settings.site_file))


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _department(
    root: Path, cluster: PgCluster, monkeypatch: pytest.MonkeyPatch, schema: str
) -> tuple[Settings, Settings]:
    a = workstation(root / "a", cluster, schema, "ward-a")
    b = workstation(root / "b", cluster, schema, "ward-b")
    admin_pw = root / "admin-pw"
    admin_pw.write_text(ADMIN_PASSWORD + "\n", encoding="utf-8")
    _use(monkeypatch, a)
    assert main(["audit", "central", "setup", "--admin-password-file", str(admin_pw)]) == 0
    for ws, overrides in ((a, (1, 5)), (b, (2,))):
        with AuditLog.open(ws) as log:
            for i in range(8):
                log.append(decision(i, overrode=i in overrides))
    return a, b


def test_setup_forward_status_verify_and_report(
    pg_cluster: PgCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, b = _department(tmp_path, pg_cluster, monkeypatch, "t_cli")
    out = capsys.readouterr().out
    assert "may INSERT and SELECT only" in out and "TRUNCATE refused" in out
    for ws in (a, b):
        _use(monkeypatch, ws)
        code, out, _err = _run(capsys, "audit", "forward", "--once")
        assert code == 0 and "Queued 8, sent 8; 0 waiting, 0 held" in out
    code, out, _err = _run(capsys, "audit", "central", "status", "--json")
    status = json.loads(out)
    assert code == 0 and status["append_only"] is True and status["sent"] == 8
    names = [workstation_id(a), workstation_id(b)]
    assert names[0].startswith("ward-a-") and names[1].startswith("ward-b-")
    assert [w["workstation"] for w in status["workstations"]] == names
    code, out, _err = _run(capsys, "audit", "verify", "--central")
    assert code == 0 and "agrees with the department store" in out
    assert f"[ok ] store chain of {names[0]}: 8 rows" in out

    code, out, _err = _run(capsys, "audit", "report", "--central", "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] is True
    assert [(w["workstation"], w["decisions"]) for w in report["workstations"]] == [
        (names[0], 8),
        (names[1], 8),
    ]
    (model,) = report["models"]
    assert model["cases"] == 16 and model["override_rate"] == pytest.approx(3 / 16)
    code, out, _err = _run(capsys, "audit", "report", "--central", "--workstation", names[0])
    assert code == 0 and names[0] in out and "ward-b" not in out and "8 cases" in out
    code, _out, err = _run(capsys, "audit", "report", "--central", "--workstation", "nowhere")
    assert code == 1 and f"no rows of workstation nowhere (known: {', '.join(names)})" in err


def test_verify_central_exit_codes_for_evidence_and_for_a_store_that_is_down(
    pg_cluster: PgCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, _b = _department(tmp_path, pg_cluster, monkeypatch, "t_cli_exit")
    capsys.readouterr()
    _use(monkeypatch, a)
    assert main(["audit", "forward", "--once"]) == 0
    conn = raw(a.audit_db_path)
    drop_triggers(conn)
    conn.execute("DELETE FROM audit_log WHERE seq > 6")
    restore_triggers(conn)
    conn.close()
    capsys.readouterr()
    code, out, _err = _run(capsys, "audit", "verify", "--central", "--json")
    result = json.loads(out)
    assert code == 1 and result["ok"] is False
    assert [f["kind"] for f in result["findings"]] == ["truncated"]
    code, _out, err = _run(capsys, "audit", "forward", "--once")
    assert code == 1 and "now ends at row #6" in err

    site = Path(str(a.site_file))
    site.write_text(
        site.read_text(encoding="utf-8").replace(f"port = {pg_cluster.port}", "port = 1"),
        encoding="utf-8",
    )
    code, _out, err = _run(capsys, "audit", "verify", "--central")
    assert code == 3 and "cannot be reached" in err and "nothing is lost" in err
    code, out, _err = _run(capsys, "audit", "central", "status")
    assert code == 0 and "cannot be reached" in out


def test_bad_settings_are_a_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = Path(str(tmp_path / "site" / "site.toml"))
    site.write_text('[audit_central]\nenabled = true\nsslmode = "verify-full"\n', encoding="utf-8")
    code, _out, err = _run(capsys, "audit", "central", "status")
    assert code == 1 and "no host is given (set audit_central.host)" in err
    site.write_text(
        '[audit_central]\nenabled = true\nhost = "db"\ndb_schema = "x; DROP TABLE"\n',
        encoding="utf-8",
    )
    code, _out, err = _run(capsys, "audit", "central", "status")
    assert code == 1 and "audit_central.db_schema" in err
    assert "Traceback" not in err


def test_version_does_not_import_psycopg() -> None:
    import subprocess

    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "viewer", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "psycopg" not in out.stderr and "bedside" in out.stdout
