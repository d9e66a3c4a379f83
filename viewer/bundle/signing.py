"""OpenSSF Model Signing (OMS) signatures with ``cryptography`` only.

``model.sig`` is a Sigstore bundle (media type v0.3) whose DSSE envelope carries an in-toto
Statement v1 with predicate ``https://model_signing/signature/v1.0``: every file's SHA-256 under
``predicate.resources`` (sorted by path), and a subject digest = SHA-256 over those digests in
order. This is what ``model-signing`` 1.1.1 writes for a folder with its elliptic-key signer, so
each side verifies the other's. The signature is ECDSA P-256 / SHA-256 over the DSSE
pre-authentication encoding; we sign deterministically (RFC 6979) so rebuilt bundles are identical.

Bedside is stricter than the format: every member except ``model.sig`` must be listed (no unsigned
extras, whatever ``ignore_paths`` says) and every listed file must be present.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from viewer.bundle.keys import oms_key_hint
from viewer.errors import BundleError
from viewer.keyprint import fingerprint

SIGNATURE_NAME = "model.sig"
BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"
MAX_SIGNATURE_BYTES = 1024 * 1024


def _ecdsa() -> ec.ECDSA:
    try:
        return ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    except TypeError:  # cryptography < 44: still valid, only not reproducible
        return ec.ECDSA(hashes.SHA256())


def pae(payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding (secure-systems-lab/dsse protocol.md)."""
    head = f"DSSEv1 {len(PAYLOAD_TYPE)} {PAYLOAD_TYPE} {len(payload)}".encode()
    return head + b" " + payload


def _sort_key(name: str) -> tuple[str, ...]:
    return tuple(name.split("/"))  # model-signing sorts pathlib paths, i.e. by components


def build_statement(files: Mapping[str, bytes], *, model_name: str) -> dict[str, Any]:
    """The in-toto statement listing each file's SHA-256 (model.sig itself excluded)."""
    resources = []
    root = hashlib.sha256()
    for name in sorted(files, key=_sort_key):
        if name == SIGNATURE_NAME:
            continue
        digest = hashlib.sha256(files[name]).digest()
        root.update(digest)
        resources.append({"name": name, "algorithm": "sha256", "digest": digest.hex()})
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": model_name, "digest": {"sha256": root.hexdigest()}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "serialization": {
                "method": "files",
                "hash_type": "sha256",
                "allow_symlinks": False,
                "ignore_paths": [SIGNATURE_NAME],
            },
            "resources": resources,
        },
    }


def sign_files(
    files: Mapping[str, bytes], private_key: ec.EllipticCurvePrivateKey, *, model_name: str
) -> bytes:
    """The bytes of ``model.sig`` for these files."""
    statement = build_statement(files, model_name=model_name)
    payload = json.dumps(statement, indent=2).encode()
    sig = private_key.sign(pae(payload), _ecdsa())
    bundle = {
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {
            "publicKey": {"hint": oms_key_hint(private_key.public_key())},
            "tlogEntries": [],
        },
        "dsseEnvelope": {
            "payload": base64.b64encode(payload).decode(),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{"sig": base64.b64encode(sig).decode(), "keyid": ""}],
        },
    }
    return json.dumps(bundle, separators=(",", ":")).encode()


@dataclass(frozen=True)
class TrustedKey:
    """A public key the trust store accepts, with where it came from (site / user / demo)."""

    key: ec.EllipticCurvePublicKey
    fingerprint: str
    source: str
    path: str

    @classmethod
    def of(cls, key: ec.EllipticCurvePublicKey, *, source: str, path: str = "") -> TrustedKey:
        return cls(key=key, fingerprint=fingerprint(key), source=source, path=path)


@dataclass(frozen=True)
class SignatureInfo:
    key: TrustedKey
    model_name: str
    files: dict[str, str]  # name -> sha256 hex, as signed


def _bad(message: str) -> BundleError:
    return BundleError(message, code="signature")


def _parse(sig_bytes: bytes) -> tuple[str, bytes, bytes]:
    """-> (hint, payload, raw signature) or BundleError(code="signature")."""
    if len(sig_bytes) > MAX_SIGNATURE_BYTES:
        raise _bad("The bundle's signature file is too large to be a signature.")
    try:
        bundle = json.loads(sig_bytes.decode("utf-8"))
        if bundle.get("mediaType") != BUNDLE_MEDIA_TYPE:
            raise _bad(
                f"The signature is not a Sigstore bundle of type {BUNDLE_MEDIA_TYPE} "
                f"(found {str(bundle.get('mediaType'))[:80]!r})."
            )
        material = bundle.get("verificationMaterial") or {}
        hint = str((material.get("publicKey") or {}).get("hint") or "")
        envelope = bundle["dsseEnvelope"]
        if envelope.get("payloadType") != PAYLOAD_TYPE:
            raise _bad("The signature's envelope does not carry an in-toto statement.")
        payload = base64.b64decode(envelope["payload"], validate=True)
        signatures = envelope["signatures"]
        if not isinstance(signatures, list) or len(signatures) != 1:
            raise _bad("The signature envelope must hold exactly one signature.")
        raw_sig = base64.b64decode(signatures[0]["sig"], validate=True)
    except BundleError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise _bad("The bundle's signature file is damaged or not an OMS signature.") from exc
    return hint, payload, raw_sig


def _verify_with(key: TrustedKey, payload: bytes, raw_sig: bytes) -> bool:
    try:
        key.key.verify(raw_sig, pae(payload), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def verify_files(
    sig_bytes: bytes | None, files: Mapping[str, bytes], trusted: Sequence[TrustedKey]
) -> SignatureInfo:
    """Check ``model.sig`` against the trusted keys, then every file against the signed list.

    Raises BundleError with code "signature" (missing, damaged, not matching the files) or
    "untrusted" (a valid structure signed by a key the trust store does not hold).
    """
    if sig_bytes is None:
        raise _bad(f"The bundle is not signed (no {SIGNATURE_NAME}); unsigned bundles are refused.")
    hint, payload, raw_sig = _parse(sig_bytes)
    by_hint = [k for k in trusted if hint and oms_key_hint(k.key) == hint]
    signer: TrustedKey | None = None
    if by_hint:
        if not _verify_with(by_hint[0], payload, raw_sig):
            raise _bad(
                "The bundle's signature is invalid: it names a trusted key "
                f"({by_hint[0].fingerprint[:16]}...) but that key did not make it. The signature "
                "or the signed list was altered."
            )
        signer = by_hint[0]
    else:
        signer = next((k for k in trusted if _verify_with(k, payload, raw_sig)), None)
    if signer is None:
        raise BundleError(
            "The bundle is signed by a key this installation does not trust"
            + (f" (key hint {hint[:16]}...)" if hint else "")
            + ". Ask IT to review the key and add it to the site's trusted keys if appropriate.",
            code="untrusted",
        )
    return SignatureInfo(key=signer, **_check_statement(payload, files))


def _check_statement(payload: bytes, files: Mapping[str, bytes]) -> dict[str, Any]:
    try:
        statement = json.loads(payload)
        if statement["_type"] != STATEMENT_TYPE or statement["predicateType"] != PREDICATE_TYPE:
            raise _bad("The signature's statement is not an OMS v1.0 model signature.")
        subject = statement["subject"]
        if not isinstance(subject, list) or len(subject) != 1:
            raise _bad("The signature's statement must name exactly one model.")
        model_name = str(subject[0]["name"])
        root_expected = str(subject[0]["digest"]["sha256"])
        serialization = statement["predicate"]["serialization"]
        if serialization.get("method") != "files" or serialization.get("hash_type") != "sha256":
            raise _bad("The signature uses a hashing method Bedside does not accept.")
        signed: dict[str, str] = {}
        root = hashlib.sha256()
        for item in statement["predicate"]["resources"]:
            if item["algorithm"] != "sha256":
                raise _bad("The signature lists a file hashed with something other than SHA-256.")
            name, digest = str(item["name"]), str(item["digest"]).lower()
            if name in signed:
                raise _bad(f"The signature lists '{name}' twice.")
            root.update(bytes.fromhex(digest))
            signed[name] = digest
    except BundleError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _bad("The signed statement is damaged or not an OMS statement.") from exc
    if root.hexdigest() != root_expected:
        raise _bad("The signed statement is inconsistent (its summary digest does not match).")
    present = {n for n in files if n != SIGNATURE_NAME}
    extra = sorted(present - set(signed))
    if extra:
        raise _bad(
            f"The bundle holds {', '.join(repr(n) for n in extra)}, which the signature does not "
            "cover: a file was added after signing."
        )
    missing = sorted(set(signed) - present)
    if missing:
        raise _bad(
            f"The signature lists {', '.join(repr(n) for n in missing)}, which the bundle lacks: "
            "a file was removed after signing."
        )
    for name in sorted(signed):
        if hashlib.sha256(files[name]).hexdigest() != signed[name]:
            raise _bad(
                f"The bundle's '{name}' does not match its signature (SHA-256 differs): it was "
                "modified after signing."
            )
    return {"model_name": model_name, "files": signed}
