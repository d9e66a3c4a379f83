"""ECDSA P-256 signing keys (OMS does not accept Ed25519): generate and load.

The fingerprint people compare is :func:`viewer.keyprint.fingerprint` (SHA-256 of the DER
SubjectPublicKeyInfo, shown in groups of four hex digits by ``format_fingerprint``). OMS bundles
also carry a "hint": SHA-256 of the PEM text, kept for compatibility.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from viewer.bundle.archive import write_atomic
from viewer.errors import BundleError
from viewer.keyprint import fingerprint, public_pem

PRIVATE_NAME = "signing-key.pem"
PUBLIC_NAME = "signing-key.pub.pem"
PASSPHRASE_ENV = "BEDSIDE_KEY_PASSPHRASE"  # noqa: S105 - the name of a variable
MAX_KEY_FILE_BYTES = 64 * 1024


def oms_key_hint(public_key: ec.EllipticCurvePublicKey) -> str:
    """What model-signing stores as ``verificationMaterial.publicKey.hint``: SHA-256 of the PEM."""
    return hashlib.sha256(public_pem(public_key)).hexdigest()


def _check_p256(key: object, path: Path) -> None:
    if not isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) or not (
        isinstance(key.curve, ec.SECP256R1)
    ):
        raise BundleError(
            "The key is not an ECDSA P-256 key (the only kind OMS model signing accepts here).",
            code="signature",
            path=path,
        )


def read_key_file(path: Path) -> bytes:
    """A key file's bytes, never following it into a FIFO (a wait for a writer that never
    comes) or a device (/dev/zero: a read without end), nor reading more than a key's size.
    OSError as ``open`` raises it."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise BundleError(
                "The key file is not a regular file (a folder, pipe or device).",
                code="signature",
                path=path,
            )
        data = fh.read(MAX_KEY_FILE_BYTES + 1)
    if len(data) > MAX_KEY_FILE_BYTES:
        raise BundleError("The key file is too large to be a key.", code="signature", path=path)
    return data


def load_public_key(path: str | Path) -> ec.EllipticCurvePublicKey:
    p = Path(path)
    try:
        key = serialization.load_pem_public_key(read_key_file(p))
    except OSError as exc:
        raise BundleError(
            f"The public key cannot be read ({exc.strerror}).", code="signature", path=p
        ) from exc
    except ValueError as exc:
        raise BundleError("The file is not a PEM public key.", code="signature", path=p) from exc
    _check_p256(key, p)
    assert isinstance(key, ec.EllipticCurvePublicKey)  # noqa: S101 - narrowed by _check_p256
    return key


def load_private_key(
    path: str | Path, passphrase: bytes | None = None
) -> ec.EllipticCurvePrivateKey:
    p = Path(path)
    try:
        key = serialization.load_pem_private_key(read_key_file(p), password=passphrase)
    except OSError as exc:
        raise BundleError(
            f"The private key cannot be read ({exc.strerror}).", code="signature", path=p
        ) from exc
    except TypeError as exc:
        raise BundleError(
            f"The private key needs a passphrase (set {PASSPHRASE_ENV}) or none was expected.",
            code="signature",
            path=p,
        ) from exc
    except ValueError as exc:
        raise BundleError(
            "The file is not a PEM private key, or the passphrase is wrong.",
            code="signature",
            path=p,
        ) from exc
    _check_p256(key, p)
    assert isinstance(key, ec.EllipticCurvePrivateKey)  # noqa: S101 - narrowed by _check_p256
    return key


@dataclass(frozen=True)
class GeneratedKey:
    private_path: Path
    public_path: Path
    fingerprint: str
    encrypted: bool


def generate_keypair(
    out_dir: str | Path, *, passphrase: bytes | None = None, force: bool = False
) -> GeneratedKey:
    """Write a new P-256 key pair; the private file is created with mode 0600 from the start.

    An existing key is never replaced unless ``force`` (a lost private key cannot be recovered,
    and bundles signed with it would no longer match the key IT trusts).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise BundleError(
            "This is a file, not a folder; give a folder for the key pair.",
            code="signature",
            path=out,
        )
    private_path = out / PRIVATE_NAME
    public_path = out / PUBLIC_NAME
    for existing in (private_path, public_path):
        if os.path.lexists(existing) and (not force or not existing.is_file()):
            raise BundleError(
                "A key already exists there; refusing to overwrite it (add --force to replace "
                "it; bundles signed with the old key then no longer match a new trusted key)."
                if existing.is_file()
                else "Something other than a key file is there; refusing to overwrite it.",
                code="signature",
                path=existing,
            )
    key = ec.generate_private_key(ec.SECP256R1())
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    try:
        out.mkdir(parents=True, exist_ok=True)
        if force:
            write_atomic(private_path, pem, mode=0o600)  # a 0600 temporary file, renamed
        else:
            fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
            private_path.chmod(0o600)
        write_atomic(public_path, public_pem(key.public_key()))
    except OSError as exc:
        raise BundleError(
            f"The key pair cannot be written there ({exc.strerror or exc}).",
            code="signature",
            path=exc.filename or out,
        ) from exc
    return GeneratedKey(
        private_path, public_path, fingerprint(key.public_key()), encrypted=bool(passphrase)
    )
