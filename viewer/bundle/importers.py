"""``bedside bundle import``: a published model's weights file into a signed bundle, exactly.

Two sources:

- **TorchXRayVision** (``import_torchxrayvision``): the DenseNet-121 res224 weights (a pickled
  module, as the library publishes them) and ResNet-50 res512 (a state dict). Labels, operating
  thresholds and input resolution come from the library's own tables (copied below from
  TorchXRayVision 1.5.7, ``models.model_urls``); an output with no label or no threshold is a
  hidden output, never shown as a finding. Every label declares the library's ``op_norm``
  calibration, so the score shown is the one TorchXRayVision shows (its threshold at 0.5), the
  raw score a click away. The preprocessing is the library's README pipeline
  (``read_xray_dcm`` -> ``XRayCenterCrop`` -> ``XRayResizer``; ``resize="readme"``) or its
  models' own resize (``F.interpolate`` bilinear with antialias; ``resize="model"``).
- **torchvision DenseNet-121** state dicts (CheXNet-style, ``import_torchvision_densenet121``):
  three channels, ImageNet normalisation, labels and thresholds given by the caller; no
  calibration (the raw score is shown).

The file is read by :mod:`viewer.bundle.torchfile` (a restricted unpickler: no code from the
file runs). The bundle is then made by the same code as ``bundle create`` (self-test cases that
reach every step, computed by the one preprocessing code path).
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from viewer.bundle.torchfile import read_torch_file, state_dict_of
from viewer.errors import BundleError
from viewer.outputs import file_sha256

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

    from viewer.bundle.create import CreatedBundle
    from viewer.inference.postprocess import CalibrationMethod

__all__ = [
    "TXV_VERSION",
    "TXV_WEIGHTS",
    "import_torchvision_densenet121",
    "import_torchxrayvision",
    "txv_state_dict",
]

TXV_VERSION = "1.5.7"  # the TorchXRayVision release the tables below were copied from
Resize = Literal["readme", "model"]

_PATHOLOGIES = (
    "Atelectasis",
    "Consolidation",
    "Infiltration",
    "Pneumothorax",
    "Edema",
    "Emphysema",
    "Fibrosis",
    "Effusion",
    "Pneumonia",
    "Pleural_Thickening",
    "Cardiomegaly",
    "Nodule",
    "Mass",
    "Hernia",
    "Lung Lesion",
    "Fracture",
    "Lung Opacity",
    "Enlarged Cardiomediastinum",
)
_NIH14 = _PATHOLOGIES[:14]  # NIH ChestX-ray14's labels, the first 14 of txv's order


def _only(*present: str) -> tuple[str, ...]:
    """The 18 output positions with only ``present`` labelled (txv's own layout: a model's
    label sits at its pathology's position, the others are unlabelled outputs)."""
    unknown = set(present) - set(_PATHOLOGIES)
    if unknown:
        raise ValueError(f"not a TorchXRayVision pathology: {sorted(unknown)}")
    return tuple(name if name in present else "" for name in _PATHOLOGIES)


_CHEXPERT_LABELS = _only(  # CheXpert and MIMIC-CXR: the 11 of the 18 they label
    "Atelectasis",
    "Consolidation",
    "Pneumothorax",
    "Edema",
    "Effusion",
    "Pneumonia",
    "Cardiomegaly",
    "Lung Lesion",
    "Fracture",
    "Lung Opacity",
    "Enlarged Cardiomediastinum",
)


def _at(thresholds: dict[str, float]) -> tuple[float | None, ...]:
    """Operating thresholds at their pathologies' positions (None: an unlabelled output)."""
    return tuple(thresholds.get(name) for name in _PATHOLOGIES)


# weights name: (published URL, labels ("" = none), operating thresholds (None = NaN: none))
TXV_WEIGHTS: dict[str, tuple[str, tuple[str, ...], tuple[float | None, ...]]] = {
    "densenet121-res224-all": (
        "https://github.com/mlmed/torchxrayvision/releases/download/v1/nih-pc-chex-mimic_ch-google-openi-kaggle-densenet121-d121-tw-lr001-rot45-tr15-sc15-seed0-best.pt",
        _PATHOLOGIES,
        (
            0.07422872,
            0.038290843,
            0.09814756,
            0.0098118475,
            0.023601074,
            0.0022490358,
            0.010060724,
            0.103246614,
            0.056810737,
            0.026791653,
            0.050318155,
            0.023985857,
            0.01939503,
            0.042889766,
            0.053369623,
            0.035975814,
            0.20204692,
            0.05015312,
        ),
    ),
    "densenet121-res224-nih": (
        "https://github.com/mlmed/torchxrayvision/releases/download/v1/nih-densenet121-d121-tw-lr001-rot45-tr15-sc15-seed0-best.pt",
        _only(*_NIH14),
        (
            0.039117552,
            0.0034529066,
            0.11396341,
            0.0057298196,
            0.00045666535,
            0.0018880932,
            0.012037827,
            0.038744126,
            0.0037213727,
            0.014730946,
            0.016149804,
            0.054241467,
            0.037198864,
            0.0004403434,
            None,
            None,
            None,
            None,
        ),
    ),
    "densenet121-res224-pc": (
        "https://github.com/mlmed/torchxrayvision/releases/download/v1/pc-densenet121-d121-tw-lr001-rot45-tr15-sc15-seed0-best.pt",
        _only(*_NIH14, "Fracture"),
        (
            0.031012505,
            0.013347598,
            0.081435576,
            0.001262615,
            0.002587246,
            0.0035944257,
            0.0023071,
            0.055412333,
            0.044385884,
            0.042766232,
            0.043258056,
            0.037629247,
            0.005658899,
            0.0091741895,
            None,
            0.026507627,
            None,
            None,
        ),
    ),
    "densenet121-res224-chex": (
        "https://github.com/mlmed/torchxrayvision/releases/download/v1/chex-densenet121-d121-tw-lr001-rot45-tr15-sc15-seed0-best.pt",
        _CHEXPERT_LABELS,
        (
            0.1988969,
            0.05710573,
            None,
            0.0531293,
            0.1435217,
            None,
            None,
            0.27212676,
            0.07749717,
            None,
            0.19712369,
            None,
            None,
            None,
            0.09932402,
            0.09273402,
            0.3270967,
            0.10888247,
        ),
    ),
    "densenet121-res224-rsna": (
        "https://github.com/mlmed/torchxrayvision/releases/download/v1/kaggle-densenet121-d121-tw-lr001-rot45-tr15-sc15-seed0-best.pt",
        _only("Pneumonia", "Lung Opacity"),
        _at({"Pneumonia": 0.13486601, "Lung Opacity": 0.13511065}),
    ),
    "densenet121-res224-mimic_nb": (
        "https://github.com/mlmed/torchxrayvision/releases/download/v1/mimic_nb-densenet121-d121-tw-lr001-rot45-tr15-sc15-seed0-best.pt",
        _CHEXPERT_LABELS,
        (
            0.08558747,
            0.011884617,
            None,
            0.0040595434,
            0.010733786,
            None,
            None,
            0.118761964,
            0.022924708,
            None,
            0.06358637,
            None,
            None,
            None,
            0.022143636,
            0.017476924,
            0.1258702,
            0.014020768,
        ),
    ),
    "densenet121-res224-mimic_ch": (
        "https://github.com/mlmed/torchxrayvision/releases/download/v1/mimic_ch-densenet121-d121-tw-lr001-rot45-tr15-sc15-seed0-best.pt",
        _CHEXPERT_LABELS,
        (
            0.09121389,
            0.010573786,
            None,
            0.005023008,
            0.003698257,
            None,
            None,
            0.08001232,
            0.037242252,
            None,
            0.05006329,
            None,
            None,
            None,
            0.019866971,
            0.03823637,
            0.11303808,
            0.0069147074,
        ),
    ),
    "resnet50-res512-all": (
        "https://github.com/mlmed/torchxrayvision/releases/download/v1/pc-nih-rsna-siim-vin-resnet50-test512-e400-state.pt",
        _PATHOLOGIES,
        (
            0.51570356,
            0.50444704,
            0.53787947,
            0.50723547,
            0.5025118,
            0.5035252,
            0.5038076,
            0.51862943,
            0.5078151,
            0.50724894,
            0.5056339,
            0.510706,
            0.5053923,
            0.5020846,
            None,
            0.5080557,
            0.5138526,
            None,
        ),
    ),
}

_TXV_DATASETS = {
    "all": ["NIH ChestX-ray14", "PadChest", "CheXpert", "MIMIC-CXR", "Google (NIH subset)",
            "OpenI", "RSNA Pneumonia Challenge"],
    "nih": ["NIH ChestX-ray14"],
    "pc": ["PadChest"],
    "chex": ["CheXpert"],
    "rsna": ["RSNA Pneumonia Challenge"],
    "mimic_nb": ["MIMIC-CXR (negbio labels)"],
    "mimic_ch": ["MIMIC-CXR (chexpert labels)"],
}  # fmt: skip
_RESNET_DATASETS = ["PadChest", "NIH ChestX-ray14", "RSNA Pneumonia Challenge", "SIIM-ACR",
                    "VinDr-CXR"]  # fmt: skip
_OLD_DENSENET_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$"
)
_DROPPED = ("op_threshs",)  # buffers txv keeps in its modules that are not weights
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def _torch_state(state: Mapping[str, np.ndarray]) -> dict[str, Any]:
    import torch

    return {k: torch.from_numpy(np.array(v, copy=True)) for k, v in state.items()}


def _map_keys(state: Mapping[str, np.ndarray], arch: str) -> tuple[dict[str, np.ndarray], str]:
    """torchvision's key names, without the buffers that are not weights; what was done."""
    notes: list[str] = []
    out = {k.removeprefix("module."): v for k, v in state.items()}
    if any(k.startswith("module.") for k in state):
        notes.append("removed the DataParallel prefix 'module.'")
    for prefix in ("densenet121.", "model."):  # CheXNet's wrapper; txv's ResNet wrapper
        if out and all(k.startswith(prefix) or k in _DROPPED for k in out):
            out = {k.removeprefix(prefix): v for k, v in out.items()}
            notes.append(f"removed the wrapper prefix '{prefix}'")
    dropped = [k for k in out if k in _DROPPED]
    for k in dropped:
        del out[k]
        notes.append(f"dropped the buffer '{k}' (operating thresholds, not weights)")
    if arch == "densenet121":
        renamed = {}
        for k, v in out.items():
            match = _OLD_DENSENET_KEY.match(k)
            renamed[match.group(1) + match.group(2) if match else k] = v
        if renamed.keys() != out.keys():
            notes.append("renamed old torchvision DenseNet keys (norm.1 -> norm1, ...)")
        out = renamed
        if any(k.startswith("classifier.0.") for k in out):  # Sequential(Linear, Sigmoid)
            out = {k.replace("classifier.0.", "classifier.", 1): v for k, v in out.items()}
            notes.append("classifier.0 -> classifier (the sigmoid is the labels' activation)")
    added = 0
    for k in list(out):
        if k.endswith(".running_var"):
            counter = k.removesuffix("running_var") + "num_batches_tracked"
            if counter not in out:
                out[counter] = np.zeros((), dtype=np.int64)
                added += 1
    if added:
        notes.append(f"added {added} num_batches_tracked counters (0; unused when scoring)")
    return out, "; ".join(notes) or "none: the keys are torchvision's"


def txv_state_dict(path: str | Path, weights_name: str) -> tuple[dict[str, np.ndarray], str]:
    """The weights of a TorchXRayVision release file as Bedside's architecture names them."""
    arch = _txv_arch(weights_name)[0]
    return _map_keys(state_dict_of(read_torch_file(path)), arch)


def _txv_arch(weights_name: str) -> tuple[str, int]:
    if weights_name not in TXV_WEIGHTS:
        raise BundleError(
            f"Unknown TorchXRayVision weights {weights_name!r}; known: "
            + ", ".join(TXV_WEIGHTS)
            + ".",
            code="weights",
        )
    if weights_name.startswith("resnet50-res512"):
        return "resnet50", 512
    return "densenet121", 224


def txv_preprocessing(size: int, resize: Resize) -> list[dict[str, Any]]:
    """TorchXRayVision's pipeline as declared steps (see the module docstring)."""
    if resize == "readme":
        interpolation = {"interpolation": "skimage-linear", "antialias": True}
    else:
        interpolation = {"interpolation": "bilinear", "antialias": True}
    return [
        {"op": "source", "pixels": "stored"},
        {"op": "invert_monochrome1"},
        {"op": "normalize", "method": "bits_stored", "out_min": -1024.0, "out_max": 1024.0},
        {"op": "center_crop", "offset": "floor_halves"},
        {"op": "resize", "size": size, **interpolation},
        {"op": "dtype", "dtype": "float32"},
    ]


def _outputs(
    labels: Sequence[str],
    thresholds: Sequence[float | None],
    operating_point: str,
    calibration: CalibrationMethod,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The shown labels (each with ``calibration``) and the hidden outputs."""
    shown: list[dict[str, Any]] = []
    hidden: list[dict[str, Any]] = []
    for index, (name, threshold) in enumerate(zip(labels, thresholds, strict=True)):
        if not name or threshold is None or not math.isfinite(threshold):
            reason = "no label" if not name else "no operating threshold published"
            hidden.append({"output": index, "name": name, "reason": reason})
            continue
        shown.append(
            {
                "name": name,
                "display_name": name.replace("_", " "),
                "threshold": float(threshold),
                "operating_point": operating_point,
                "activation": "sigmoid",
                "calibration": {"method": calibration},
            }
        )
    if not shown:
        raise BundleError("No output has both a label and a threshold.", code="schema")
    return shown, hidden


def _sample() -> Any:
    """The self-test sample: a synthetic 12-bit chest image read by the viewer's own reader."""
    from viewer.dicom.reader import read_image
    from viewer.dicom.synthetic import make_cxr
    from viewer.inference.preprocess import ModelInput

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sample.dcm"
        make_cxr(13, opacity=True, size=(300, 261), bits_stored=12).save_as(
            path, enforce_file_format=True
        )
        return ModelInput.from_image(read_image(path))


def _dataset(description: str, sources: list[str]) -> dict[str, Any]:
    return {"description": description, "sources": sources, "dates": "as published",
            "count": 0}  # fmt: skip


def _template(
    *,
    model_id: str,
    name: str,
    version: str,
    arch: str,
    channels: int,
    size: int,
    value_range: tuple[float, float],
    preprocessing: list[dict[str, Any]],
    labels: list[dict[str, Any]],
    hidden: list[dict[str, Any]],
    provenance: dict[str, str],
    creator: str,
    licence: str,
    sources: list[str],
    tensor_tolerance: float,
) -> dict[str, Any]:
    outputs = len(labels) + len(hidden)
    return {
        "id": model_id,
        "name": name,
        "version": version,
        "changelog": [
            {
                "version": version,
                "date": "1970-01-01",  # replaced below by the creation date
                "changes": f"Imported with `bedside bundle import` from {provenance['file']}.",
            }
        ],
        "creator": {"name": creator, "organisation": "imported by bedside bundle import"},
        "licence": licence,
        "regulatory_status": "Research use only: a published research model, not a medical "
        "device. Validate it on local data before any clinical use.",
        "intended_use": "A second reader for frontal (PA/AP) adult chest radiographs, showing "
        "the published model's scores and operating thresholds beside the clinician's own "
        "read. The clinician decides every finding.",
        "out_of_scope_uses": [
            "Lateral views, children, non-chest images.",
            "Use without a clinician's own read.",
            "Use before local validation of the thresholds.",
        ],
        "architecture": {"id": arch, "in_channels": channels},
        "network_data_format": {
            "inputs": {
                "image": {
                    "type": "image",
                    "format": "magnitude",
                    "modality": "xray",
                    "num_channels": channels,
                    "spatial_shape": [size, size],
                    "value_range": list(value_range),
                }
            },
            "outputs": {
                "pred": {
                    "type": "logits",
                    "format": "labels",
                    "num_channels": outputs,
                    "spatial_shape": [outputs],
                    "value_range": [-1000000.0, 1000000.0],
                }
            },
        },
        "preprocessing": preprocessing,
        "labels": labels,
        "hidden_outputs": hidden,
        "provenance": provenance,
        "training_data": _dataset(
            "As described by the model's publishers; not restated here.", sources
        ),
        "validation_data": _dataset(
            "The publishers' own validation; no local validation is part of this bundle.",
            sources,
        ),
        "metrics": [],
        "library_versions": {},
        "accepted_inputs": {"photometric": ["MONOCHROME1", "MONOCHROME2"]},
        "reference_scores": [],
        "selftest": {
            "photometric": "MONOCHROME2",
            "tolerance": 1e-4,
            "tensor_tolerance": tensor_tolerance,
            "source": "synthetic 12-bit chest image (bedside bundle import)",
        },
    }


def _finish(
    *,
    arch: str,
    state: Mapping[str, np.ndarray],
    template: dict[str, Any],
    out: str | Path,
    private_key: ec.EllipticCurvePrivateKey | None,
    created: str | None,
    reference: str | Path | None = None,
    reference_quantile: float = 0.99,
) -> CreatedBundle:
    from datetime import UTC, datetime

    from viewer.bundle.create import build_members, finish

    stamp = created or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    template["changelog"][0]["date"] = stamp[:10]
    members, manifest, _ = build_members(
        arch_id=arch,
        state_dict=_torch_state(state),
        template=template,
        sample=_sample(),
        created=stamp,
        reference=reference,
        reference_quantile=reference_quantile,
    )
    return finish(members, manifest, out, private_key)


def import_torchxrayvision(
    path: str | Path,
    *,
    weights_name: str,
    out: str | Path,
    private_key: ec.EllipticCurvePrivateKey | None = None,
    version: str = "1.0.0",
    resize: Resize = "readme",
    created: str | None = None,
    reference: str | Path | None = None,
    reference_quantile: float = 0.99,
) -> CreatedBundle:
    """A TorchXRayVision release file (``densenet121-res224-*``, ``resnet50-res512-all``)."""
    p = Path(path)
    arch, size = _txv_arch(weights_name)
    url, names, thresholds = TXV_WEIGHTS[weights_name]
    state, mapping = txv_state_dict(p, weights_name)
    labels, hidden = _outputs(
        names,
        thresholds,
        f"TorchXRayVision {TXV_VERSION} operating threshold (op_threshs) for {weights_name}: "
        "its calibrated score is 0.5 here",
        "op_norm",  # txv shows op_norm-calibrated scores; so does Bedside
    )
    short = weights_name.rsplit("-", 1)[-1]
    provenance = {
        "source": "torchxrayvision",
        "tables_from": f"torchxrayvision {TXV_VERSION}",
        "weights_name": weights_name,
        "weights_url": url,
        "file": p.name,
        "file_sha256": file_sha256(p),
        "key_mapping": mapping,
        "resize": resize,
    }
    template = _template(
        model_id=f"txv-{weights_name}".lower(),
        name=f"TorchXRayVision {weights_name} ({'skimage' if resize == 'readme' else 'model'} "
        "resize)",
        version=version,
        arch=arch,
        channels=1,
        size=size,
        value_range=(-1024.0, 1024.0),
        preprocessing=txv_preprocessing(size, resize),
        labels=labels,
        hidden=hidden,
        provenance=provenance,
        creator="TorchXRayVision (Cohen et al.)",
        licence="Apache-2.0 (TorchXRayVision); the training datasets' own terms apply",
        sources=_RESNET_DATASETS if arch == "resnet50" else _TXV_DATASETS.get(short, []),
        # values span -1024..1024: 1e-3 is a few float32 steps there
        tensor_tolerance=1e-3,
    )
    return _finish(
        arch=arch, state=state, template=template, out=out, private_key=private_key,
        created=created, reference=reference, reference_quantile=reference_quantile,
    )  # fmt: skip


def import_torchvision_densenet121(
    path: str | Path,
    *,
    labels: Sequence[str],
    thresholds: Sequence[float | None],
    out: str | Path,
    model_id: str,
    private_key: ec.EllipticCurvePrivateKey | None = None,
    version: str = "1.0.0",
    normalize: Literal["imagenet"] = "imagenet",
    size: int = 224,
    created: str | None = None,
    reference: str | Path | None = None,
    reference_quantile: float = 0.99,
) -> CreatedBundle:
    """A torchvision DenseNet-121 state dict (CheXNet-style: 3 channels, ImageNet statistics).

    Preprocessing: the stored window onto [0, 1] (the image's own range when it has none),
    MONOCHROME1 inverted, resized to ``size`` x ``size`` (bilinear, antialias, as torchvision's
    ``Resize`` on tensors), three channels, ImageNet mean/std. A label without a threshold
    (``None``) is a hidden output.
    """
    if normalize != "imagenet":
        raise BundleError(f"Unknown normalisation {normalize!r}.", code="preprocessing")
    if len(labels) != len(thresholds):
        raise BundleError("Give one threshold (or none) per label.", code="schema")
    p = Path(path)
    state, mapping = _map_keys(state_dict_of(read_torch_file(p)), "densenet121")
    shown, hidden = _outputs(labels, thresholds, "threshold given at import", "none")
    preprocessing: list[dict[str, Any]] = [
        {"op": "source", "pixels": "stored_window", "if_missing": "minmax"},
        {"op": "invert_monochrome1"},
        {"op": "resize", "size": size, "interpolation": "bilinear", "antialias": True},
        {"op": "channels", "count": 3},
        {"op": "normalize", "method": "mean_std", "mean": IMAGENET_MEAN, "std": IMAGENET_STD},
        {"op": "dtype", "dtype": "float32"},
    ]
    provenance = {
        "source": "torchvision-densenet121",
        "file": p.name,
        "file_sha256": file_sha256(p),
        "key_mapping": mapping,
        "normalize": normalize,
    }
    template = _template(
        model_id=model_id,
        name=f"DenseNet-121 ({p.name})",
        version=version,
        arch="densenet121",
        channels=3,
        size=size,
        value_range=(-2.2, 2.7),
        preprocessing=preprocessing,
        labels=shown,
        hidden=hidden,
        provenance=provenance,
        creator="the weights' publishers",
        licence="as published with the weights",
        sources=[],
        tensor_tolerance=1e-5,
    )
    return _finish(
        arch="densenet121", state=state, template=template, out=out, private_key=private_key,
        created=created, reference=reference, reference_quantile=reference_quantile,
    )  # fmt: skip
