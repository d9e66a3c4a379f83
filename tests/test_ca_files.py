"""A CA file other accounts can change is never trusted (``viewer.paths.ca_file_problem``): the
rule, and ``bedside site check`` saying it in the sentence every connection refuses it with.

The suite runs as root (here and in CI): mode bits still decide the rule for root, so the tests
set them with chmod; giving the file to another user or group needs root (skipped otherwise)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.pacs.orthanc import self_signed_pem
from viewer.paths import ca_file_problem
from viewer.session.site_check import check_site

posix_only = pytest.mark.skipif(os.name != "posix", reason="file mode bits are POSIX")
as_root = pytest.mark.skipif(
    os.name != "posix" or os.geteuid() != 0, reason="giving a file to another account needs root"
)
STRANGER = 4242  # a uid and gid no account of this machine uses


@pytest.fixture
def ca(tmp_path: Path) -> Path:
    cert, _key = self_signed_pem(tmp_path / "pki")
    cert.chmod(0o644)
    return cert


def writable(ca: Path, who: str, fix: str) -> str:
    return (
        f"The CA file in pacs.ca_file ({ca}) is writable by other users ({who}): it is not "
        f"trusted until IT fixes its permissions (run: {fix} {ca})."
    )


@posix_only
def test_only_root_and_this_account_may_write_a_ca_file(ca: Path) -> None:
    assert ca_file_problem(ca, "pacs.ca_file") is None
    ca.chmod(0o664)  # its group is the owner's (root's, or this account's own)
    assert ca_file_problem(ca, "pacs.ca_file") is None
    ca.chmod(0o666)
    assert ca_file_problem(ca, "pacs.ca_file") == writable(
        ca, "every account on this computer, mode 0666", "chmod o-w"
    )
    ca.chmod(0o602)
    assert ca_file_problem(ca, "pacs.ca_file") == writable(
        ca, "every account on this computer, mode 0602", "chmod o-w"
    )
    assert ca_file_problem(ca.parent / "missing.pem", "pacs.ca_file") is None  # its loader says


@as_root
def test_a_ca_file_another_group_or_user_can_write_is_refused(ca: Path) -> None:
    os.chown(ca, -1, STRANGER)
    assert ca_file_problem(ca, "pacs.ca_file") is None  # 0644: the group cannot write
    ca.chmod(0o664)
    assert ca_file_problem(ca, "pacs.ca_file") == writable(
        ca, f"the members of group {STRANGER}, mode 0664", "chmod g-w"
    )
    os.chown(ca, 0, 0)
    assert ca_file_problem(ca, "pacs.ca_file") is None
    os.chown(ca, STRANGER, 0)
    ca.chmod(0o644)  # read-only for everyone else, but its owner may chmod it at will
    assert ca_file_problem(ca, "pacs.ca_file") == writable(
        ca, f"it belongs to user id {STRANGER}", "chown root"
    )


@posix_only
def test_site_check_reports_each_writable_ca_file_in_the_refusal_sentence(
    tmp_path: Path, ca: Path
) -> None:
    site = tmp_path / "checked-site"
    site.mkdir()
    (site / "site.toml").write_text(
        f'[pacs]\nca_file = "{ca}"\n[atna]\nca_file = "{ca}"\n[audit_central]\nca_file = "{ca}"\n',
        encoding="utf-8",
    )
    assert [f for f in check_site(site / "site.toml").errors if "ca_file" in f.message] == []
    ca.chmod(0o666)
    found = [f for f in check_site(site / "site.toml").errors if str(ca) in f.message]
    assert [(f.code, f.message) for f in found] == [
        ("ca_file_writable", ca_file_problem(ca, key))
        for key in ("audit_central.ca_file", "atna.ca_file", "pacs.ca_file")
    ]
    assert "world_writable" not in {f.code for f in found}  # said once, not twice


def test_group_write_is_trusted_only_for_root_or_a_private_group() -> None:
    """A group-writable CA or key file is the owner's alone only when its group is root's or
    the owner's user private group (its own name, no other members); a shared primary group
    ('users', 'nogroup', 'domain users') is other accounts, and an account the system cannot
    look up is not trusted."""
    import pwd

    from viewer.paths import _private_group

    assert _private_group(0, 0)  # root's own group
    nobody = pwd.getpwnam("nobody")
    assert not _private_group(nobody.pw_uid, nobody.pw_gid)  # primary, but 'nogroup': shared
    assert not _private_group(0, 100)  # 'users' is not root's own group
    assert not _private_group(987_654, 987_654)  # no such account: cannot tell, not trusted
