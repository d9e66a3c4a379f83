"""Build a bundle's reference profile from the maker's reference set (``--reference``).

Two kinds of reference set:
- a folder of DICOM images (searched recursively): each goes through exactly what a site's image
  goes through (the Predictor's input checks, the stored preprocessing, the network), and gives
  its features, its raw scores and its input mix (``viewer.bundle.profile.input_mix``). Images
  the checks refuse are left out and counted; files that are not readable DICOM images are
  skipped and counted.
- a feature file (``.npz``, read with ``allow_pickle=False``): ``features`` (images x features,
  the input of the model's last linear layer) and optionally ``scores`` (images x labels, raw
  scores in label order). No input mix then: the drift monitor compares scores only.

The out-of-distribution statistics are fitted by ``viewer.inference.ood.fit_reference``.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from viewer.bundle.profile import (
    CATEGORY_TAGS,
    NUMERIC_TAGS,
    InputProfile,
    OodSpec,
    category_counts,
    category_value,
    input_mix,
    numeric_histograms,
    numeric_value,
)
from viewer.errors import BedsideError, BundleError

if TYPE_CHECKING:
    import torch

    from viewer.bundle.manifest import Manifest

__all__ = ["MAX_REFERENCE_IMAGES", "ReferenceBuild", "build_reference"]

MAX_REFERENCE_IMAGES = 20_000
MAX_FEATURE_FILE_BYTES = 2 * 1024 * 1024 * 1024
SCORE_BINS = 20


@dataclass(frozen=True)
class ReferenceBuild:
    """What ``bundle create`` adds: the manifest's profile and score histograms, the member."""

    profile: InputProfile
    score_histograms: list[dict[str, Any]]  # the manifest's reference_scores entries
    member: bytes  # reference.safetensors: mean and precision (float32)
    skipped: int  # files that were not readable DICOM images


def _feature_dim(model: torch.nn.Module, layer: Any, shape: tuple[int, ...]) -> int:
    """The feature layer's input size, seen on one forward of a zero input of ``shape``."""
    import torch

    from viewer.inference.ood import capture_features

    with capture_features(layer) as seen, torch.inference_mode():
        model(torch.zeros((1, *shape), dtype=torch.float32))
    return int(seen[0].shape[0])


def _from_folder(
    model: torch.nn.Module,
    manifest: Manifest,
    folder: Path,
    threads: int,
    say: Callable[[str], None],
) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]], int, int]:
    """Features, raw scores, input mixes, refused and skipped counts of a folder's images."""
    from viewer.dicom.reader import read_image
    from viewer.inference.predict import InputRefusedError, Predictor

    files = sorted(p for p in folder.rglob("*") if p.is_file())
    if len(files) > 4 * MAX_REFERENCE_IMAGES:
        raise BundleError(
            f"The reference folder holds {len(files)} files; at most {MAX_REFERENCE_IMAGES} "
            "reference images are used, so choose a smaller set.",
            code="reference",
            path=folder,
        )
    loaded = SimpleNamespace(manifest=manifest, model=model, digest="")
    predictor = Predictor(loaded, threads=threads, capture="")
    features: list[np.ndarray] = []
    scores: list[list[float]] = []
    mixes: list[dict[str, Any]] = []
    refused = skipped = 0
    for i, path in enumerate(files, 1):
        if i % 50 == 0:
            say(f"reference image {i}/{len(files)}")
        try:
            image = read_image(path)
        except BedsideError:
            skipped += 1
            continue
        try:
            pred = predictor.predict(image)
        except InputRefusedError:
            refused += 1
            continue
        if pred.features is None:  # pragma: no cover - capture="" always keeps them
            raise BundleError("The model's features could not be read.", code="reference")
        features.append(pred.features)
        scores.append([r.raw_score for r in pred.labels])
        mixes.append(input_mix(image.meta))
        if len(features) > MAX_REFERENCE_IMAGES:
            raise BundleError(
                f"The reference folder holds over {MAX_REFERENCE_IMAGES} usable images.",
                code="reference",
                path=folder,
            )
    if not features:
        raise BundleError(
            f"The reference folder holds no image the model accepts ({refused} refused by its "
            f"input checks, {skipped} not readable DICOM images).",
            code="reference",
            path=folder,
        )
    return np.stack(features), np.asarray(scores, dtype=np.float64), mixes, refused, skipped


_NPZ_MEMBERS = ("features.npy", "scores.npy")


def _npy_header(fh: Any) -> tuple[tuple[int, ...], np.dtype[Any]]:
    """The shape and number type a ``.npy`` stream declares (nothing of the array read)."""
    major, _ = np.lib.format.read_magic(fh)
    if major not in (1, 2):
        raise ValueError(f"unsupported .npy format version {major}")
    read = (
        np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
    )
    shape, _, dtype = read(fh)
    return tuple(int(n) for n in shape), dtype


_EOCD = struct.Struct("<4s4H2LH")  # the zip end record (PKWARE APPNOTE 4.3.16)
_MAX_NPZ_DIRECTORY = 1024  # two members' directory entries, with room for zip64 extras


def _check_npz_directory(path: Path) -> None:
    """The zip directory's size from its end record, before zipfile parses it: zipfile reads
    every entry the directory holds whatever the record's count says (500,000 entries in 28 MB
    took 17 s and 210 MB), and a feature file has two members at most."""
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        fh.seek(max(0, size - _EOCD.size - 65_535))
        tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        raise zipfile.BadZipFile("no zip end record")
    _, _, _, _, count, cd_size, _, _ = _EOCD.unpack_from(tail, at)
    if count > len(_NPZ_MEMBERS) or cd_size > _MAX_NPZ_DIRECTORY:
        raise BundleError(
            f"The reference feature file's zip directory lists {count} members in {cd_size} "
            "bytes; a feature file holds 'features' and optionally 'scores'.",
            code="reference",
            path=path,
        )


def _read_npz(path: Path, labels: int, dim: int) -> dict[str, np.ndarray]:
    """The arrays of a feature file, each header checked before its array is read: a header can
    declare any shape (terabytes in a few bytes), so the declared size is the limit's input."""
    _check_npz_directory(path)
    with zipfile.ZipFile(path) as zf:
        members = {info.filename: info for info in zf.infolist()}
        if "features.npy" not in members or not set(members) <= set(_NPZ_MEMBERS):
            names = sorted(n.removesuffix(".npy") for n in members)[:10]
            raise BundleError(
                "A reference feature file (.npz) holds 'features' (images x features) and "
                f"optionally 'scores' (images x labels); this one holds {names}.",
                code="reference",
                path=path,
            )
        declared: dict[str, tuple[int, ...]] = {}
        for name in _NPZ_MEMBERS:
            if name in members:
                with zf.open(members[name]) as fh:
                    shape, dtype = _npy_header(fh)
                if dtype.hasobject or dtype.kind not in "biuf":
                    raise BundleError(
                        f"The reference {name.removesuffix('.npy')} are {dtype} values, not "
                        "numbers.",
                        code="reference",
                        path=path,
                    )
                declared[name] = shape
        feats = declared["features.npy"]
        if len(feats) != 2 or feats[1] != dim:
            raise BundleError(
                f"The reference features have shape {feats}; the model's feature layer takes "
                f"{dim} values per image.",
                code="reference",
                path=path,
            )
        if feats[0] > MAX_REFERENCE_IMAGES:
            raise BundleError(
                f"The reference features describe over {MAX_REFERENCE_IMAGES} images.",
                code="reference",
                path=path,
            )
        scores = declared.get("scores.npy")
        if scores is not None and scores != (feats[0], labels):
            raise BundleError(
                f"The reference scores have shape {scores}, not ({feats[0]}, {labels}).",
                code="reference",
                path=path,
            )
        out: dict[str, np.ndarray] = {}
        for name in declared:
            with zf.open(members[name]) as fh:
                array = np.lib.format.read_array(fh, allow_pickle=False)
            out[name.removesuffix(".npy")] = np.asarray(array, dtype=np.float64)
        return out


def _from_file(path: Path, labels: int, dim: int) -> tuple[np.ndarray, np.ndarray | None]:
    """``features`` (and ``scores``) of a ``.npz`` feature file, shapes checked."""
    try:
        if path.stat().st_size > MAX_FEATURE_FILE_BYTES:
            raise BundleError("The reference feature file is too large.", code="reference")
        arrays = _read_npz(path, labels, dim)
    except BundleError:
        raise
    except zipfile.BadZipFile as exc:
        raise BundleError(
            "The reference feature file is not a .npz file (a zip of .npy arrays, as "
            "numpy.savez writes).",
            code="reference",
            path=path,
        ) from exc
    except (OSError, ValueError, EOFError, zlib.error, NotImplementedError, RuntimeError) as exc:
        raise BundleError(
            f"The reference feature file cannot be read as .npz ({str(exc)[:200]}).",
            code="reference",
            path=path,
        ) from exc
    feats, scores = arrays["features"], arrays.get("scores")
    # the shapes are the headers' (checked in _read_npz)
    if scores is not None and not np.all((scores >= 0.0) & (scores <= 1.0)):
        raise BundleError(
            "The reference scores must be raw scores between 0 and 1.", code="reference", path=path
        )
    return feats, scores


def build_reference(
    model: torch.nn.Module,
    manifest: Manifest,
    source: str | Path,
    *,
    quantile: float = 0.99,
    folds: int = 5,
    threads: int = 1,
    progress: Callable[[str], None] | None = None,
) -> ReferenceBuild:
    """The reference profile of ``source`` (module doc) for ``model`` as ``manifest`` runs it."""
    import safetensors.numpy

    from viewer.inference.ood import METHOD, feature_layer, fit_reference

    say = progress or (lambda _msg: None)
    path = Path(source)
    try:
        layer_name, layer = feature_layer(model)
    except LookupError as exc:
        raise BundleError(
            f"No reference check can be built for this architecture: {exc}.", code="reference"
        ) from exc
    image = manifest.network_data_format.inputs["image"]
    dim = _feature_dim(model, layer, (image.num_channels, *image.spatial_shape))
    mixes: list[dict[str, Any]] = []
    refused = skipped = 0
    if path.is_dir():
        say(f"scoring the reference images in {path}")
        feats, scores_or_none, mixes, refused, skipped = _from_folder(
            model, manifest, path, threads, say
        )
        scores: np.ndarray | None = scores_or_none
    elif path.is_file():
        feats, scores = _from_file(path, manifest.num_labels, dim)
    else:
        raise BundleError("The reference set was not found.", code="reference", path=path)
    say(f"fitting the reference check on {feats.shape[0]} images ({METHOD})")
    try:
        fit = fit_reference(feats, quantile=quantile, folds=folds)
    except ValueError as exc:
        raise BundleError(f"The reference set cannot be used: {exc}.", code="reference") from exc
    ood = OodSpec(
        layer=layer_name,
        dim=dim,
        quantile=quantile,
        threshold=fit.threshold,
        shrinkage=fit.shrinkage,
        folds=folds,
        count=fit.count,
    )
    profile = InputProfile(
        source=f"{path.name} ({fit.count} images)",
        count=fit.count,
        refused=refused,
        categories=category_counts(
            {tag: [category_value(m[tag]) for m in mixes] for tag in CATEGORY_TAGS} if mixes else {}
        ),
        numeric=numeric_histograms(
            {tag: [numeric_value(m[tag]) for m in mixes] for tag in NUMERIC_TAGS} if mixes else {}
        ),
        ood=ood,
    )
    histograms: list[dict[str, Any]] = []
    if scores is not None:
        edges = np.linspace(0.0, 1.0, SCORE_BINS + 1)
        for j, label in enumerate(manifest.labels):
            counts, _ = np.histogram(scores[:, j], bins=edges)
            histograms.append(
                {
                    "label": label.name,
                    "bin_edges": [round(float(e), 4) for e in edges],
                    "counts": [int(c) for c in counts],
                    "dataset": "validation",
                }
            )
    member: bytes = safetensors.numpy.save(
        {
            "mean": fit.mean.astype(np.float32),
            "precision": fit.precision.astype(np.float32),
        }
    )
    return ReferenceBuild(
        profile=profile, score_histograms=histograms, member=member, skipped=skipped
    )
