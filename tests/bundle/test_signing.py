"""OMS signatures: structure, and interoperability both ways with the model-signing package."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.bundle.conftest import KeyPair, read_members
from viewer.bundle.archive import read_directory, write_directory
from viewer.bundle.loader import load_bundle, verify_bundle
from viewer.bundle.signing import (
    PREDICATE_TYPE,
    build_statement,
    sign_files,
    verify_files,
    write_signed_folder,
)
from viewer.errors import BundleError


def _statement(sig: bytes) -> dict[str, Any]:
    bundle = json.loads(sig)
    return json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))


def test_statement_lists_every_file_with_sha256() -> None:
    files = {"b.txt": b"world\n", "a.txt": b"hello\n", "model.sig": b"ignored"}
    st = build_statement(files, model_name="m")
    assert st["predicateType"] == PREDICATE_TYPE
    names = [r["name"] for r in st["predicate"]["resources"]]
    assert names == ["a.txt", "b.txt"]
    # sha256("hello\n"), as model-signing computes it
    assert st["predicate"]["resources"][0]["digest"] == (
        "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
    )


def test_signing_is_deterministic(key: KeyPair) -> None:
    files = {"a.txt": b"hello\n"}
    assert sign_files(files, key.private, model_name="m") == sign_files(
        files, key.private, model_name="m"
    )


def test_verify_roundtrip_and_key_identity(key: KeyPair, trust: Any) -> None:
    files = {"a.txt": b"hello\n", "w.bin": b"\x00\x01"}
    sig = sign_files(files, key.private, model_name="m")
    info = verify_files(sig, files, trust.keys)
    assert info.key.fingerprint == key.fingerprint
    assert (
        info.files["a.txt"]
        == build_statement(files, model_name="m")["predicate"]["resources"][0]["digest"]
    )


def test_signature_without_hint_is_refused(key: KeyPair, trust: Any) -> None:
    """The hint is not signed: a copy without it (or with another) is the same signature in
    other bytes, so only the form naming the key that made it is accepted (#12.11)."""
    files = {"a.txt": b"hello\n"}
    bundle = json.loads(sign_files(files, key.private, model_name="m"))
    del bundle["verificationMaterial"]["publicKey"]["hint"]
    with pytest.raises(BundleError, match="does not name it") as info:
        verify_files(json.dumps(bundle, separators=(",", ":")).encode(), files, trust.keys)
    assert info.value.code == "signature"


def test_hint_of_trusted_key_with_forged_signature(
    key: KeyPair, make_key: Callable[[str], KeyPair], trust: Any
) -> None:
    files = {"a.txt": b"hello\n"}
    forged = json.loads(sign_files(files, make_key("other").private, model_name="m"))
    genuine = json.loads(sign_files(files, key.private, model_name="m"))
    forged["verificationMaterial"] = genuine["verificationMaterial"]
    with pytest.raises(BundleError, match="signature is invalid") as info:
        verify_files(json.dumps(forged).encode(), files, trust.keys)
    assert info.value.code == "signature"


def test_statement_edited_without_resigning(key: KeyPair, trust: Any) -> None:
    files = {"a.txt": b"hello\n"}
    bundle = json.loads(sign_files(files, key.private, model_name="m"))
    st = _statement(json.dumps(bundle).encode())
    st["predicate"]["resources"] = []
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(st).encode()).decode()
    with pytest.raises(BundleError) as info:
        verify_files(json.dumps(bundle).encode(), files, trust.keys)
    assert info.value.code == "signature"


def test_no_trusted_keys_refuses(build_bundle: Callable[..., Path]) -> None:
    from viewer.bundle.trust import TrustStore

    with pytest.raises(BundleError, match="No trusted signing keys") as info:
        verify_bundle(build_bundle(), TrustStore())
    assert info.value.code == "untrusted"


# ----------------------------------------------------------------------------- interop


def _model_signing_hashing() -> Any:
    from model_signing import hashing

    return hashing.Config().set_ignored_paths(paths=["model.sig"], ignore_git_paths=False)


def test_bundle_signed_by_model_signing_verifies_in_bedside(
    build_bundle: Callable[..., Path], key: KeyPair, trust: Any, tmp_path: Path
) -> None:
    from model_signing import signing

    unsigned = build_bundle(signer=False)
    folder = tmp_path / "bedside-demo-1.0.0"
    write_directory(read_members(unsigned), folder)
    (
        signing.Config()
        .use_elliptic_key_signer(private_key=key.private_path)
        .set_hashing_config(_model_signing_hashing())
        .sign(folder, folder / "model.sig")
    )
    out = tmp_path / "from-model-signing.bundle"
    write_signed_folder(folder, out)
    loaded = load_bundle(out, trust)
    assert loaded.key_fingerprint == key.fingerprint
    assert loaded.selftest.passed


def test_bundle_signed_by_bedside_verifies_with_model_signing(
    build_bundle: Callable[..., Path], key: KeyPair, tmp_path: Path
) -> None:
    from model_signing import verifying

    folder = tmp_path / "unpacked"
    write_directory(read_members(build_bundle()), folder)
    verifier = verifying.Config().use_elliptic_key_verifier(public_key=key.public_path)
    verifier.verify(folder, folder / "model.sig")  # raises on failure

    (folder / "LICENSE.txt").write_text("changed")
    with pytest.raises(ValueError, match="Hash mismatch"):
        verifying.Config().use_elliptic_key_verifier(public_key=key.public_path).verify(
            folder, folder / "model.sig"
        )


def test_model_signing_rejects_bedside_signature_for_other_key(
    build_bundle: Callable[..., Path], make_key: Callable[[str], KeyPair], tmp_path: Path
) -> None:
    from model_signing import verifying

    folder = tmp_path / "unpacked"
    write_directory(read_members(build_bundle()), folder)
    other = make_key("other")
    with pytest.raises(ValueError):
        verifying.Config().use_elliptic_key_verifier(public_key=other.public_path).verify(
            folder, folder / "model.sig"
        )


# ------------------------------------------------- one signature encoding (#12.11)


def _s_of(sig: bytes) -> int:
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    raw = base64.b64decode(json.loads(sig)["dsseEnvelope"]["signatures"][0]["sig"])
    return int(decode_dss_signature(raw)[1])


_HALF_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551 // 2


def test_sign_files_writes_low_s(key: KeyPair) -> None:
    """About half of raw ECDSA signatures are high-S; every one Bedside writes is low-S."""
    sigs = [sign_files({"a.txt": str(i).encode()}, key.private, model_name="m") for i in range(16)]
    assert all(_s_of(sig) <= _HALF_ORDER for sig in sigs)


def test_high_s_signature_from_model_signing_packs_to_low_s(
    build_bundle: Callable[..., Path], key: KeyPair, trust: Any, tmp_path: Path
) -> None:
    """model-signing writes high-S half the time: packing the signed folder (write_archive)
    writes its low-S form, which loads; the high-S bytes as they are do not."""
    from model_signing import signing, verifying

    from tests.bundle.test_attacks import _high_s
    from viewer.bundle.archive import archive_bytes

    folder = tmp_path / "signed"
    write_directory(read_members(build_bundle(signer=False)), folder)
    (
        signing.Config()
        .use_elliptic_key_signer(private_key=key.private_path)
        .set_hashing_config(_model_signing_hashing())
        .sign(folder, folder / "model.sig")
    )
    bundle = json.loads((folder / "model.sig").read_bytes())
    if _s_of((folder / "model.sig").read_bytes()) <= _HALF_ORDER:
        _high_s(bundle)  # make the case this test is about, whatever the signer drew
    (folder / "model.sig").write_bytes(json.dumps(bundle, separators=(",", ":")).encode())
    verifying.Config().use_elliptic_key_verifier(public_key=key.public_path).verify(
        folder, folder / "model.sig"
    )  # still model-signing's valid signature

    as_is = tmp_path / "as-is.bundle"
    as_is.write_bytes(archive_bytes(read_directory(folder)))
    with pytest.raises(BundleError, match="high-S form") as info:
        verify_bundle(as_is, trust)
    assert info.value.code == "signature"

    packed = tmp_path / "packed.bundle"
    write_signed_folder(folder, packed)
    assert load_bundle(packed, trust).key_fingerprint == key.fingerprint
    unpacked = tmp_path / "unpacked"
    write_directory(read_members(packed), unpacked)
    verifying.Config().use_elliptic_key_verifier(public_key=key.public_path).verify(
        unpacked, unpacked / "model.sig"
    )


def test_non_der_signature_value_refused(key: KeyPair, trust: Any) -> None:
    files = {"a.txt": b"hello\n"}
    bundle = json.loads(sign_files(files, key.private, model_name="m"))
    sig = bundle["dsseEnvelope"]["signatures"][0]
    sig["sig"] = base64.b64encode(base64.b64decode(sig["sig"]) + b"\0").decode()
    with pytest.raises(BundleError) as info:
        verify_files(json.dumps(bundle, separators=(",", ":")).encode(), files, trust.keys)
    assert info.value.code in ("signature", "untrusted")
