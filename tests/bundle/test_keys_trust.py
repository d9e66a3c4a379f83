"""Keys (P-256, 0600, passphrase, fingerprints) and the trust store's sources."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from viewer.bundle.keys import generate_keypair, load_private_key, load_public_key
from viewer.bundle.resources import DEMO_PUBLIC_KEY, resource_path, resources_dir
from viewer.bundle.trust import TrustStore
from viewer.errors import BundleError
from viewer.keyprint import fingerprint


def test_generate_writes_0600_private_and_public(tmp_path: Path) -> None:
    gen = generate_keypair(tmp_path / "k")
    assert stat.S_IMODE(gen.private_path.stat().st_mode) == 0o600
    pub = load_public_key(gen.public_path)
    assert isinstance(pub.curve, ec.SECP256R1)
    der = pub.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert gen.fingerprint == hashlib.sha256(der).hexdigest() == fingerprint(pub)
    assert load_private_key(gen.private_path).public_key().public_numbers() == pub.public_numbers()


def test_generate_refuses_to_overwrite(tmp_path: Path) -> None:
    generate_keypair(tmp_path)
    with pytest.raises(BundleError, match="refusing to overwrite"):
        generate_keypair(tmp_path)


def test_passphrase_protected_key(tmp_path: Path) -> None:
    gen = generate_keypair(tmp_path, passphrase=b"correct horse")
    assert b"ENCRYPTED" in gen.private_path.read_bytes()
    with pytest.raises(BundleError, match="passphrase"):
        load_private_key(gen.private_path)
    with pytest.raises(BundleError, match="passphrase is wrong"):
        load_private_key(gen.private_path, b"wrong")
    assert load_private_key(gen.private_path, b"correct horse")


def test_non_p256_keys_refused(tmp_path: Path) -> None:
    ed = ed25519.Ed25519PrivateKey.generate().public_key()
    path = tmp_path / "ed.pem"
    path.write_bytes(
        ed.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(BundleError, match="P-256"):
        load_public_key(path)


def test_resources_found_from_source() -> None:
    assert (resources_dir() / "schemas").is_dir()
    assert resource_path(*DEMO_PUBLIC_KEY).is_file()


def test_resources_found_in_frozen_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    (tmp_path / "resources").mkdir()
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources_dir() == tmp_path / "resources"


def _site(site_file: Path, text: str) -> None:
    site_file.parent.mkdir(parents=True, exist_ok=True)
    site_file.write_text(text)


def test_trust_store_sources(tmp_path: Path, site_file: Path, data_dir: Path) -> None:
    from viewer.config import load_settings

    site_keys = site_file.parent / "trusted-keys"
    site_gen = generate_keypair(tmp_path / "site-key")
    site_keys.mkdir(parents=True)
    shutil.copy(site_gen.public_path, site_keys / "ml-team.pem")
    (site_keys / "broken.pem").write_text("not a key")
    user_gen = generate_keypair(tmp_path / "user-key")
    (data_dir / "trusted-keys").mkdir()
    shutil.copy(user_gen.public_path, data_dir / "trusted-keys" / "mine.pem")

    plain = TrustStore.from_settings(load_settings())
    assert [k.fingerprint for k in plain.keys] == [site_gen.fingerprint]
    assert plain.keys[0].source == "site"
    assert len(plain.problems) == 1

    _site(site_file, "[trust]\nallow_user_keys = true\n")
    both = TrustStore.from_settings(load_settings())
    assert {k.fingerprint for k in both.keys} == {site_gen.fingerprint, user_gen.fingerprint}

    demo = TrustStore.from_settings(load_settings(demo=True))
    sources = {k.source for k in demo.keys}
    assert "demo" in sources
    assert "demo" not in {k.source for k in both.keys}


def test_demo_key_only_in_demo_mode(settings: Any, demo_settings: Any) -> None:
    demo_fp = fingerprint(load_public_key(resource_path(*DEMO_PUBLIC_KEY)))
    assert TrustStore.from_settings(settings).find(demo_fp) is None
    found = TrustStore.from_settings(demo_settings).find(demo_fp)
    assert found is not None and found.source == "demo"


def _keys_folder(tmp_path: Path, site_file: Path) -> tuple[Path, Any]:
    keys = site_file.parent / "trusted-keys"
    keys.mkdir(parents=True)
    keys.chmod(0o755)
    gen = generate_keypair(tmp_path / "site-key")
    shutil.copy(gen.public_path, keys / "ml-team.pem")
    (keys / "ml-team.pem").chmod(0o644)
    return keys, gen


@pytest.mark.parametrize(
    ("where", "mode", "said"),
    [
        ("folder", 0o777, "The trusted-keys folder"),
        ("folder", 0o773, "The trusted-keys folder"),
        ("file", 0o666, "The key file"),
        ("file", 0o602, "The key file"),
    ],
    ids=["folder-0777", "folder-0773", "file-0666", "file-0602"],
)
def test_a_key_other_accounts_can_change_is_not_trusted(
    tmp_path: Path, site_file: Path, where: str, mode: int, said: str
) -> None:
    """Anyone who can write the trusted-keys folder or a key in it could make Bedside run a
    model they signed: such a key is skipped, with the reason and the command that fixes it
    (site check reported it, the store used it all the same)."""
    from viewer.config import load_settings

    keys, gen = _keys_folder(tmp_path, site_file)
    assert TrustStore.from_settings(load_settings()).find(gen.fingerprint) is not None
    (keys if where == "folder" else keys / "ml-team.pem").chmod(mode)
    store = TrustStore.from_settings(load_settings())
    assert store.find(gen.fingerprint) is None
    assert len(store.problems) == 1
    assert store.problems[0].startswith(said)
    assert "writable by other users (every account on this computer" in store.problems[0]
    assert "chmod o-w" in store.problems[0]


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another account needs root")
@pytest.mark.parametrize(
    ("owner", "group", "mode", "said"),
    [(4242, 0, 0o644, "it belongs to user id 4242"), (0, 4242, 0o664, "group 4242")],
    ids=["other-owner", "other-group-writable"],
)
def test_a_key_another_owner_or_group_can_change_is_not_trusted(
    tmp_path: Path, site_file: Path, owner: int, group: int, mode: int, said: str
) -> None:
    from viewer.config import load_settings

    keys, gen = _keys_folder(tmp_path, site_file)
    os.chown(keys / "ml-team.pem", owner, group)
    (keys / "ml-team.pem").chmod(mode)
    store = TrustStore.from_settings(load_settings())
    assert store.find(gen.fingerprint) is None
    assert said in store.problems[0]
    os.chown(keys / "ml-team.pem", 0, 0)  # root's group may write: IT's own
    assert TrustStore.from_settings(load_settings()).find(gen.fingerprint) is not None


def test_a_bundle_signed_by_a_skipped_key_says_why(
    tmp_path: Path, site_file: Path, build_bundle: Any, key: Any
) -> None:
    """The refusal names the skipped key file, so IT sees the cause, not an unknown signer."""
    from viewer.bundle.loader import verify_bundle
    from viewer.config import load_settings

    keys = site_file.parent / "trusted-keys"
    keys.mkdir(parents=True)
    keys.chmod(0o755)
    shutil.copy(key.public_path, keys / "ml-team.pem")
    bundle = build_bundle()
    (keys / "ml-team.pem").chmod(0o644)
    assert verify_bundle(bundle, TrustStore.from_settings(load_settings())) is not None
    (keys / "ml-team.pem").chmod(0o666)
    with pytest.raises(BundleError) as caught:
        verify_bundle(bundle, TrustStore.from_settings(load_settings()))
    assert caught.value.code == "untrusted"
    assert "Skipped: The key file" in str(caught.value)
    assert "No trusted signing key is usable" in str(caught.value)  # not "none configured"
    assert "writable by other users" in str(caught.value)
