"""Secret and TLS files a site file names that are not what they claim or are open to every
account: a "CA certificate" that holds no certificate, a client key encrypted with a passphrase,
a password file every account can read. ``bedside site check`` names each; the
commands that connect fail in one sentence instead of asking for a passphrase on the terminal
and waiting there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.servers import certificate, free_port
from viewer.cli.main import main as bedside
from viewer.session.site_check import check_site

BEDSIDE = Path(sys.executable).with_name("bedside")


def _site(tmp_path: Path, toml: str) -> Path:
    site = tmp_path / "site"
    (site / "trusted-keys").mkdir(parents=True)
    (site / "site.toml").write_text(toml, encoding="utf-8")
    return site / "site.toml"


def _encrypted_pair(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = tmp_path / "client.pem"
    cert.write_bytes(certificate("ward-3", key, None).public_bytes(serialization.Encoding.PEM))
    key_file = tmp_path / "client.key"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    key_file.chmod(0o600)
    return cert, key_file


@pytest.mark.parametrize("key", ["audit_central.ca_file", "atna.ca_file", "pacs.ca_file"])
@pytest.mark.parametrize("content", [b"not a certificate\n", b"\x00\xff" * 100, b""])
def test_site_check_names_a_ca_file_that_holds_no_certificate(
    tmp_path: Path, key: str, content: bytes
) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_bytes(content)
    section, name = key.split(".")
    site_file = _site(tmp_path, f'[{section}]\n{name} = "{bad}"\n')
    findings = [f for f in check_site(site_file).findings if f.code == "tls_file"]
    assert [f.level for f in findings] == ["error"]
    assert findings[0].message.startswith(f"Key '{key}' names {bad}, which holds no PEM")


@pytest.mark.parametrize("section", ["atna", "pacs"])
def test_site_check_names_an_encrypted_client_key(tmp_path: Path, section: str) -> None:
    cert, key = _encrypted_pair(tmp_path)
    site_file = _site(
        tmp_path, f'[{section}]\nclient_cert_file = "{cert}"\nclient_key_file = "{key}"\n'
    )
    assert bedside(["site", "check", "--site-dir", str(site_file.parent)]) == 1
    (finding,) = [f for f in check_site(site_file).findings if f.code == "tls_file"]
    assert "its unencrypted private key" in finding.message


@pytest.mark.skipif(shutil.which("script") is None, reason="needs script(1) for a terminal")
def test_an_encrypted_pacs_key_is_one_sentence_not_a_passphrase_prompt(tmp_path: Path) -> None:
    """Under a terminal (as IT runs it), OpenSSL would ask for the passphrase and wait."""
    cert, key = _encrypted_pair(tmp_path)
    site_file = _site(
        tmp_path,
        '[pacs]\nenabled = true\ntransport = "dimse"\nquery = "dimse"\nhost = "127.0.0.1"\n'
        f'port = {free_port()}\ncalled_aet = "PACS"\ntls = true\n'
        f'client_cert_file = "{cert}"\nclient_key_file = "{key}"\n',
    )
    env = {**os.environ, "BEDSIDE_SITE_CONFIG": str(site_file), "BEDSIDE_DATA_DIR": str(tmp_path)}
    try:
        done = subprocess.run(  # a fixed command line of the test's own
            ["script", "-qec", f"{BEDSIDE} pacs echo", "/dev/null"],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("bedside pacs echo waited for a passphrase on the terminal")
    out = done.stdout.decode(errors="replace")
    assert "pass phrase" not in out
    assert "FAIL C-ECHO" in out and "(PEM, the key unencrypted)" in out


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
@pytest.mark.parametrize("key", ["pacs.password_file", "audit_central.password_file"])
def test_site_check_warns_of_a_password_file_every_account_can_read(
    tmp_path: Path, key: str
) -> None:
    secret = tmp_path / "password"
    secret.write_text("S3cret\n", encoding="utf-8")
    secret.chmod(0o644)
    section, name = key.split(".")
    site_file = _site(tmp_path, f'[{section}]\n{name} = "{secret}"\n')
    (finding,) = [f for f in check_site(site_file).findings if f.code == "secret_readable"]
    assert finding.level == "warning"
    assert f"chmod o-r {secret}" in finding.message and "S3cret" not in finding.message
