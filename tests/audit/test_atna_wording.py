"""What ``bedside audit atna send`` says when the repository's port is not what the site file
thinks: a port that accepts and says nothing, a port that speaks plain text, a repository
that wants this workstation's certificate. Each is a sentence naming the repository and what to
check, never OpenSSL's own words ("_ssl.c:1000: The handshake operation timed out",
"[SSL: WRONG_VERSION_NUMBER]", "TLSV13_ALERT_CERTIFICATE_REQUIRED")."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.audit.atna_helpers import Pki, Rsyslog, rsyslog_missing
from tests.audit.helpers import decision
from viewer.audit import AuditLog
from viewer.cli.main import main
from viewer.config import load_settings

# OpenSSL's and CPython's own wording: upper-case reason codes, the C source file
RAW = re.compile(r"_ssl\.c|\[SSL|[A-Z0-9]+_[A-Z0-9_]{4,}|operation timed out")


def _send(
    capsys: pytest.CaptureFixture[str], site_file: Path, pki: Pki, port: int, *, cert: bool
) -> str:
    text = f'[atna]\nenabled = true\nhost = "localhost"\nport = {port}\nca_file = "{pki.ca}"\n'
    if cert:
        text += f'client_cert_file = "{pki.client_cert}"\nclient_key_file = "{pki.client_key}"\n'
    site_file.parent.mkdir(parents=True, exist_ok=True)
    site_file.write_text(text + "connect_timeout_s = 1.0\n", encoding="utf-8")
    with AuditLog.open(load_settings()) as log:
        log.append(decision(1))
    code = main(["audit", "atna", "send", "--once"])
    out, err = capsys.readouterr()
    assert code == 1, (out, err)
    return err


@pytest.fixture
def silent_port() -> Iterator[int]:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # the kernel completes the handshakes; nobody ever reads
        yield int(silent.getsockname()[1])


class _Quiet(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Not on the test's stderr, which holds what the command said."""


@pytest.fixture
def http_port() -> Iterator[int]:
    """A plain HTTP server (the standard library's): a port that is not syslog over TLS."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_a_port_that_never_answers_the_handshake(
    capsys: pytest.CaptureFixture[str], site_file: Path, pki: Pki, silent_port: int
) -> None:
    err = _send(capsys, site_file, pki, silent_port, cert=True)
    assert (
        f"the ATNA repository localhost:{silent_port} accepted the connection but did not " in err
    )
    assert "TLS handshake within 1 s: check that atna.port is" in err and "6514" in err
    assert not RAW.search(err), err


def test_a_port_that_speaks_plain_text(
    capsys: pytest.CaptureFixture[str], site_file: Path, pki: Pki, http_port: int
) -> None:
    err = _send(capsys, site_file, pki, http_port, cert=True)
    assert f"the ATNA repository localhost:{http_port}" in err
    assert "does not speak TLS" in err and "atna.port" in err
    assert not RAW.search(err), err


@pytest.mark.skipif(rsyslog_missing() is not None, reason=str(rsyslog_missing()))
def test_a_repository_that_wants_this_workstations_certificate(
    capsys: pytest.CaptureFixture[str], site_file: Path, pki: Pki, rsyslog: Rsyslog
) -> None:
    err = _send(capsys, site_file, pki, rsyslog.port, cert=False)
    assert f"the ATNA repository localhost:{rsyslog.port}" in err
    assert "atna.client_cert_file" in err
    assert not RAW.search(err), err
