"""``bedside audit atna send|status`` against a real rsyslog: what IT types, reads, and the exit
codes; a site file that cannot work is one clear sentence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.audit.atna_helpers import Pki, Rsyslog, parse_syslog, rsyslog_missing
from tests.audit.helpers import decision
from viewer.audit import AuditLog
from viewer.audit.atna_transport import SD_ID
from viewer.cli.main import main
from viewer.config import load_settings

pytestmark = pytest.mark.skipif(rsyslog_missing() is not None, reason=str(rsyslog_missing()))


def _site(site_file: Path, pki: Pki, port: int, *, cert: bool = True, extra: str = "") -> None:
    text = f'[atna]\nenabled = true\nhost = "localhost"\nport = {port}\nca_file = "{pki.ca}"\n'
    if cert:
        text += f'client_cert_file = "{pki.client_cert}"\n'
    text += f'client_key_file = "{pki.client_key}"\nconnect_timeout_s = 3.0\n{extra}'
    site_file.write_text(text, encoding="utf-8")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_send_once_queues_while_down_then_delivers_in_order(
    site_file: Path, pki: Pki, rsyslog: Rsyslog, capsys: pytest.CaptureFixture[str]
) -> None:
    rsyslog.stop()  # the repository is down at first
    _site(site_file, pki, rsyslog.port)
    with AuditLog.open(load_settings()) as log:
        for i in range(7):
            log.append(decision(i))
    code, out, err = _run(capsys, "audit", "atna", "send", "--once")
    assert code == 1
    assert "Queued 7, sent 0; 7 waiting" in out and "refused the connection" in err
    code, out, _ = _run(capsys, "audit", "atna", "status")
    assert code == 0 and "7 waiting" in out and "last error:" in out and "refused" in out
    rsyslog.start()
    code, out, _ = _run(capsys, "audit", "atna", "send", "--once")
    assert code == 0 and "Queued 0, sent 7; 0 waiting" in out
    seqs = [int(parse_syslog(line).sd[SD_ID]["seq"]) for line in rsyslog.wait_for(7)]
    assert seqs == list(range(1, 8))
    code, out, _ = _run(capsys, "audit", "atna", "status", "--json")
    status = json.loads(out)
    assert (status["pending"], status["sent"], status["last_error"]) == (0, 7, None)


def test_off_and_incomplete_settings_are_one_clear_sentence(
    site_file: Path, pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "audit", "atna", "send", "--once")
    assert code == 1 and "ATNA repository is off" in err and err.count("\n") == 1
    site_file.write_text('[atna]\nenabled = true\nhost = "audit.example.org"\n', encoding="utf-8")
    code, _, err = _run(capsys, "audit", "atna", "status")
    assert code == 1 and "no ca_file is given" in err and "Traceback" not in err
    _site(site_file, pki, 6514, cert=False)
    code, _, err = _run(capsys, "audit", "atna", "status")
    assert code == 1 and "client_cert_file and client_key_file go together" in err
    _site(site_file, pki, 6514, extra='facility = "local0"\n')
    code, _, err = _run(capsys, "audit", "atna", "status")
    assert code == 1 and "atna.facility" in err


def test_a_rolled_back_log_is_named_not_waited_for_in_silence(
    site_file: Path, pki: Pki, rsyslog: Rsyslog, capsys: pytest.CaptureFixture[str]
) -> None:
    _site(site_file, pki, rsyslog.port)
    settings = load_settings()
    db = settings.audit_db_path
    with AuditLog.open(settings) as log:
        for i in range(3):
            log.append(decision(i))
    saved = {p.name: p.read_bytes() for p in db.parent.glob(db.name + "*")}
    with AuditLog.open(settings) as log:
        for i in range(3, 7):
            log.append(decision(i))
    assert _run(capsys, "audit", "atna", "send", "--once")[0] == 0
    for p in db.parent.glob(db.name + "*"):
        p.unlink()
    for name, data in saved.items():
        (db.parent / name).write_bytes(data)  # the file as it was three rows ago
    code, _, err = _run(capsys, "audit", "atna", "send", "--once")
    assert code == 1
    assert "now ends at row #3, but rows up to #7 were already sent" in err
    assert len(rsyslog.wait_for(7)) == 7


def test_an_untrusted_repository_is_recorded_once_as_a_security_alert(
    tmp_path: Path, site_file: Path, pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    rogue = Rsyslog(tmp_path / "rogue", pki, server="rogue")
    rogue.start()
    try:
        _site(site_file, pki, rogue.port)
        with AuditLog.open(load_settings()) as log:
            log.append(decision(1))
        first = _run(capsys, "audit", "atna", "send", "--once")
        second = _run(capsys, "audit", "atna", "send", "--once")
    finally:
        rogue.stop()
    assert first[0] == second[0] == 1
    assert "Recorded in the audit log: node_authentication_failed." in first[1]
    assert "Recorded in the audit log" not in second[1]
    assert "not signed by the CA" in second[2] and "2 waiting" in second[1]
    code, out, _ = _run(capsys, "audit", "show", "--type", "node_authentication_failed")
    assert code == 0 and out.count("node_authentication_failed") == 1
