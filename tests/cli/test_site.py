"""`bedside site check` (issue 18 item 2): a good site folder passes, each hostile one is named."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from tests.bundle.conftest import KeyPair
from viewer.cli.main import main as bedside
from viewer.session.site_check import check_site

DEMO_PUB = Path(__file__).resolve().parents[2] / "resources" / "demo" / "demo-signing-key.pub.pem"


def _site(tmp_path: Path, key: KeyPair, toml: str = "") -> Path:
    site = tmp_path / "site"
    keys = site / "trusted-keys"
    keys.mkdir(parents=True)
    site.chmod(0o755)
    keys.chmod(0o755)
    shutil.copy(key.public_path, keys / "site-models.pub.pem")
    (keys / "site-models.pub.pem").chmod(0o644)
    (site / "site.toml").write_text(toml, encoding="utf-8")
    (site / "site.toml").chmod(0o644)
    return site


def _codes(site: Path) -> dict[str, str]:
    report = check_site(site / "site.toml")
    return {f.code: f.level for f in report.findings}


def test_a_good_site_passes_and_prints_the_key(
    tmp_path: Path, key: KeyPair, capsys: pytest.CaptureFixture[str]
) -> None:
    site = _site(
        tmp_path, key, '[reading]\norder = "read_first"\n[audit]\nsite_name = "Radiology"\n'
    )
    assert bedside(["site", "check", "--site-dir", str(site)]) == 0
    out = capsys.readouterr().out
    assert 'reading.order = "read_first"' in out
    assert "Trusted keys: 1" in out and "site-models.pub.pem" in out
    assert "site folder OK: 0 error(s)" in out
    assert bedside(["site", "check", "--site-dir", str(site), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and len(data["trusted_keys"][0]["fingerprint"]) == 64
    assert data["site_values"] == {"reading.order": "read_first", "audit.site_name": "Radiology"}


def test_a_bad_site_file_is_reported_without_loading_settings(
    tmp_path: Path, key: KeyPair, capsys: pytest.CaptureFixture[str]
) -> None:
    site = _site(tmp_path, key, '[reading]\norder = "sideways"\nspeed = 3\n')
    # the same file named by BEDSIDE_SITE_CONFIG would stop every other command; this one reports
    assert bedside(["site", "check", "--site-dir", str(site)]) == 1
    out = capsys.readouterr().out
    assert "unknown key 'reading.speed'" in out and "reading.order" in out
    assert "NOT OK" in out


@pytest.mark.parametrize(
    ("toml", "code"),
    [
        ('locked = ["trust.allow_user_keys"]\n', "site_file"),  # a site-only key cannot be locked
        ('[audit]\nsecret_path = "relative/secret"\n', "relative_path"),
        ('[trust]\nsite_keys_dir = "/nonexistent/bedside-keys"\n', "missing_path"),
        ("[models]\nstore_dir = '/dev/null'\n", "path_kind"),
        ("this is not toml", "site_file"),
    ],
)
def test_hostile_site_files(tmp_path: Path, key: KeyPair, toml: str, code: str) -> None:
    site = _site(tmp_path, key, toml)
    codes = _codes(site)
    assert codes.get(code) == "error", codes
    assert not check_site(site / "site.toml").ok


def test_a_missing_certificate_is_an_error_a_log_not_yet_made_is_not(
    tmp_path: Path, key: KeyPair
) -> None:
    toml = (
        f'[audit]\ndb_path = "{tmp_path}/audit.sqlite"\n'
        f'[atna]\nca_file = "{tmp_path}/absent-ca.pem"\n'
    )
    report = check_site(_site(tmp_path, key, toml).joinpath("site.toml"))
    missing = [(f.level, "absent-ca.pem" in f.message) for f in report.findings
               if f.code == "missing_path"]  # fmt: skip
    assert sorted(missing) == [("error", True), ("warning", False)]


def test_a_world_readable_pseudonym_secret_is_a_warning(tmp_path: Path, key: KeyPair) -> None:
    secret = tmp_path / "site-secret"
    secret.write_bytes(b"x" * 32)
    secret.chmod(0o640)  # the clinicians' group may read it: the app runs as them
    site = _site(tmp_path, key, f'[audit]\nsecret_path = "{secret}"\n')
    assert "secret_readable" not in _codes(site)
    secret.chmod(0o644)
    assert _codes(site)["secret_readable"] == "warning"


def test_world_writable_folders_and_keys_are_errors(tmp_path: Path, key: KeyPair) -> None:
    site = _site(tmp_path, key)
    (site / "trusted-keys").chmod(0o777)
    report = check_site(site / "site.toml")
    assert [f.code for f in report.errors] == ["keys_writable"]
    assert "chmod o-w" in report.errors[0].message
    assert "its keys are not trusted" in report.errors[0].message  # what the app does with it
    (site / "trusted-keys").chmod(0o755)
    (site / "trusted-keys" / "site-models.pub.pem").chmod(0o666)
    report = check_site(site / "site.toml")
    assert [f.code for f in report.errors] == ["keys_writable"]
    assert not report.keys  # not listed as a trusted key either
    (site / "trusted-keys" / "site-models.pub.pem").chmod(0o644)
    site.chmod(0o777)
    assert [f.code for f in check_site(site / "site.toml").errors] == ["world_writable"]


def test_bad_duplicate_and_demo_keys(tmp_path: Path, key: KeyPair) -> None:
    site = _site(tmp_path, key)
    keys = site / "trusted-keys"
    shutil.copy(key.public_path, keys / "copy.pem")
    shutil.copy(DEMO_PUB, keys / "demo.pem")
    (keys / "garbage.pem").write_text("-----BEGIN PUBLIC KEY-----\nnope\n", encoding="utf-8")
    (keys / "notes.txt").write_text("not a key", encoding="utf-8")
    report = check_site(site / "site.toml")
    codes = {f.code: f.level for f in report.findings}
    assert codes["bad_key"] == "error"
    assert codes["duplicate_key"] == "warning"
    assert codes["demo_key"] == "warning"
    assert codes["not_pem"] == "warning"
    assert len(report.keys) == 3  # the two copies and the demo key: each parsed, each listed


def test_a_fifo_named_like_a_key_is_refused_without_blocking(tmp_path: Path, key: KeyPair) -> None:
    site = _site(tmp_path, key)
    fifo = site / "trusted-keys" / "fifo.pem"
    os.mkfifo(fifo)
    result: list[bool] = []
    worker = threading.Thread(target=lambda: result.append(check_site(site / "site.toml").ok))
    worker.start()
    worker.join(timeout=20)
    if worker.is_alive():  # unblock the reader before failing, so the test run does not hang
        with open(fifo, "w"):
            pass
        pytest.fail("site check blocked on a FIFO named like a key")
    assert result == [False]


def test_the_apps_trust_store_skips_a_fifo_too(
    tmp_path: Path, key: KeyPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    from viewer.bundle.trust import TrustStore
    from viewer.config import load_settings

    site = _site(tmp_path, key)
    os.mkfifo(site / "trusted-keys" / "a-fifo.pem")
    monkeypatch.setenv("BEDSIDE_SITE_CONFIG", str(site / "site.toml"))
    result: list[TrustStore] = []
    worker = threading.Thread(
        target=lambda: result.append(TrustStore.from_settings(load_settings())), daemon=True
    )
    worker.start()
    worker.join(timeout=20)
    if worker.is_alive():
        with open(site / "trusted-keys" / "a-fifo.pem", "w"):
            pass
        pytest.fail("the trust store blocked on a FIFO named like a key")
    store = result[0]
    assert len(store.keys) == 1 and "not a regular file" in store.problems[0]


def test_no_site_folder_is_a_warning_not_an_error(tmp_path: Path) -> None:
    report = check_site(tmp_path / "absent" / "site.toml")
    codes = {f.code: f.level for f in report.findings}
    assert report.ok
    assert codes == {"no_site_dir": "warning", "no_site_file": "info", "no_keys_dir": "warning"}


def test_the_linux_site_folder_does_not_follow_the_desktop_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """platformdirs answers $XDG_CONFIG_DIRS' first entry (/etc/xdg/xdg-ubuntu on Ubuntu): the
    menu and a terminal would read different site files. The package's folder is fixed."""
    from viewer.config import default_site_dir

    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("XDG_CONFIG_DIRS", "/etc/xdg/xdg-ubuntu:/etc/xdg")
    assert default_site_dir() == Path("/etc/bedside")


def test_without_site_dir_it_checks_the_file_the_app_reads(
    site_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """BEDSIDE_SITE_CONFIG (set by the test fixtures) is the file every other command reads."""
    site_file.write_text('[ui]\nleft_drag = "window"\n', encoding="utf-8")
    assert bedside(["site", "check", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["site_file"] == str(site_file)
    assert data["site_values"] == {"ui.left_drag": "window"}
