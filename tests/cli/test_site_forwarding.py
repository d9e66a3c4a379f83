"""`bedside site check` also says where this account's audit rows stand on their way to the
department store and ATNA (issue 18): up to date, or waiting since when and why as a warning;
nothing when the site forwards nowhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.audit.helpers import decision
from tests.servers import free_port
from viewer.audit import AuditLog
from viewer.audit.central import forward_central
from viewer.cli.main import main as bedside
from viewer.config import load_settings
from viewer.outbox import Backoff


def _central(site_file: Path) -> None:
    site_file.write_text(
        '[audit_central]\nenabled = true\nhost = "127.0.0.1"\n'
        f'port = {free_port()}\nsslmode = "disable"\nconnect_timeout_s = 2\n',
        encoding="utf-8",
    )


def test_nothing_configured_no_forwarding_lines(
    site_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bedside(["site", "check"])
    assert "Audit forwarding" not in capsys.readouterr().out
    bedside(["site", "check", "--json"])
    assert json.loads(capsys.readouterr().out)["forwarding"] == []


def test_up_to_date_is_a_line_and_no_warning(
    site_file: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _central(site_file)
    bedside(["site", "check"])
    out = capsys.readouterr().out
    assert f"Audit forwarding from this account ({data_dir}):" in out
    assert "  Department audit store: up to date" in out
    assert "WARNING  Department" not in out


def test_rows_that_do_not_move_are_a_warning_with_the_reason(
    site_file: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _central(site_file)
    settings = load_settings()
    with AuditLog.open(settings) as log:
        for i in range(5):
            log.append(decision(i))
    error = forward_central(settings, backoff=Backoff(first_s=60)).error
    assert error  # the real refusal of a port nobody listens on
    code = bedside(["site", "check"])
    out = capsys.readouterr().out
    assert "  Department audit store: 5 rows waiting since " in out
    warning = next(line for line in out.splitlines() if line.startswith("WARNING  Department"))
    assert error in warning and "(details: bedside audit central status)" in warning
    assert code == (0 if "ERROR" not in out else 1)  # a warning never fails the check
    bedside(["site", "check", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["data_dir"] == str(data_dir)
    (state,) = data["forwarding"]
    assert (state["destination"], state["state"], state["waiting"], state["held"]) == (
        "central",
        "failing",
        5,
        0,
    )
    assert state["last_error"] == error
    assert state["outbox"] == str(settings.central_outbox_path)
    assert any(f["code"] == "forwarding_failing" for f in data["findings"])
