"""Keys (P-256, 0600, passphrase, fingerprints) and the trust store's sources."""

from __future__ import annotations

import hashlib
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
