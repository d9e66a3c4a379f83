"""The ``[pacs]`` TLS and credential keys take the names ``[atna]`` and ``[audit_central]`` use
(ca_file, client_cert_file, client_key_file, password_file). A site file written for the old
names (ca_bundle, client_cert, client_key, secret_path) keeps working, TLS included (a real
Orthanc requiring this workstation's certificate accepts it), and ``bedside site check`` warns
about each old name; both names with different values is refused, never guessed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pacs.helpers import pacs_site, write_site
from tests.pacs.orthanc import OrthancServer, self_signed_pem
from viewer.cli.main import main
from viewer.config import PACS_RENAMED, load_settings
from viewer.errors import ConfigError
from viewer.pacs import dimse
from viewer.pacs.connection import PacsTarget


def test_a_site_file_with_the_old_names_keeps_its_tls(
    own_orthanc: OrthancServer, site_file: Path, tmp_path: Path
) -> None:
    client_cert, client_key = self_signed_pem(tmp_path / "client")
    own_orthanc.dicom_tls = True
    own_orthanc.client_cert_pem = client_cert  # Orthanc refuses a client without it
    own_orthanc.start()
    old = (
        f'tls = true\nca_bundle = "{own_orthanc.cert_pem}"\n'
        f'client_cert = "{client_cert}"\nclient_key = "{client_key}"\n'
    )
    settings = write_site(site_file, pacs_site(own_orthanc, transport="dimse", extra=old))
    pacs = settings.values.pacs
    assert (pacs.ca_file, pacs.client_cert_file, pacs.client_key_file) == (
        str(own_orthanc.cert_pem),
        str(client_cert),
        str(client_key),
    )
    assert dimse.echo(PacsTarget.from_settings(settings)) > 0  # mutual TLS with the old names


def test_site_check_warns_about_each_old_name(
    site_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "pacs-password"
    secret.write_text("S3cret\n", encoding="utf-8")
    secret.chmod(0o600)
    site_file.parent.mkdir(parents=True, exist_ok=True)
    site_file.write_text(f'[pacs]\nsecret_path = "{secret}"\n', encoding="utf-8")
    assert load_settings().values.pacs.password_file == str(secret)
    assert main(["site", "check", "--site-dir", str(site_file.parent)]) == 0  # a warning
    out = capsys.readouterr().out
    assert (
        "Key 'pacs.secret_path' is the old name of 'pacs.password_file' (the name [atna] and "
        "[audit_central] use): it still works, but rename it to password_file in the site file"
    ) in " ".join(out.split())
    # the new name: no warning
    site_file.write_text(f'[pacs]\npassword_file = "{secret}"\n', encoding="utf-8")
    assert main(["site", "check", "--site-dir", str(site_file.parent), "--json"]) == 0
    assert "renamed_key" not in capsys.readouterr().out


@pytest.mark.parametrize(("old", "new"), sorted(PACS_RENAMED.items()))
def test_both_names_with_different_values_are_refused(
    site_file: Path, tmp_path: Path, old: str, new: str
) -> None:
    a, b = tmp_path / "a.pem", tmp_path / "b.pem"
    with pytest.raises(ConfigError, match=rf"pacs\.{old} is the old name of pacs\.{new} and both"):
        write_site(site_file, f'[pacs]\n{old} = "{a}"\n{new} = "{b}"\n')
    same = write_site(site_file, f'[pacs]\n{old} = ""\n{new} = ""\n')  # the same: no doubt
    assert getattr(same.values.pacs, new) == ""
