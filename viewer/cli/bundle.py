"""``bedside bundle ...`` and ``bedside keys ...``: the functions the GUI's model manager calls.

Install, activate and rollback are recorded in the audit log. ``bundle verify`` is a check (it
loads and self-tests the model but writes no audit row); ``bundle inspect`` verifies, then shows the
model card; a bundle that fails verification is shown only with ``--unverified``, marked NOT
VERIFIED, and the command still exits 1. Every text from a bundle, the store or a key folder is
printed through :func:`viewer.errors.printable` (a terminal escape in a manifest once rewrote
the NOT VERIFIED line).
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from viewer.bundle.keys import (
    PASSPHRASE_ENV,
    generate_keypair,
    load_private_key,
    load_public_key,
    read_key_file,
)
from viewer.bundle.signing import TrustedKey
from viewer.bundle.trust import TrustStore
from viewer.config import Settings
from viewer.errors import BedsideError, BundleError, printable, printable_json
from viewer.keyprint import format_fingerprint
from viewer.paths import read_bounded


def _trust(args: argparse.Namespace) -> TrustStore:
    store = TrustStore.from_settings(args.settings)
    extra = [
        TrustedKey.of(load_public_key(p), source="command line", path=str(p))
        for p in args.trust_key or []
    ]
    return TrustStore.of_keys([*store.keys, *extra]) if extra else store


def _name(m: Any) -> str:
    """A manifest's id and version as printed: manifest text through :func:`printable`."""
    return f"{printable(m.id)} {printable(m.version)}"


def _print_json(data: Any) -> None:
    """JSON on stdout; characters :func:`printable` marks written as ``\\u`` escapes."""
    print(printable_json(json.dumps(data, indent=2)))


def _open_audit(settings: Settings) -> Any:
    from viewer.audit import AuditLog

    return AuditLog.open(settings)


def _passphrase(*, confirm: bool, required: bool) -> bytes | None:
    env = os.environ.get(PASSPHRASE_ENV)
    if env:
        return env.encode("utf-8")
    if not sys.stdin.isatty():
        if required:
            raise BundleError(
                f"A passphrase is needed: set {PASSPHRASE_ENV} (no prompt without a terminal).",
                code="signature",
            )
        return None
    first = getpass.getpass("Key passphrase: ")
    if confirm and getpass.getpass("Repeat the passphrase: ") != first:
        raise BundleError("The two passphrases differ.", code="signature")
    if required and not first:
        raise BundleError("An empty passphrase is not allowed.", code="signature")
    return first.encode("utf-8") or None


def _private_key(path: str) -> Any:
    """Load a signing key; an encrypted PEM gets its passphrase from the env or a prompt."""
    try:
        encrypted = b"ENCRYPTED" in read_key_file(Path(path))[:4096]
    except OSError as exc:
        raise BundleError(
            f"The private key cannot be read ({exc.strerror}).", code="signature", path=path
        ) from exc
    passphrase = _passphrase(confirm=False, required=True) if encrypted else None
    return load_private_key(path, passphrase)


# ---------------------------------------------------------------------------- keys


def _cmd_keys_generate(args: argparse.Namespace) -> int:
    passphrase = _passphrase(confirm=True, required=True) if args.passphrase else None
    gen = generate_keypair(args.out, passphrase=passphrase, force=args.force)
    protected = ", passphrase-protected" if gen.encrypted else ""
    print(f"private key: {gen.private_path} (mode 0600{protected})")
    print(f"public key:  {gen.public_path}")
    print(f"fingerprint: {format_fingerprint(gen.fingerprint)}")
    print("Give IT the public key and the fingerprint (compare it by phone); keep the private key.")
    return 0


def _cmd_keys_list(args: argparse.Namespace) -> int:
    store = TrustStore.from_settings(args.settings)
    if not store.keys:
        print("No trusted keys: no bundle will be accepted.")
    for k in store.keys:
        print(f"{k.source:5}  {format_fingerprint(k.fingerprint)}  {printable(k.path)}")
    for problem in store.problems:
        print(f"skipped: {printable(problem)}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------- bundle


def _text_file(path: str, option: str) -> str:
    """A text file an option names, bounded, never followed into a FIFO (a wait for ever) or a
    device (/dev/zero: a read without end); each problem one sentence."""
    try:
        return read_bounded(Path(path), option, MAX_TEXT_BYTES)
    except OSError as exc:
        raise BedsideError(f"{option} {path} cannot be read ({exc.strerror}).") from exc
    except UnicodeDecodeError as exc:
        raise BedsideError(f"{option} {path} is not UTF-8 text.") from exc


MAX_TEXT_BYTES = 1 << 20  # a licence or model card notes


def _cmd_create(args: argparse.Namespace) -> int:
    from viewer.bundle.create import create_bundle

    key = _private_key(args.key) if args.key else None
    licence = _text_file(args.licence_file, "--licence-file") if args.licence_file else None
    notes = _text_file(args.card_notes, "--card-notes") if args.card_notes else ""
    created = create_bundle(
        arch_id=args.arch,
        weights=args.weights,
        template=args.manifest,
        sample=args.sample,
        out=args.out,
        private_key=key,
        licence_text=licence,
        card_notes=notes,
        reference=args.reference,
        reference_quantile=args.reference_quantile,
        progress=lambda msg: print(f"... {msg}", file=sys.stderr),
    )
    m = created.manifest
    print(f"wrote {printable(created.path)}: {_name(m)}, sha256 {created.digest}")
    _print_reference(m)
    if created.key_fingerprint:
        print(f"signed by {format_fingerprint(created.key_fingerprint)}")
    else:
        print("NOT SIGNED: run `bedside bundle sign` before distributing it.")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    """``bundle import torchxrayvision|torchvision-densenet121``: viewer.bundle.importers."""
    from viewer.bundle import importers

    key = _private_key(args.key)
    if args.source == "torchxrayvision":
        created = importers.import_torchxrayvision(
            args.file, weights_name=args.weights_name, out=args.out, private_key=key,
            version=args.version, resize=args.resize, reference=args.reference,
            reference_quantile=args.reference_quantile,
        )  # fmt: skip
    else:
        names = [n.strip() for n in args.labels.split(",")]
        given = [t.strip() for t in (args.thresholds or "").split(",")] if args.thresholds else []
        if given and len(given) != len(names):
            raise BedsideError("Give one threshold per label (empty for none: a hidden output).")
        try:
            thresholds = [float(t) if t else None for t in given] or [None] * len(names)
        except ValueError as exc:
            raise BedsideError(f"A threshold is not a number ({exc}).") from exc
        created = importers.import_torchvision_densenet121(
            args.file, labels=names, thresholds=thresholds, out=args.out, private_key=key,
            model_id=args.id, version=args.version, normalize=args.normalize,
            reference=args.reference, reference_quantile=args.reference_quantile,
        )  # fmt: skip
    m = created.manifest
    print(f"wrote {printable(created.path)}: {_name(m)}, sha256 {created.digest}")
    print(f"{len(m.labels)} label(s) shown, {len(m.hidden_outputs)} hidden output(s)")
    _print_reference(m)
    if created.key_fingerprint:
        print(f"signed by {format_fingerprint(created.key_fingerprint)}")
    return 0


def _print_reference(m: Any) -> None:
    """Say whether the bundle carries a reference profile (and so refuses unlike images)."""
    profile = m.reference_profile
    if profile is None or profile.ood is None:
        print(
            "no reference profile: no per-image reference check, and drift monitoring compares "
            "scores only (give --reference)"
        )
        return
    ood = profile.ood
    print(
        f"reference profile: {profile.count} images ({profile.refused} refused by the input "
        f"checks); images beyond distance {ood.threshold:.1f} (the {ood.quantile * 100:g}th "
        "percentile) are refused"
    )


def _reference_options(q: argparse.ArgumentParser) -> None:
    """``--reference`` / ``--reference-quantile`` for ``bundle create`` and ``bundle import``."""
    q.add_argument(
        "--reference",
        metavar="PATH",
        help="reference set: a folder of DICOM images like those the model was validated on, "
        "or a .npz with 'features' (and 'scores'); the bundle then refuses unlike images",
    )
    q.add_argument(
        "--reference-quantile",
        type=float,
        default=0.99,
        metavar="Q",
        help="refuse images beyond this quantile of the reference's distances (default 0.99)",
    )


def _register_import(bsub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    imp = bsub.add_parser("import", help="a published model's weights file into a signed bundle")
    isub = imp.add_subparsers(dest="source", metavar="SOURCE", required=True)
    p = isub.add_parser("torchxrayvision", help="TorchXRayVision DenseNet-121 / ResNet-50")
    p.add_argument("file", help="the release file (.pt), read without running code from it")
    p.add_argument("--weights-name", required=True, help="e.g. densenet121-res224-all")
    p.add_argument(
        "--resize",
        choices=["readme", "model"],
        default="readme",
        help="readme: scikit-image resize (XRayResizer); model: F.interpolate",
    )
    p2 = isub.add_parser("torchvision-densenet121", help="a CheXNet-style DenseNet-121 state dict")
    p2.add_argument("file", help="the state dict (.pt/.pth), read without running code from it")
    p2.add_argument("--labels", required=True, help="comma-separated, in output order")
    p2.add_argument("--thresholds", help="comma-separated, one per label (empty: hidden)")
    p2.add_argument("--normalize", choices=["imagenet"], default="imagenet")
    p2.add_argument("--id", required=True, help="model id, e.g. chexnet")
    for q in (p, p2):
        q.add_argument("--key", required=True, help="private key (PEM) to sign with")
        q.add_argument("--out", required=True, help="the .bundle to write")
        q.add_argument("--version", default="1.0.0", help="the bundle's version (SemVer)")
        _reference_options(q)
        q.set_defaults(func=_cmd_import)


def _cmd_sign(args: argparse.Namespace) -> int:
    from viewer.bundle.create import sign_bundle

    created = sign_bundle(args.bundle, _private_key(args.key), out=args.out)
    assert created.key_fingerprint is not None  # noqa: S101 - signed just above
    print(f"signed {printable(created.path)} with {format_fingerprint(created.key_fingerprint)}")
    print(f"sha256 {created.digest}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from viewer.bundle.loader import load_bundle

    start = time.perf_counter()
    try:
        loaded = load_bundle(args.bundle, _trust(args))
    except BundleError as exc:
        if args.json:
            _print_json({"ok": False, "code": exc.code, "message": str(exc)})
            return 1
        raise
    elapsed = (time.perf_counter() - start) * 1000
    m = loaded.manifest
    result = {
        "ok": True,
        "id": m.id,
        "version": m.version,
        "digest": loaded.digest,
        "key_fingerprint": loaded.key_fingerprint,
        "key_source": loaded.key_source,
        "architecture": m.architecture.id,
        "selftest": {
            "passed": loaded.selftest.passed,
            "max_abs_diff_tensor": loaded.selftest.max_abs_diff_tensor,
            "max_abs_diff_output": loaded.selftest.max_abs_diff_output,
        },
        "elapsed_ms": round(elapsed, 1),
    }
    if args.json:
        _print_json(result)
        return 0
    print(f"OK  {_name(m)} ({printable(m.name)})")
    print(f"    bundle sha256 {loaded.digest}")
    print(f"    signed by {format_fingerprint(loaded.key_fingerprint)} ({loaded.key_source} key)")
    print(f"    {printable(loaded.selftest.message)}")
    print(f"    verified, loaded and self-tested in {elapsed:.0f} ms")
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    """Verify first: a manifest whose signature fails is unproven, so it is shown only on request
    (``--unverified``), under a NOT VERIFIED banner / ``"verified": false``, and the exit code
    stays 1 either way (hostile finding 17: a forged threshold printed with exit 0)."""
    from viewer.bundle.archive import read_archive
    from viewer.bundle.loader import verify_bundle
    from viewer.bundle.manifest import MANIFEST_NAME, parse_manifest
    from viewer.bundle.model_card import render_model_card

    failure: BundleError | None = None
    try:
        verified = verify_bundle(args.bundle, _trust(args))
        manifest, archive = verified.manifest, verified.archive
    except BundleError as exc:
        failure = exc
    if failure is not None:
        reason = f"NOT VERIFIED ({failure.code}): {failure.message}"
        if not args.unverified:
            if args.json:
                result = {"verified": False, "code": failure.code, "message": str(failure)}
                _print_json(result)
                return 1
            raise BundleError(
                f"{reason} Its contents are unproven, so they are not shown; add --unverified "
                "to review them anyway.",
                code=failure.code,
                path=failure.path,
            )
        archive = read_archive(args.bundle)
        if MANIFEST_NAME not in archive.members:
            raise BundleError(
                f"{reason} It has no manifest.json to show.", code="schema", path=args.bundle
            ) from failure
        manifest = parse_manifest(archive.members[MANIFEST_NAME])
        if args.json:
            result = {
                "verified": False,
                "code": failure.code,
                "message": str(failure),
                "warning": f"{reason} Everything below is unproven.",
                "digest": archive.digest,
                "manifest": json.loads(manifest.to_json_bytes()),
            }
            _print_json(result)
            return 1
        banner = "!" * 78
        header = f"{banner}\n{reason}\nShown for review only: nothing below is proven.\n{banner}"
    else:
        header = (
            f"VERIFIED: signed by trusted key {format_fingerprint(verified.key_fingerprint)} "
            f"({verified.key_source})."
        )
        if args.json:
            result = {
                "verified": True,
                "digest": verified.digest,
                "key_fingerprint": verified.key_fingerprint,
                "key_source": verified.key_source,
                "manifest": json.loads(manifest.to_json_bytes()),
            }
            _print_json(result)
            return 0
    print(header)
    print(f"File sha256 {archive.digest}")
    for name in archive.names():
        data = archive.members[name]
        digest = hashlib.sha256(data).hexdigest()
        print(f"  {printable(name):24} {len(data):>12,} bytes  sha256 {digest}")
    print()
    print(render_model_card(manifest))
    if failure is not None:
        print()
        print(header)
        return 1
    return 0


def _store(args: argparse.Namespace) -> Any:
    from viewer.bundle.store import ModelStore

    return ModelStore(args.settings, _open_audit(args.settings), trust=_trust(args))


def _cmd_install(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        loaded = store.install(
            args.bundle,
            allow_downgrade=args.allow_downgrade,
            activate=args.activate,
            shadow=args.shadow,
        )
        active = store.active(loaded.manifest.id)
    finally:
        store.audit.close()
    m = loaded.manifest
    print(f"installed {_name(m)} (sha256 {loaded.digest})")
    print(f"active version of {printable(m.id)}: {printable(active.stem) if active else 'none'}")
    if args.shadow:
        print(f"shadow candidate of {printable(m.id)}: {printable(m.version)} ({SHADOW_NOTE})")
    return 0


SHADOW_NOTE = "scores every image after the active version; recorded, never shown to a reader"


def _cmd_shadow(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        if args.stop:
            version = store.stop_shadow(args.stop)
            print(f"stopped shadow scoring of {printable(args.stop)} {printable(version)}")
            return 0
        if not args.id or not args.version:
            raise BedsideError("Name the installed candidate (ID VERSION), or --stop ID.")
        store.set_shadow(args.id, args.version)
    finally:
        store.audit.close()
    print(f"shadow candidate of {printable(args.id)}: {printable(args.version)} ({SHADOW_NOTE})")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from viewer.bundle.store import ModelStore

    entries = ModelStore(args.settings, None, trust=TrustStore()).list()
    if args.json:
        rows = [
            {
                "id": e.id,
                "version": e.version,
                "active": e.active,
                "shadow": e.shadow,
                "digest": e.digest,
                "key_fingerprint": e.key_fingerprint,
                "installed_at": e.installed_at,
                "path": str(e.path),
            }
            for e in entries
        ]
        _print_json(rows)
        return 0
    if not entries:
        print("No models installed.")
    for e in entries:
        mark = "*" if e.active else ("s" if e.shadow else " ")
        print(
            f"{mark} {printable(e.id):24} {printable(e.version):12} {printable(e.installed_at)}  "
            f"{printable(e.digest[:16])}  {printable(e.name)}"
        )
    return 0


def _cmd_activate(args: argparse.Namespace) -> int:
    """Activate with a signed change record; with --approver, a proposal for that user."""
    from viewer.session import change_control as cc

    store = _store(args)
    try:
        evidence = None
        if args.evidence:
            evidence = cc.read_evidence_for(store.audit, args.id, args.version, args.evidence)
        done = cc.activate(
            args.settings,
            store.audit,
            store,
            args.id,
            args.version,
            evidence=evidence,
            rationale=args.rationale or "",
            approver=args.approver,
        )
    finally:
        store.audit.close()
    if done.activated:
        print(f"active version of {printable(args.id)}: {printable(args.version)}")
        return 0
    print(
        f"Proposed: activate {printable(args.id)} {printable(args.version)} (change record "
        f"{done.proposal}). Nothing is active yet: {printable(done.approver or '')}, signed in "
        f"as themselves, approves with\n  bedside bundle approve {done.proposal}"
    )
    return 0


def _cmd_approve(args: argparse.Namespace) -> int:
    from viewer.session import change_control as cc

    store = _store(args)
    try:
        done = cc.approve(args.settings, store.audit, store, args.record)
    finally:
        store.audit.close()
    print(f"approved; active version of {printable(done.model_id)}: {printable(done.version)}")
    return 0


def _cmd_rollback(args: argparse.Namespace) -> int:
    from viewer.session import change_control as cc

    store = _store(args)
    try:
        version = cc.rollback(args.settings, store, args.id, rationale=args.rationale or "")
    finally:
        store.audit.close()
    print(f"rolled back {printable(args.id)} to {printable(version)}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = sub.add_parser("keys", help="signing keys for model bundles")
    ksub = keys.add_subparsers(dest="keys_command", metavar="COMMAND", required=True)
    p = ksub.add_parser("generate", help="create an ECDSA P-256 key pair for signing bundles")
    p.add_argument("--out", required=True, help="folder for signing-key.pem / signing-key.pub.pem")
    p.add_argument(
        "--passphrase",
        action="store_true",
        help=f"protect the private key with a passphrase (from {PASSPHRASE_ENV} or a prompt)",
    )
    p.add_argument(
        "--force", action="store_true", help="replace a key pair that is already in the folder"
    )
    p.set_defaults(func=_cmd_keys_generate)
    p = ksub.add_parser("list", help="show the trusted public keys and their fingerprints")
    p.set_defaults(func=_cmd_keys_list)

    bundle = sub.add_parser("bundle", help="create, sign, verify and install model bundles")
    bsub = bundle.add_subparsers(dest="bundle_command", metavar="COMMAND", required=True)

    def trust_opt(q: argparse.ArgumentParser) -> None:
        q.add_argument(
            "--trust-key",
            action="append",
            metavar="PEM",
            help="also trust this public key for this command (e.g. the ML team's own check)",
        )

    p = bsub.add_parser("create", help="freeze weights + manifest template into a .bundle")
    p.add_argument("--arch", required=True, help="architecture id, e.g. densenet121")
    p.add_argument("--weights", required=True, help=".safetensors or a state_dict .pth/.pt")
    p.add_argument("--manifest", required=True, help="manifest template (JSON)")
    p.add_argument("--sample", required=True, help="a DICOM image for the self-test")
    p.add_argument("--out", required=True, help="the .bundle to write")
    p.add_argument("--key", help="private key (PEM) to sign with")
    p.add_argument("--licence-file", help="licence text to include (LICENSE.txt)")
    p.add_argument("--card-notes", help="markdown appended to the generated model card")
    _reference_options(p)
    p.set_defaults(func=_cmd_create)

    _register_import(bsub)

    p = bsub.add_parser("sign", help="sign (or re-sign) a bundle with a private key")
    p.add_argument("bundle")
    p.add_argument("--key", required=True, help="private key (PEM)")
    p.add_argument("--out", help="write here instead of replacing the bundle")
    p.set_defaults(func=_cmd_sign)

    p = bsub.add_parser("verify", help="verify signature, schema, weights and self-test")
    p.add_argument("bundle")
    p.add_argument("--json", action="store_true", help="machine-readable result")
    trust_opt(p)
    p.set_defaults(func=_cmd_verify)

    p = bsub.add_parser("inspect", help="show the model card (and whether the bundle verifies)")
    p.add_argument("bundle")
    p.add_argument(
        "--json",
        action="store_true",
        help='print {"verified": ..., "manifest": ...} instead of the model card',
    )
    p.add_argument(
        "--unverified",
        action="store_true",
        help="show a bundle that fails verification anyway, marked NOT VERIFIED (exit code 1)",
    )
    trust_opt(p)
    p.set_defaults(func=_cmd_inspect)

    p = bsub.add_parser("install", help="verify and add a bundle to the model store")
    p.add_argument("bundle")
    p.add_argument(
        "--allow-downgrade",
        action="store_true",
        help="allow installing a version older than one installed (recorded)",
    )
    how = p.add_mutually_exclusive_group()
    how.add_argument("--activate", action="store_true", help="also make it the active version")
    how.add_argument(
        "--shadow",
        action="store_true",
        help="make it the shadow candidate: it scores every image after the active version, "
        "its results only recorded, never shown",
    )
    trust_opt(p)
    p.set_defaults(func=_cmd_install)

    p = bsub.add_parser(
        "shadow", help="make an installed version the shadow candidate, or --stop shadow scoring"
    )
    p.add_argument("id", nargs="?")
    p.add_argument("version", nargs="?")
    p.add_argument("--stop", metavar="ID", help="stop shadow scoring of model ID (recorded)")
    trust_opt(p)
    p.set_defaults(func=_cmd_shadow)

    p = bsub.add_parser("list", help="list installed models (* = active, s = shadow candidate)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_list)

    p = bsub.add_parser(
        "activate", help="make an installed version the active one (signed change record)"
    )
    p.add_argument("id")
    p.add_argument("version")
    p.add_argument(
        "--evidence",
        metavar="REPORT.json",
        help="the report it rests on (`model compare --json` or `model recalibrate --json`)",
    )
    p.add_argument("--rationale", metavar="TEXT", help="why, in words (kept in the record)")
    p.add_argument(
        "--approver",
        metavar="USER_ID",
        help="the second approver's OS account: writes a proposal they approve with "
        "`bundle approve`",
    )
    trust_opt(p)
    p.set_defaults(func=_cmd_activate)

    p = bsub.add_parser(
        "approve", help="approve a proposed activation as its second approver (then activate)"
    )
    p.add_argument("record", help="the proposal's record id (or its audit row number)")
    trust_opt(p)
    p.set_defaults(func=_cmd_approve)

    p = bsub.add_parser("rollback", help="re-activate the previously active version")
    p.add_argument("id")
    p.add_argument("--rationale", metavar="TEXT", help="why, in words (kept in the record)")
    trust_opt(p)
    p.set_defaults(func=_cmd_rollback)


__all__ = ["BedsideError", "register"]
