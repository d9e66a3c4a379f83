"""Public-key fingerprints: one definition for bundle signing keys and the audit installation key.

Why here: both ``viewer.bundle`` (trusted signing keys) and ``viewer.audit`` (the key that signs
checkpoints) print fingerprints that people compare by eye or read aloud over the phone, so they
must be computed and shown the same way; a bottom-layer module lets both import it. The
fingerprint is SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex, shown in groups of four.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def public_pem(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """The SubjectPublicKeyInfo as PEM (what the key files and reports hold)."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fingerprint(public_key: ec.EllipticCurvePublicKey) -> str:
    """SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex (64 digits)."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def format_fingerprint(fp: str) -> str:
    """'ab12cd34...' -> 'ab12 cd34 ...' (16 groups of 4), easier to compare on paper or aloud."""
    return " ".join(fp[i : i + 4] for i in range(0, len(fp), 4))


__all__ = ["fingerprint", "format_fingerprint", "public_pem"]
