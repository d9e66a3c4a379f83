"""Verify and load a ``.bundle``, failing closed, one clear reason per step.

Order (DESIGN.md): archive limits -> signature against the trust store -> manifest schema ->
architecture known, app and torch versions compatible -> weights (digest, safetensors, strict
``load_state_dict``) -> self-test within the manifest's tolerance, run with the torch thread
count its expected values were computed with (``selftest.threads``) -> audit event. Nothing in a
bundle is ever unpickled, ``torch.load``-ed, jit- or export-loaded: weights and self-test tensors
are safetensors (a JSON header plus raw little-endian arrays) and everything else is text.
"""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from viewer import __version__ as APP_VERSION  # noqa: N812
from viewer.bundle.archive import BundleArchive, DigestCheck, Limits, read_archive
from viewer.bundle.audit_hook import AuditSink, record
from viewer.bundle.manifest import (
    LICENSE_NAME,
    MANIFEST_NAME,
    MODEL_CARD_NAME,
    SELFTEST_NAME,
    WEIGHTS_NAME,
    Manifest,
    parse_manifest,
)
from viewer.bundle.profile import REFERENCE_NAME
from viewer.bundle.signing import (
    SIGNATURE_NAME,
    SignatureInfo,
    SignedList,
    verify_files,
    verify_signature,
)
from viewer.bundle.trust import TrustStore
from viewer.bundle.version import release_tuple
from viewer.errors import BundleError
from viewer.outputs import file_sha256

if TYPE_CHECKING:
    import torch

    from viewer.inference.ood import OodReference
    from viewer.inference.selftest import SelfTestResult

REQUIRED_MEMBERS = (MANIFEST_NAME, WEIGHTS_NAME, SELFTEST_NAME, MODEL_CARD_NAME, LICENSE_NAME)
MAX_SAFETENSORS_HEADER = 16 * 1024 * 1024
MAX_SELFTEST_BYTES = 256 * 1024 * 1024
MAX_SELFTEST_SIDE = 8192


@dataclass(frozen=True)
class VerifiedBundle:
    """Signature and schema checked; no torch involved yet."""

    manifest: Manifest
    digest: str
    key_fingerprint: str
    key_source: str
    path: Path
    archive: BundleArchive = field(repr=False)
    signed_digests: dict[str, str] = field(default_factory=dict, repr=False)  # name -> sha256

    def member(self, name: str) -> bytes:
        return self.archive.members[name]


@dataclass
class LoadedBundle:
    manifest: Manifest
    model: torch.nn.Module  # eval mode
    digest: str  # sha256 of the .bundle file
    key_fingerprint: str
    selftest: SelfTestResult
    path: Path
    key_source: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    ood: OodReference | None = None  # the per-image reference check, when the bundle has one


def verify_bundle(
    path: str | Path, trust: TrustStore, *, limits: Limits | None = None
) -> VerifiedBundle:
    """Archive limits, OMS signature by a trusted key over every member, then the manifest.

    The signature is checked while the archive is read: ``model.sig`` against the trust store
    and the member names before any other member is inflated, then each member's digest as soon
    as it is read, so the first unsigned or altered member stops the read.
    """
    p = Path(path)
    signed: list[SignedList] = []

    def verify(sig: bytes | None, names: Sequence[str]) -> DigestCheck:
        _require_keys(sig, trust)
        with _skipped_keys_named(trust):
            signed.append(verify_signature(sig, names, trust.keys))
        return signed[0].check_digest

    try:
        archive = read_archive(p, limits=limits, verify=verify)
    except BundleError as exc:
        if exc.path is None:
            raise BundleError(exc.message, code=exc.code, path=p) from exc
        raise
    return verify_archive(archive, trust, path=p, signed=signed[0].info)


def _require_keys(signature: bytes | None, trust: TrustStore) -> None:
    if signature is not None and not trust.keys:
        if trust.problems:  # keys are there, none of them usable: say why, not "none"
            raise BundleError(
                "No trusted signing key is usable, so no bundle can be accepted." + _skipped(trust),
                code="untrusted",
            )
        raise BundleError(
            "No trusted signing keys are configured, so no bundle can be accepted. IT places "
            "public keys (PEM) in the site's trusted-keys folder.",
            code="untrusted",
        )


@contextmanager
def _skipped_keys_named(trust: TrustStore) -> Iterator[None]:
    """A bundle signed by no trusted key: say which key files were skipped and why (one that
    other accounts can change, one that does not parse), so IT sees the cause, not a mystery."""
    try:
        yield
    except BundleError as exc:
        if exc.code != "untrusted" or not trust.problems:
            raise
        raise BundleError(exc.message + _skipped(trust), code="untrusted") from exc


def _skipped(trust: TrustStore) -> str:
    if not trust.problems:
        return ""
    more = f" (and {len(trust.problems) - 1} more)" if len(trust.problems) > 1 else ""
    return f" Skipped{more}: {trust.problems[0]}"


def verify_archive(
    archive: BundleArchive, trust: TrustStore, *, path: Path, signed: SignatureInfo | None = None
) -> VerifiedBundle:
    """The signature and manifest checks of :func:`verify_bundle` on an archive already read
    (the model store reads a stored file once, checks its digest, then verifies those bytes);
    ``signed``: the signature already checked while the archive was read."""
    p = path
    try:
        if signed is None:
            signature = archive.members.get(SIGNATURE_NAME)
            _require_keys(signature, trust)
            with _skipped_keys_named(trust):
                signed = verify_files(
                    signature, archive.members, trust.keys, digests=archive.digests
                )
        info = signed
        missing = [n for n in REQUIRED_MEMBERS if n not in archive.members]
        if missing:
            raise BundleError(
                f"The bundle lacks {', '.join(missing)} (signed that way, but not a complete "
                "Bedside bundle).",
                code="schema",
            )
        manifest = parse_manifest(archive.members[MANIFEST_NAME])
        profile = manifest.reference_profile
        declared = profile is not None and profile.ood is not None
        if declared != (REFERENCE_NAME in archive.members):
            raise BundleError(
                f"The manifest {'declares' if declared else 'does not declare'} a reference "
                f"profile, but the bundle {'lacks' if declared else 'holds'} {REFERENCE_NAME}.",
                code="schema",
            )
    except BundleError as exc:
        if exc.path is None:
            raise BundleError(exc.message, code=exc.code, path=p) from exc
        raise
    return VerifiedBundle(
        manifest=manifest,
        digest=archive.digest,
        key_fingerprint=info.key.fingerprint,
        key_source=info.key.source,
        path=p,
        archive=archive,
        signed_digests=dict(info.files),
    )


def check_compatibility(manifest: Manifest, *, torch_version: str, app_version: str) -> None:
    """App not older than the bundle needs; torch within [torch_min, torch_below)."""
    comp = manifest.compatibility
    if release_tuple(app_version) < release_tuple(comp.min_app_version):
        raise BundleError(
            f"The bundle needs Bedside {comp.min_app_version} or newer; this is {app_version}.",
            code="version",
        )
    tv = release_tuple(torch_version)
    if tv < release_tuple(comp.torch_min) or (
        comp.torch_below is not None and tv >= release_tuple(comp.torch_below)
    ):
        upper = f" and below {comp.torch_below}" if comp.torch_below else ""
        raise BundleError(
            f"The bundle was validated for torch {comp.torch_min} or newer{upper}; this "
            f"installation has torch {torch_version}.",
            code="version",
        )


def load_weights(
    model: torch.nn.Module, manifest: Manifest, data: bytes, *, digest: str | None = None
) -> None:
    """Digest check, safetensors parse (no pickle), then ``load_state_dict(strict=True)``.

    ``digest`` is the SHA-256 the signature check already computed over these very bytes (saves
    hashing tens of MB twice); without it the bytes are hashed here.
    """
    digest = digest or hashlib.sha256(data).hexdigest()
    if digest != manifest.weights.sha256:
        raise BundleError(
            "The weights do not match the digest the manifest records; the bundle is inconsistent.",
            code="weights",
        )
    if len(data) < 8 or int.from_bytes(data[:8], "little") > min(
        MAX_SAFETENSORS_HEADER, len(data) - 8
    ):
        raise BundleError("The weights file is not a valid safetensors file.", code="weights")
    import safetensors.torch

    try:
        state = safetensors.torch.load(data)
    except Exception as exc:  # the Rust parser raises its own SafetensorError
        raise BundleError(
            f"The weights file is not a valid safetensors file ({exc}).", code="weights"
        ) from exc
    expected = model.state_dict()
    wrong = [k for k, v in state.items() if k in expected and v.dtype != expected[k].dtype]
    if wrong:
        raise BundleError(
            f"The weights hold {len(wrong)} tensor(s) of another number type than the "
            f"architecture uses (first: '{wrong[0]}' is {state[wrong[0]].dtype}, expected "
            f"{expected[wrong[0]].dtype}); they would be converted silently, so they are refused.",
            code="weights",
        )
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        detail = str(exc).replace("\n", " ").replace("\t", " ")
        if len(detail) > 600:
            detail = detail[:600] + "..."
        raise BundleError(
            f"The weights do not fit the architecture '{manifest.architecture.id}': {detail}",
            code="weights",
        ) from exc
    model.eval()


def check_selftest_shapes(manifest: Manifest, tensors: dict[str, Any]) -> None:
    """Bounded input, and a stored tensor of the shape ``network_data_format`` declares."""
    pixels = tensors.get("input.pixels")
    if pixels is not None and (
        pixels.ndim != 2 or max(pixels.shape) > MAX_SELFTEST_SIDE or min(pixels.shape) < 1
    ):
        raise BundleError(
            f"The self-test image has shape {tuple(pixels.shape)}; a 2-D image of at most "
            f"{MAX_SELFTEST_SIDE} pixels a side is expected.",
            code="selftest",
        )
    expected = tensors.get("expected.tensor")
    image = manifest.network_data_format.inputs["image"]
    declared = (image.num_channels, *image.spatial_shape)
    if expected is not None and tuple(expected.shape) != declared:
        raise BundleError(
            f"The self-test tensor has shape {tuple(expected.shape)} but the manifest's "
            f"network_data_format declares {declared}.",
            code="selftest",
        )


@contextmanager
def torch_threads(threads: int) -> Iterator[int]:
    """torch's intra-op thread count set to ``threads`` for the block, then put back.

    The count is process-global and changes how float reductions are split, so a self-test's
    expected values hold exactly only for the count they were computed with
    (``manifest.selftest.threads``); the caller's setting (e.g. the Predictor's) is restored
    even when the block fails.
    """
    import torch

    from viewer.inference.engine import configure_threads

    previous = torch.get_num_threads()
    try:
        yield configure_threads(threads)
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)


def run_selftest(model: torch.nn.Module, manifest: Manifest, data: bytes) -> SelfTestResult:
    import safetensors.numpy

    from viewer.inference.selftest import check_selftest

    if len(data) > MAX_SELFTEST_BYTES:
        raise BundleError(
            f"The self-test file is over {MAX_SELFTEST_BYTES} bytes; a self-test is one image.",
            code="selftest",
        )
    try:
        tensors: dict[str, Any] = safetensors.numpy.load(data)
    except Exception as exc:
        raise BundleError(
            f"The self-test file is not a valid safetensors file ({exc}).", code="selftest"
        ) from exc
    check_selftest_shapes(manifest, tensors)
    try:
        with torch_threads(manifest.selftest.threads):
            result = check_selftest(model, manifest, tensors)
    except BundleError:
        raise
    except Exception as exc:  # InferenceError or a shape error inside the model
        raise BundleError(f"The self-test could not run: {exc}", code="selftest") from exc
    if not result.passed:
        raise BundleError(
            f"The self-test failed: {result.message} The model would not score images as it was "
            "validated, so it is refused.",
            code="selftest",
        )
    return result


def _reference_bad(why: str) -> BundleError:
    return BundleError(f"The bundle's reference profile is unusable: {why}.", code="schema")


def reference_layer(model: torch.nn.Module, manifest: Manifest) -> torch.nn.Module:
    """The module whose input the reference check reads (the manifest names it)."""
    from viewer.inference.ood import feature_layer

    spec = manifest.reference_profile.ood if manifest.reference_profile else None
    if spec is None:  # pragma: no cover - verify_archive pairs the member with the declaration
        raise BundleError("The bundle declares no reference check.", code="schema")
    try:
        return feature_layer(model, spec.layer)[1]
    except LookupError as exc:
        raise _reference_bad(str(exc)) from exc


def load_reference(
    manifest: Manifest, data: bytes, *, seen: Sequence[Any], forwards: int
) -> OodReference:
    """The out-of-distribution check's arrays (``reference.safetensors``: ``mean`` (d,) and
    ``precision`` (d, d), finite, symmetric and positive definite, else some images would have
    a distance of 0 whatever they hold). ``seen``: the feature layer's inputs captured over the
    self-test's ``forwards`` forwards; the layer must have run once in each, with d values."""
    import numpy as np
    import safetensors.numpy
    import torch

    from viewer.inference.ood import OodReference

    spec = manifest.reference_profile.ood if manifest.reference_profile else None
    if spec is None:  # pragma: no cover - verify_archive pairs the member with the declaration
        raise BundleError("The bundle declares no reference check.", code="schema")
    bad = _reference_bad
    try:
        arrays: dict[str, Any] = safetensors.numpy.load(data)
    except Exception as exc:
        raise bad(f"{REFERENCE_NAME} is not a valid safetensors file ({exc})") from exc
    if set(arrays) != {"mean", "precision"}:
        raise bad(f"{REFERENCE_NAME} must hold exactly 'mean' and 'precision'")
    d = spec.dim
    if arrays["mean"].shape != (d,) or arrays["precision"].shape != (d, d):
        raise bad(
            f"its arrays are {arrays['mean'].shape} and {arrays['precision'].shape}, not ({d},) "
            f"and ({d}, {d})"
        )
    if len(seen) != forwards:
        raise bad(
            f"layer '{spec.layer}' ran {len(seen)} time(s) in the self-test's {forwards} "
            "forward(s), not once in each, so its input is not one image's features"
        )
    sizes = sorted({int(f.shape[0]) for f in seen} - {d})
    if sizes:
        raise bad(f"layer '{spec.layer}' takes {sizes[0]} values per image, not {d}")
    mean = np.asarray(arrays["mean"], dtype=np.float64)
    precision = np.asarray(arrays["precision"], dtype=np.float64)
    del arrays
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(precision))):
        raise bad("its arrays hold values that are not finite numbers")
    scale = float(np.abs(precision).max()) or 1.0
    if float(np.abs(precision - precision.T).max()) > 1e-5 * scale:
        raise bad("its precision matrix is not symmetric")
    # torch's own factorisation (its thread team; a numpy LAPACK call would start a second one)
    _, info = torch.linalg.cholesky_ex(torch.from_numpy(precision))
    if int(info) != 0:
        raise bad("its precision matrix is not positive definite")
    return OodReference(
        layer=spec.layer,
        mean=mean,
        precision=precision,
        threshold=spec.threshold,
        quantile=spec.quantile,
    )


def load_verified(verified: VerifiedBundle) -> LoadedBundle:
    """Steps after the signature: architecture and versions, weights, self-test."""
    import time

    import torch

    from viewer.bundle.architectures import build_model, select_outputs
    from viewer.inference.ood import capture_features

    m = verified.manifest
    t0 = time.perf_counter()
    check_compatibility(m, torch_version=torch.__version__, app_version=APP_VERSION)
    model = build_model(
        m.architecture.id, in_channels=m.architecture.in_channels, num_labels=m.num_outputs
    )
    t1 = time.perf_counter()
    with torch.no_grad():
        load_weights(
            model,
            m,
            verified.member(WEIGHTS_NAME),
            digest=verified.signed_digests.get(WEIGHTS_NAME),
        )
    model = select_outputs(model, m.shown_outputs, m.num_outputs)  # hidden outputs dropped
    t2 = time.perf_counter()
    layer = reference_layer(model, m) if REFERENCE_NAME in verified.archive.members else None
    tap: AbstractContextManager[list[Any]] = (
        capture_features(layer) if layer is not None else nullcontext([])
    )
    with tap as seen:
        result = run_selftest(model, m, verified.member(SELFTEST_NAME))
    ood = None
    if layer is not None:  # the self-test's forwards show what the layer takes
        ood = load_reference(m, verified.member(REFERENCE_NAME), seen=seen, forwards=result.cases)
    t3 = time.perf_counter()
    return LoadedBundle(
        manifest=m,
        model=model,
        digest=verified.digest,
        key_fingerprint=verified.key_fingerprint,
        selftest=result,
        path=verified.path,
        key_source=verified.key_source,
        timings_ms={
            "build_ms": (t1 - t0) * 1000,
            "weights_ms": (t2 - t1) * 1000,
            "selftest_ms": (t3 - t2) * 1000,
        },
        ood=ood,
    )


def load_bundle(
    path: str | Path,
    trust: TrustStore,
    *,
    audit: AuditSink | None = None,
    limits: Limits | None = None,
) -> LoadedBundle:
    """The whole load; every refusal is a BundleError and, with ``audit``, a bundle_refused row."""
    p = Path(path)
    verified: VerifiedBundle | None = None
    try:
        verified = verify_bundle(p, trust, limits=limits)
        loaded = load_verified(verified)
    except BundleError as exc:
        digest = verified.digest if verified else _file_digest(p, limits or Limits())
        record(
            audit,
            "bundle_refused",
            outcome="failure",
            model_id=verified.manifest.id if verified else None,
            model_version=verified.manifest.version if verified else None,
            bundle_digest=digest,
            reason=exc.message,
            detail={
                "code": exc.code,
                "path": str(p),
                "key_fingerprint": verified.key_fingerprint if verified else None,
            },
        )
        if exc.path is None:
            raise BundleError(exc.message, code=exc.code, path=p) from exc
        raise
    record(
        audit,
        "bundle_verified",
        outcome="success",
        model_id=loaded.manifest.id,
        model_version=loaded.manifest.version,
        bundle_digest=loaded.digest,
        detail={
            "key_fingerprint": loaded.key_fingerprint,
            "key_source": loaded.key_source,
            "path": str(p),
            "selftest_max_abs_diff_output": loaded.selftest.max_abs_diff_output,
            "selftest_threads": loaded.manifest.selftest.threads,
        },
    )
    return loaded


def _file_digest(path: Path, limits: Limits) -> str | None:
    """The refused file's SHA-256 for its audit row: only of a regular file within the archive
    limit, the ones the refusal itself read (a FIFO waits for a writer, /dev/zero never ends,
    and the read hung ``bundle verify``)."""
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode) or st.st_size > limits.max_archive_bytes:
            return None
        return file_sha256(path)
    except OSError:
        return None
