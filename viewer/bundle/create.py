"""``bedside bundle create`` and ``bundle sign``: freeze a trained model into a signed bundle.

Runs in the ML team's environment. It takes an architecture id, the weights, a manifest template
(JSON: everything a person decides: identity, intended use, data, metrics, labels and
thresholds, preprocessing, accepted inputs ...) and one sample DICOM image, and adds what must be
computed: the weights digest and parameter count, the self-test (the sample, and the inputs
``viewer.inference.selftest.selftest_inputs`` derives from it so that every declared step is
reached: non-square, MONOCHROME1 and 2, with and without a stored window, each accepted bit
depth; all run through the stored preprocessing and the network, with ``selftest.threads``
torch threads, 1 unless the template says otherwise), the library versions and the creation
time. The bundle is signed when a private key is given.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import ec

from viewer import __version__ as APP_VERSION  # noqa: N812
from viewer.bundle.archive import archive_bytes, read_archive, write_atomic
from viewer.bundle.manifest import (
    LICENSE_NAME,
    MANIFEST_NAME,
    MODEL_CARD_NAME,
    SELFTEST_NAME,
    WEIGHTS_NAME,
    Manifest,
    parse_manifest,
)
from viewer.bundle.model_card import render_model_card
from viewer.bundle.profile import REFERENCE_NAME
from viewer.bundle.signing import SIGNATURE_NAME, sign_files
from viewer.bundle.torchfile import NOT_A_FILE
from viewer.errors import BundleError, ConfigError
from viewer.paths import read_bounded

if TYPE_CHECKING:
    import torch

MAX_TEMPLATE_BYTES = 1024 * 1024
_LIBRARIES = ("torch", "numpy", "safetensors", "pydicom", "pydantic", "cryptography")


@dataclass(frozen=True)
class CreatedBundle:
    path: Path
    digest: str
    manifest: Manifest
    signed: bool
    key_fingerprint: str | None


def library_versions() -> dict[str, str]:
    """Versions that define the numbers the self-test stores (recorded in the manifest)."""
    versions = {"python": platform.python_version(), "bedside": APP_VERSION}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Weights as a flat state_dict from ``.safetensors`` or a torch ``.pth``/``.pt`` state_dict.

    A ``.pt``/``.pth`` is read by :mod:`viewer.bundle.torchfile` (a restricted unpickler that
    runs no code from the file; never ``torch.load``). The bundle itself only ever holds
    safetensors.
    """
    import torch

    p = Path(path)
    if not p.exists():
        raise BundleError("The weights file does not exist.", code="weights", path=p)
    if not p.is_file():  # a FIFO waits for a writer, /dev/zero never ends
        raise BundleError(NOT_A_FILE, code="weights", path=p)
    if p.suffix == ".safetensors":
        import safetensors.torch

        try:
            loaded: Any = safetensors.torch.load_file(str(p), device="cpu")
        except Exception as exc:
            raise BundleError(
                f"The weights are not a valid safetensors file ({exc}).", code="weights", path=p
            ) from exc
    elif p.suffix in (".pth", ".pt"):
        from viewer.bundle.torchfile import read_torch_file, state_dict_of

        arrays = state_dict_of(read_torch_file(p))  # no code from the file runs
        loaded = {k: torch.from_numpy(v.copy()) for k, v in arrays.items()}
    else:
        raise BundleError(
            "Weights must be .safetensors, or a state_dict saved as .pth / .pt.",
            code="weights",
            path=p,
        )
    for wrapper in ("state_dict", "model_state_dict", "model"):
        if isinstance(loaded, Mapping) and isinstance(loaded.get(wrapper), Mapping):
            loaded = loaded[wrapper]
    if not isinstance(loaded, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in loaded.items()
    ):
        raise BundleError(
            "The weights file does not hold a state_dict (names -> tensors).",
            code="weights",
            path=p,
        )
    state = dict(loaded)
    if state and all(k.startswith("module.") for k in state):  # saved from DataParallel
        state = {k.removeprefix("module."): v for k, v in state.items()}
    return state


def weights_bytes(model: torch.nn.Module) -> bytes:
    """The model's state_dict as safetensors bytes (contiguous CPU copies, deterministic order)."""
    import safetensors.torch

    state = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    data: bytes = safetensors.torch.save(state)
    return data


def read_template(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:  # bounded, never into a FIFO (a wait for ever) or a device (/dev/zero: no end)
        raw = json.loads(read_bounded(p, "The manifest template", MAX_TEMPLATE_BYTES))
    except ConfigError as exc:
        raise BundleError(exc.message, code="schema") from exc
    except OSError as exc:
        raise BundleError(
            f"The manifest template cannot be read ({exc.strerror}).", code="schema", path=p
        ) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(
            f"The manifest template is not valid JSON ({exc}).", code="schema", path=p
        ) from exc
    if not isinstance(raw, dict):
        raise BundleError("The manifest template is not a JSON object.", code="schema", path=p)
    return raw


def build_members(
    *,
    arch_id: str,
    state_dict: Mapping[str, torch.Tensor],
    template: Mapping[str, Any],
    sample: Any,
    created: str | None = None,
    licence_text: str | None = None,
    card_notes: str = "",
    reference: str | Path | None = None,
    reference_quantile: float = 0.99,
    progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, bytes], Manifest, torch.nn.Module]:
    """All members except the signature; ``sample`` is a ModelInput or a DICOM path.

    ``reference``: the maker's reference set (a folder of DICOM images or a ``.npz`` feature
    file, ``viewer.bundle.reference``): the bundle then carries a reference profile and refuses
    images beyond its ``reference_quantile`` (``viewer.inference.ood``). Its score histograms
    fill ``reference_scores`` when the template gives none."""
    import safetensors.numpy
    import torch

    from viewer.bundle.architectures import build_model, select_outputs
    from viewer.bundle.loader import torch_threads
    from viewer.inference.preprocess import ModelInput
    from viewer.inference.selftest import compute_selftest, selftest_inputs

    if reference is not None:  # before the self-test and the reference images are run
        from viewer.inference.ood import check_quantile

        try:
            check_quantile(reference_quantile)
        except ValueError as exc:
            raise BundleError(
                f"The reference quantile is {reference_quantile}: {exc}.", code="reference"
            ) from exc
    if not isinstance(sample, ModelInput):
        from viewer.dicom.reader import read_image

        sample = ModelInput.from_image(read_image(sample))
    data: dict[str, Any] = json.loads(json.dumps(dict(template)))
    labels = data.get("labels")
    if not isinstance(labels, list) or not labels:
        raise BundleError("The manifest template needs a non-empty 'labels' list.", code="schema")
    arch = data.setdefault("architecture", {})
    if not isinstance(arch, dict):
        raise BundleError("'architecture' in the template must be an object.", code="schema")
    arch["id"] = arch_id
    in_channels = int(arch.get("in_channels", 1))
    hidden = data.get("hidden_outputs") or []
    num_outputs = len(labels) + (len(hidden) if isinstance(hidden, list) else 0)
    model = build_model(arch_id, in_channels=in_channels, num_labels=num_outputs)
    try:
        model.load_state_dict(dict(state_dict), strict=True)
    except RuntimeError as exc:
        raise BundleError(
            f"The weights do not fit '{arch_id}' with {in_channels} input channel(s) and "
            f"{num_outputs} output(s): {str(exc)[:600]}",
            code="weights",
        ) from exc
    model.eval()
    weights = weights_bytes(model)
    data["weights"] = {
        "file": WEIGHTS_NAME,
        "format": "safetensors",
        "sha256": hashlib.sha256(weights).hexdigest(),
        "parameters": int(sum(p.numel() for p in model.parameters())),
    }
    data["library_versions"] = library_versions()
    data["created"] = created or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    selftest = data.setdefault("selftest", {})
    if not isinstance(selftest, dict):
        raise BundleError("'selftest' in the template must be an object.", code="schema")
    selftest["photometric"] = sample.photometric
    selftest.setdefault("file", SELFTEST_NAME)
    manifest = parse_manifest(json.dumps(data).encode())
    threads = manifest.selftest.threads  # from the template, else 1; recorded in the manifest
    model = select_outputs(model, manifest.shown_outputs, manifest.num_outputs)
    with torch.no_grad(), torch_threads(threads):
        tensors = compute_selftest(
            model, manifest, sample, threads=threads, cases=selftest_inputs(sample, manifest)
        )
    image = manifest.network_data_format.inputs["image"]
    declared = (image.num_channels, *image.spatial_shape)
    produced = tuple(tensors["expected.tensor"].shape)
    if produced != declared:
        raise BundleError(
            f"The preprocessing produces a tensor of shape {produced}, but "
            f"network_data_format.inputs.image declares {declared}.",
            code="schema",
        )
    selftest_bytes: bytes = safetensors.numpy.save({k: v for k, v in sorted(tensors.items())})
    extra: dict[str, bytes] = {}
    if reference is not None:
        from viewer.bundle.reference import build_reference

        built = build_reference(
            model,
            manifest,
            reference,
            quantile=reference_quantile,
            threads=threads,
            progress=progress,
        )
        data["reference_profile"] = built.profile.model_dump(mode="json")
        if not data.get("reference_scores") and built.score_histograms:
            data["reference_scores"] = built.score_histograms
        manifest = parse_manifest(json.dumps(data).encode())
        extra[REFERENCE_NAME] = built.member
    card = render_model_card(manifest)
    if card_notes.strip():
        card += "\n## Notes from the model's creators\n\n" + card_notes.strip() + "\n"
    licence = licence_text or (
        f"This model bundle is licensed under: {manifest.licence}\n"
        "See the licence text published for that identifier.\n"
    )
    members = {
        MANIFEST_NAME: manifest.to_json_bytes(),
        WEIGHTS_NAME: weights,
        SELFTEST_NAME: selftest_bytes,
        MODEL_CARD_NAME: card.encode("utf-8"),
        LICENSE_NAME: licence.encode("utf-8"),
        **extra,
    }
    return members, manifest, model


def signed_name(manifest: Manifest) -> str:
    return f"{manifest.id}-{manifest.version}"


def finish(
    members: dict[str, bytes],
    manifest: Manifest,
    out: str | Path,
    private_key: ec.EllipticCurvePrivateKey | None,
) -> CreatedBundle:
    """Sign (if a key is given) and write the ``.bundle`` atomically."""
    from viewer.keyprint import fingerprint

    members = {k: v for k, v in members.items() if k != SIGNATURE_NAME}
    fp = None
    if private_key is not None:
        members[SIGNATURE_NAME] = sign_files(members, private_key, model_name=signed_name(manifest))
        fp = fingerprint(private_key.public_key())
    data = archive_bytes(members)
    out_path = Path(out)
    write_atomic(out_path, data)
    return CreatedBundle(
        path=out_path,
        digest=hashlib.sha256(data).hexdigest(),
        manifest=manifest,
        signed=private_key is not None,
        key_fingerprint=fp,
    )


def create_bundle(
    *,
    arch_id: str,
    weights: str | Path,
    template: str | Path | Mapping[str, Any],
    sample: Any,
    out: str | Path,
    private_key: ec.EllipticCurvePrivateKey | None = None,
    created: str | None = None,
    licence_text: str | None = None,
    card_notes: str = "",
    reference: str | Path | None = None,
    reference_quantile: float = 0.99,
    progress: Callable[[str], None] | None = None,
) -> CreatedBundle:
    """The whole ``bundle create``; ``sample`` is a DICOM path or a ModelInput; ``reference``
    as :func:`build_members`."""
    say = progress or (lambda _msg: None)
    say("reading weights")
    state = read_state_dict(weights)
    tmpl = read_template(template) if isinstance(template, str | Path) else template
    say("building model, computing self-test")
    members, manifest, _ = build_members(
        arch_id=arch_id,
        state_dict=state,
        template=tmpl,
        sample=sample,
        created=created,
        licence_text=licence_text,
        card_notes=card_notes,
        reference=reference,
        reference_quantile=reference_quantile,
        progress=say,
    )
    say("writing bundle")
    return finish(members, manifest, out, private_key)


def sign_bundle(
    path: str | Path, private_key: ec.EllipticCurvePrivateKey, *, out: str | Path | None = None
) -> CreatedBundle:
    """(Re-)sign an existing bundle: any previous ``model.sig`` is replaced."""
    archive = read_archive(path)
    if MANIFEST_NAME not in archive.members:
        raise BundleError("The bundle has no manifest.json.", code="schema", path=path)
    manifest = parse_manifest(archive.members[MANIFEST_NAME])
    return finish(dict(archive.members), manifest, out or path, private_key)
