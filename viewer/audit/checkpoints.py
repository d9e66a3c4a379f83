"""Signed checkpoints: (row count, head hash, time) signed with the installation key.

Like a Certificate Transparency signed tree head: a checkpoint printed in a report and saved as
a JSON file lets anyone later prove that the log still holds those rows unchanged, so a
truncated tail or an older copy of the file is detected. The installation key is ECDSA P-256
(PEM, mode 0600) created on first use; its public key sits beside it and is printed, with its
SHA-256 fingerprint, in every report.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from viewer.audit.chain import canonical_json
from viewer.audit.pseudonym import _create_exclusive
from viewer.errors import AuditError, AuditWriteError, ConfigError
from viewer.keyprint import fingerprint, public_pem
from viewer.paths import read_bounded

MAX_CHECKPOINT_BYTES = 1 << 20  # a checkpoint is a few hundred bytes of JSON

CHECKPOINT_FORMAT = "bedside-audit-checkpoint-v1"


def public_key_path(private_path: Path) -> Path:
    """``installation-key.pem`` -> ``installation-key.pub.pem``."""
    return private_path.with_name(private_path.stem + ".pub.pem")


def _load_public_pem(pem: bytes, where: str) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise AuditError(f"{where} does not hold a valid public key (PEM).") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise AuditError(f"{where} is not an ECDSA P-256 public key.")
    return key


def signature_matches(key: ec.EllipticCurvePublicKey, payload: bytes, signature: str) -> bool:
    """``signature`` (base64 DER ECDSA-SHA256, as :meth:`InstallationKey.sign` gives it) is
    ``key``'s over ``payload``."""
    try:
        value = base64.b64decode(signature, validate=True)
        key.verify(value, payload, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def embedded_signature_valid(
    public_key_pem: str, key_fingerprint: str, payload: Callable[[], bytes], signature: str
) -> bool:
    """A signature checked against the public key it carries, whose fingerprint matches
    (``payload`` is called only then; one that cannot be encoded matches nothing)."""
    try:
        key = _load_public_pem(public_key_pem.encode("ascii"), "signature")
        if fingerprint(key) != key_fingerprint:
            return False
        data = payload()
    except (AuditError, ValueError):  # UnicodeEncodeError is a ValueError
        return False
    return signature_matches(key, data, signature)


class InstallationKey:
    """The key pair that signs checkpoints for this installation."""

    def __init__(
        self, private: ec.EllipticCurvePrivateKey | None, public: ec.EllipticCurvePublicKey
    ):
        self._private = private
        self.public = public
        self.fingerprint = fingerprint(public)
        self.public_pem = public_pem(public).decode("ascii")

    @classmethod
    def load_or_create(cls, path: Path) -> InstallationKey:
        """Load the private key, creating the pair (0600 / 0644) on first use."""
        if not path.exists():
            private = ec.generate_private_key(ec.SECP256R1())
            pem = private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            try:
                _create_exclusive(path, pem)
            except OSError as exc:
                raise AuditWriteError(
                    f"The installation key {path} could not be created ({exc.strerror}); "
                    "checkpoints cannot be signed. Nothing was exported."
                ) from exc
        try:
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except OSError as exc:
            raise AuditError(
                f"The installation key {path} cannot be read ({exc.strerror})."
            ) from exc
        except ValueError as exc:
            raise AuditError(f"The installation key {path} is damaged (not a PEM key).") from exc
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise AuditError(f"The installation key {path} is not an ECDSA key.")
        key = cls(loaded, loaded.public_key())
        pub = public_key_path(path)
        if not pub.exists():
            try:
                pub.write_text(key.public_pem, encoding="ascii")
                pub.chmod(0o644)
            except OSError:
                pass  # the public key is also printed in every report and checkpoint file
        return key

    @classmethod
    def load_public(cls, private_path: Path) -> InstallationKey | None:
        """The public half only (for verifying), or None when this installation has no key."""
        pub = public_key_path(private_path)
        if pub.is_file():
            return cls(None, _load_public_pem(pub.read_bytes(), str(pub)))
        if private_path.is_file():
            try:
                return cls.load_or_create(private_path)
            except AuditError:
                return None
        return None

    def sign(self, payload: bytes) -> bytes:
        if self._private is None:
            raise AuditError("This installation key was loaded without its private half.")
        return self._private.sign(payload, ec.ECDSA(hashes.SHA256()))


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: the log ``log_id`` had ``count`` rows ending in ``head_hash``."""

    log_id: str
    count: int
    head_hash: str
    time: str
    key_fingerprint: str
    public_key_pem: str
    signature: str  # base64 DER ECDSA-SHA256 over payload()

    def payload(self) -> bytes:
        return canonical_json(
            {
                "format": CHECKPOINT_FORMAT,
                "log_id": self.log_id,
                "count": self.count,
                "head_hash": self.head_hash,
                "time": self.time,
                "key_fingerprint": self.key_fingerprint,
            }
        ).encode("utf-8")

    def signature_valid(self) -> bool:
        """The signature matches the embedded public key, whose fingerprint matches."""
        return embedded_signature_valid(
            self.public_key_pem, self.key_fingerprint, self.payload, self.signature
        )

    def to_json(self) -> str:
        return json.dumps({"format": CHECKPOINT_FORMAT, **asdict(self)}, indent=2) + "\n"

    @classmethod
    def from_dict(cls, raw: dict[str, Any], where: str = "checkpoint") -> Checkpoint:
        if raw.get("format") != CHECKPOINT_FORMAT:
            raise AuditError(f"{where} is not a Bedside audit checkpoint ({CHECKPOINT_FORMAT}).")
        try:
            return cls(
                log_id=str(raw["log_id"]),
                count=int(raw["count"]),
                head_hash=str(raw["head_hash"]),
                time=str(raw["time"]),
                key_fingerprint=str(raw["key_fingerprint"]),
                public_key_pem=str(raw["public_key_pem"]),
                signature=str(raw["signature"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AuditError(f"{where} is incomplete or malformed ({exc}).") from exc

    @classmethod
    def read(cls, path: Path) -> Checkpoint:
        try:  # bounded, never into a FIFO (a wait for ever) or a device (/dev/zero: no end)
            raw = json.loads(read_bounded(Path(path), "Checkpoint file", MAX_CHECKPOINT_BYTES))
        except ConfigError as exc:
            raise AuditError(exc.message) from exc
        except OSError as exc:
            raise AuditError(f"Checkpoint file {path} cannot be read ({exc.strerror}).") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise AuditError(f"Checkpoint file {path} is not JSON.") from exc
        if not isinstance(raw, dict):
            raise AuditError(f"Checkpoint file {path} is not a checkpoint object.")
        return cls.from_dict(raw, f"Checkpoint file {path}")


def make_checkpoint(
    key: InstallationKey, *, log_id: str, count: int, head_hash: str, time: str
) -> Checkpoint:
    unsigned = Checkpoint(log_id, count, head_hash, time, key.fingerprint, key.public_pem, "")
    signature = base64.b64encode(key.sign(unsigned.payload())).decode("ascii")
    return Checkpoint(log_id, count, head_hash, time, key.fingerprint, key.public_pem, signature)
