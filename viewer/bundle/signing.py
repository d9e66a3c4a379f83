"""OpenSSF Model Signing (OMS) signatures with ``cryptography`` only.

``model.sig`` is a Sigstore bundle (media type v0.3) whose DSSE envelope carries an in-toto
Statement v1 with predicate ``https://model_signing/signature/v1.0``: every file's SHA-256 under
``predicate.resources`` (sorted by path), and a subject digest = SHA-256 over those digests in
order. This is what ``model-signing`` 1.1.1 writes for a folder with its elliptic-key signer, so
each side verifies the other's. The signature is ECDSA P-256 / SHA-256 over the DSSE
pre-authentication encoding; we sign deterministically (RFC 6979) so rebuilt bundles are identical.

Bedside is stricter than the format: every member except ``model.sig`` must be listed (no unsigned
extras, whatever ``ignore_paths`` says) and every listed file must be present. ``model.sig`` itself
is not covered by the signature, so only one encoding of it is accepted (the same bytes would
otherwise verify in many forms, each giving the bundle another file digest): the compact JSON that
``model-signing`` and Bedside write, in their key order, with the key hint of the key that made the
signature, an empty ``keyid``, canonical base64, a DER signature in its low-S form (s <= n/2; of
the two values ECDSA accepts, the one ``sign_files`` writes; ``canonical_signature_file`` converts
a high-S one, as a signature from ``model-signing`` is half the time).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from viewer.bundle.archive import SIGNATURE_NAME as SIGNATURE_NAME
from viewer.bundle.archive import read_directory, write_archive
from viewer.bundle.keys import oms_key_hint
from viewer.errors import BundleError
from viewer.keyprint import fingerprint

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"
MAX_SIGNATURE_BYTES = 1024 * 1024
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _ecdsa() -> ec.ECDSA:
    try:
        return ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    except TypeError:  # cryptography < 44: still valid, only not reproducible
        return ec.ECDSA(hashes.SHA256())


def low_s(der: bytes) -> bytes:
    """The low-S form of a DER ECDSA P-256 signature (n - s when s > n/2): equally valid."""
    r, s = decode_dss_signature(der)
    return encode_dss_signature(r, _P256_ORDER - s) if s > _P256_ORDER // 2 else der


def _sigstore_bundle(hint: str | None, payload: bytes, sig: bytes) -> bytes:
    """The one accepted encoding of ``model.sig`` (what model-signing 1.1.1 and Bedside write)."""
    public_key = {} if hint is None else {"hint": hint}
    bundle = {
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {"publicKey": public_key, "tlogEntries": []},
        "dsseEnvelope": {
            "payload": base64.b64encode(payload).decode(),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{"sig": base64.b64encode(sig).decode(), "keyid": ""}],
        },
    }
    return json.dumps(bundle, separators=(",", ":")).encode()


def canonical_signature_file(sig_bytes: bytes) -> bytes:
    """``model.sig`` with a high-S signature turned low-S (same signer, same statement); bytes
    that are not a signature file of the accepted shape come back unchanged (and are refused
    when verified)."""
    try:
        hint, payload, raw_sig = _parse(sig_bytes)
        return _sigstore_bundle(hint or None, payload, low_s(raw_sig))
    except (BundleError, ValueError):
        return sig_bytes


def write_signed_folder(folder: str | Path, out: str | Path) -> str:
    """Pack a folder signed by the ``model-signing`` tool into a ``.bundle``; its SHA-256.

    The tool writes a high-S signature about half the time; the same signature in its low-S form
    is the one Bedside accepts (one file digest per signed content), so it is rewritten here.
    """
    members = read_directory(folder)
    if SIGNATURE_NAME in members:
        members[SIGNATURE_NAME] = canonical_signature_file(members[SIGNATURE_NAME])
    return write_archive(members, out)


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
    sig = low_s(private_key.sign(pae(payload), _ecdsa()))
    return _sigstore_bundle(oms_key_hint(private_key.public_key()), payload, sig)


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


def _check_encoding(raw_sig: bytes) -> None:
    try:
        r, s = decode_dss_signature(raw_sig)
    except ValueError as exc:
        raise _bad("The bundle's signature value is not a DER ECDSA signature.") from exc
    if encode_dss_signature(r, s) != raw_sig:
        raise _bad("The bundle's signature value is not in canonical DER.")
    if s > _P256_ORDER // 2:
        raise _bad(
            "The bundle's signature is in its high-S form. ECDSA accepts (r, s) and (r, n - s) "
            "alike, so Bedside accepts only the low-S one (as `bundle sign` writes it) and one "
            "file digest stays one signed bundle; `bedside bundle sign` or packing the signed "
            "folder again writes the low-S form."
        )


@dataclass(frozen=True)
class SignedList:
    """A signature checked against the trust store, and its statement against the member names;
    ``check_digest`` then compares each member's SHA-256 as it is read."""

    info: SignatureInfo

    def check_digest(self, name: str, sha256: str) -> None:
        if name in self.info.files and sha256 != self.info.files[name]:
            raise _bad(
                f"The bundle's '{name}' does not match its signature (SHA-256 differs): it was "
                "modified after signing."
            )


def verify_signature(
    sig_bytes: bytes | None, names: Sequence[str], trusted: Sequence[TrustedKey]
) -> SignedList:
    """``model.sig`` against the trusted keys, and its list against the member ``names``
    (nothing unsigned, nothing missing), before any member's content is needed.

    Raises BundleError with code "signature" (missing, damaged, not canonical, not matching the
    names) or "untrusted" (a valid structure signed by a key the trust store does not hold).
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
    if not by_hint:
        raise _bad(
            f"The bundle's signature was made by a trusted key ({signer.fingerprint[:16]}...) "
            "but does not name it (its key hint is missing or altered); only the form naming "
            "its key is accepted."
        )
    if sig_bytes != _sigstore_bundle(hint, payload, raw_sig):
        raise _bad(
            "The bundle's signature file is not in the one form Bedside and model-signing write "
            "(other spacing, key order, extra fields, encodings or key id): its bytes are not "
            "signed, so each form would give the same bundle another file digest."
        )
    _check_encoding(raw_sig)
    return SignedList(SignatureInfo(key=signer, **_check_statement(payload, names)))


def verify_files(
    sig_bytes: bytes | None,
    files: Mapping[str, bytes],
    trusted: Sequence[TrustedKey],
    *,
    digests: Mapping[str, str] | None = None,
) -> SignatureInfo:
    """:func:`verify_signature`, then every file against the signed list (``digests``: the
    SHA-256 of members already hashed while read, so they are not hashed twice)."""
    signed = verify_signature(sig_bytes, list(files), trusted)
    known = digests or {}
    for name in sorted(signed.info.files):
        signed.check_digest(name, known.get(name) or hashlib.sha256(files[name]).hexdigest())
    return signed.info


def _check_statement(payload: bytes, names: Sequence[str]) -> dict[str, Any]:
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
    present = {n for n in names if n != SIGNATURE_NAME}
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
    return {"model_name": model_name, "files": signed}
