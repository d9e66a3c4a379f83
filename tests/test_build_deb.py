"""``make deb`` (issue 18 item 1): the package's layout, conffile, scripts and checksums.

Built from a two-file stand-in for the frozen app (the real one is 850 MB; CI builds, installs,
upgrades and purges the real package in packaging/deb_check.sh).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.packaging_modules import build_deb

pytestmark = pytest.mark.skipif(
    shutil.which("dpkg-deb") is None, reason="dpkg-deb (Debian's dpkg) is not installed"
)


def _app(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    (app / "_internal").mkdir(parents=True)
    exe = app / "bedside"
    exe.write_text("#!/bin/sh\necho bedside 0.1.0\n", encoding="utf-8")
    exe.chmod(0o755)
    (app / "_internal" / "lib.so").write_bytes(b"\x7fELF stand-in")
    return app


def _dpkg_deb(*args: str) -> str:
    return subprocess.run(
        ["dpkg-deb", *args], capture_output=True, text=True, check=True, timeout=60
    ).stdout


def test_the_package_layout_and_control(tmp_path: Path) -> None:
    mod = build_deb()
    out = tmp_path / "out"
    deb = mod.build(
        _app(tmp_path), out, version="0.1.0", revision="1", arch="amd64", compress="gzip"
    )
    assert deb.name == "bedside_0.1.0-1_amd64.deb"
    listing = _dpkg_deb("-c", str(deb))
    for path in (
        "./opt/bedside/bedside",
        "./opt/bedside/_internal/lib.so",
        "./etc/bedside/site.toml",
        "./etc/bedside/trusted-keys/",
        "./usr/share/applications/bedside.desktop",
        "./usr/share/icons/hicolor/scalable/apps/bedside.svg",
        "./usr/share/doc/bedside/it-guide.md",
        "./usr/share/doc/bedside/pacs.md",  # the guide links it
        "./usr/share/doc/bedside/models.md",
    ):
        assert path in listing, path
    assert "./usr/bin/bedside -> /opt/bedside/bedside" in listing
    assert "root/root" in listing and "-rwxr-xr-x" in listing
    assert _dpkg_deb("-f", str(deb), "Version") == "0.1.0-1\n"
    assert "libxcb-icccm4" in _dpkg_deb("-f", str(deb), "Depends")
    control = tmp_path / "control"
    _dpkg_deb("-e", str(deb), str(control))
    assert (control / "conffiles").read_text(encoding="utf-8") == "/etc/bedside/site.toml\n"
    for script in ("postinst", "prerm", "postrm"):
        text = (control / script).read_text(encoding="utf-8")
        assert (control / script).stat().st_mode & 0o111
        # no maintainer script deletes, moves or even names a user's data
        for word in ("rm ", "mv ", ".local", "audit.sqlite", "/home", "userdel"):
            assert word not in text.split("set -e", 1)[1], (script, word)


def test_the_example_site_file_is_valid_and_changes_nothing() -> None:
    from viewer.config import SettingsFile, read_settings_file

    parsed, raw = read_settings_file(build_deb().DEB / "site.toml")
    assert raw == {} and parsed == SettingsFile()


def test_versioned_names_and_checksums_beside_them(tmp_path: Path) -> None:
    mod = build_deb()
    out = tmp_path / "out"
    app = _app(tmp_path)
    for revision in ("1", "2"):
        mod.build(app, out, version="0.1.0", revision=revision, arch="amd64", compress="gzip")
    sums = (out / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    assert [line.split("  ")[1] for line in sums] == [
        "bedside_0.1.0-1_amd64.deb",
        "bedside_0.1.0-2_amd64.deb",
    ]
    check = subprocess.run(
        ["sha256sum", "--check", "SHA256SUMS"], cwd=out, capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
    (out / "bedside_0.1.0-2_amd64.deb").write_bytes(b"tampered")
    assert subprocess.run(["sha256sum", "--check", "SHA256SUMS"], cwd=out, capture_output=True,
                          timeout=60).returncode == 1  # fmt: skip


def test_a_missing_app_or_a_bad_revision_is_refused(tmp_path: Path) -> None:
    mod = build_deb()
    with pytest.raises(SystemExit, match="make freeze"):
        mod.build(tmp_path / "none", tmp_path, version="0.1.0", revision="1", arch="amd64",
                  compress="gzip")  # fmt: skip
    with pytest.raises(SystemExit, match="revision"):
        mod.build(_app(tmp_path), tmp_path, version="0.1.0", revision="1; rm -rf /",
                  arch="amd64", compress="gzip")  # fmt: skip
