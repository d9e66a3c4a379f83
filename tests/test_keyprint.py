"""Key fingerprints: one definition for bundle signing keys and the audit installation key."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from viewer.keyprint import fingerprint, format_fingerprint, public_pem


def test_fingerprint_is_sha256_of_the_der_public_key() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    fp = fingerprint(key)
    assert fp == hashlib.sha256(der).hexdigest()
    assert len(fp) == 64 and fp == fp.lower()


def test_public_pem_round_trips() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem = public_pem(key)
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    loaded = serialization.load_pem_public_key(pem)
    assert isinstance(loaded, ec.EllipticCurvePublicKey)
    assert fingerprint(loaded) == fingerprint(key)


def test_format_fingerprint_groups_of_four() -> None:
    assert format_fingerprint("ab12" * 16) == " ".join(["ab12"] * 16)
    assert format_fingerprint("abcdef") == "abcd ef"
    assert format_fingerprint("") == ""


def test_bundle_keys_and_audit_checkpoints_agree(tmp_path: Path) -> None:
    """A signing key and an installation key print the same way (one definition)."""
    from viewer.audit.checkpoints import InstallationKey
    from viewer.bundle.keys import generate_keypair, load_public_key

    gen = generate_keypair(tmp_path / "signing")
    assert gen.fingerprint == fingerprint(load_public_key(gen.public_path))
    installation = InstallationKey.load_or_create(tmp_path / "installation-key.pem")
    assert installation.fingerprint == fingerprint(installation.public)
    assert installation.public_pem == public_pem(installation.public).decode("ascii")
