"""Is this image like the ones the model was validated on? Mahalanobis distance of its features.

Method (issue 15, item 2): the input of the model's last linear layer (the pooled penultimate
features: 1,024 for DenseNet-121, 2,048 for ResNet-50) is compared with the reference images'
features by the Mahalanobis distance (Lee et al., NeurIPS 2018, "A simple unified framework for
detecting out-of-distribution samples"). Why this one: it needs no second network (an
autoencoder such as TorchXRayVision's would be a second model to validate, sign and ship), it
costs one matrix-vector product after the forward the score needs anyway, and its statistics are
plain arrays a bundle can carry as data. Reference sets are often smaller than the feature
dimension, where the sample covariance is singular, so the covariance is shrunk towards a scaled
identity with the Ledoit-Wolf intensity (Ledoit & Wolf, J. Multivariate Anal. 2004), which is
optimal in squared error and needs no tuning.

The threshold is a declared quantile ``q`` of distances the reference did not fit: the reference
is split into ``folds`` parts, each part's distances are taken from the mean and covariance of
the other parts, and the threshold is the ``ceil((n + 1) q)``-th smallest of those ``n``
out-of-fold distances (a split-conformal quantile: a new image from the reference's distribution
exceeds it with probability at most ``1 - q``). The mean and covariance the bundle carries are
then fitted on the whole reference, whose in-sample distances are smaller, so the threshold errs
towards scoring, not refusing, reference-like images.

numpy only here (the Predictor imports torch for the forward; :class:`FeatureTap` uses it
lazily), so the statistics can be tested against a plain recomputation.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from viewer.errors import InferenceError
from viewer.inference.checks import CheckResult, make_check

if TYPE_CHECKING:
    import torch

__all__ = [
    "METHOD",
    "OodFit",
    "OodReference",
    "capture_features",
    "check_quantile",
    "feature_layer",
    "fit_reference",
    "ledoit_wolf",
    "mahalanobis",
    "min_reference_count",
    "ood_check",
]

METHOD = "mahalanobis-ledoit-wolf"
Array = npt.NDArray[np.float64]


def ledoit_wolf(x: npt.ArrayLike) -> tuple[Array, Array, float]:
    """Mean, Ledoit-Wolf shrunk covariance and shrinkage intensity of the rows of ``x``.

    The shrinkage target is ``mu * I`` with ``mu`` the mean variance; the intensity is
    ``min(beta, delta) / delta`` with Ledoit and Wolf's estimates (2004, Lemma 3.2 onwards), the
    same estimator as scikit-learn's ``LedoitWolf`` (a test compares them)."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] < 2 or a.shape[1] < 1:
        raise ValueError("ledoit_wolf needs an (n >= 2, d >= 1) array")
    n, d = a.shape
    mean = a.mean(axis=0)
    c = a - mean
    cov = c.T @ c / n
    mu = float(np.trace(cov)) / d
    # delta: squared distance of the sample covariance from the target, per dimension
    delta = float(np.sum((cov - mu * np.eye(d)) ** 2)) / d
    # beta: how far the sample covariance is from the true one (estimated from the rows)
    c2 = c**2
    beta_sum = float(np.sum(c2.T @ c2)) / n - float(np.sum(cov**2))
    beta = max(0.0, beta_sum / (d * n))
    shrinkage = 0.0 if delta == 0.0 else min(beta, delta) / delta
    shrunk = (1.0 - shrinkage) * cov + shrinkage * mu * np.eye(d)
    return mean, shrunk, shrinkage


def _precision(cov: Array) -> Array:
    """The inverse of a symmetric positive (semi)definite matrix by eigen-decomposition; a
    variance of zero in every direction (identical rows) has no inverse."""
    w, v = np.linalg.eigh(cov)
    floor = max(float(w.max()), 0.0) * 1e-12
    if floor <= 0.0:
        raise ValueError("the reference features do not vary; no distance can be defined")
    inv = 1.0 / np.maximum(w, floor)
    result: Array = (v * inv) @ v.T
    return result


def mahalanobis(x: npt.ArrayLike, mean: npt.ArrayLike, precision: npt.ArrayLike) -> Array:
    """Distances of the rows of ``x`` (or one vector) from ``mean`` under ``precision``."""
    a = np.atleast_2d(np.asarray(x, dtype=np.float64)) - np.asarray(mean, dtype=np.float64)
    # einsum's own loops, not BLAS: a BLAS thread pool beside torch's OpenMP team would slow
    # every later forward (DESIGN: never two thread teams); 0.2 ms for d = 1,024
    pa = np.einsum("ij,jk->ik", a, np.asarray(precision, dtype=np.float64))
    q = np.einsum("ij,ij->i", pa, a)
    result: Array = np.sqrt(np.maximum(q, 0.0))
    return result


def check_quantile(quantile: float) -> None:
    """``ValueError`` unless ``0.5 <= quantile < 1`` (NaN included)."""
    if not 0.5 <= quantile < 1.0:
        raise ValueError("the quantile must be at least 0.5 and below 1")


def min_reference_count(quantile: float) -> int:
    """The fewest reference images for which the conformal ``quantile`` exists."""
    return math.ceil(quantile / (1.0 - quantile))


@dataclass(frozen=True)
class OodFit:
    """What a bundle carries for the check, and the out-of-fold distances behind its threshold."""

    mean: Array
    precision: Array
    threshold: float
    shrinkage: float
    quantile: float
    folds: int
    count: int
    out_of_fold: Array


def fit_reference(
    features: npt.ArrayLike, *, quantile: float = 0.99, folds: int = 5, seed: int = 0
) -> OodFit:
    """Mean, shrunk precision and the conformal threshold (module doc) of reference features."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError("reference features must be an (images, features) array")
    check_quantile(quantile)
    if not np.all(np.isfinite(x)):
        raise ValueError("the reference features hold values that are not finite numbers")
    n = x.shape[0]
    need = max(min_reference_count(quantile), 2 * folds)
    if n < need:
        raise ValueError(
            f"{n} reference images are too few for a {quantile:g} quantile; at least {need} "
            "are needed"
        )
    order = np.random.default_rng(seed).permutation(n)
    oof = np.empty(n, dtype=np.float64)
    for part in np.array_split(order, folds):
        rest = np.setdiff1d(order, part, assume_unique=True)
        mean, cov, _ = ledoit_wolf(x[rest])
        oof[part] = mahalanobis(x[part], mean, _precision(cov))
    k = math.ceil((n + 1) * quantile)  # the k-th smallest, 1-based; k <= n by ``need``
    threshold = float(np.sort(oof)[k - 1])
    mean, cov, shrinkage = ledoit_wolf(x)
    return OodFit(
        mean=mean,
        precision=_precision(cov),
        threshold=threshold,
        shrinkage=shrinkage,
        quantile=quantile,
        folds=folds,
        count=n,
        out_of_fold=oof,
    )


@dataclass(frozen=True)
class OodReference:
    """The check as a loaded bundle holds it: features are the input of module ``layer``."""

    layer: str
    mean: Array
    precision: Array
    threshold: float
    quantile: float

    @property
    def dim(self) -> int:
        return int(self.mean.shape[0])

    def distance(self, features: npt.ArrayLike) -> float:
        f = np.asarray(features, dtype=np.float64).reshape(-1)
        if f.shape[0] != self.dim:
            raise InferenceError(
                f"The model's features have {f.shape[0]} values, but the bundle's reference "
                f"profile has {self.dim}; no score can be shown."
            )
        if not np.all(np.isfinite(f)):
            return math.inf
        return float(mahalanobis(f, self.mean, self.precision)[0])


def _dist(value: float) -> str:
    return "infinite" if math.isinf(value) else f"{value:.1f}"


def ood_check(ood: OodReference, features: npt.ArrayLike | None) -> tuple[CheckResult, float]:
    """The reference check of one image's features (a refusal beyond the threshold; missing
    features count as infinitely far), and the distance."""
    distance = ood.distance(features) if features is not None else math.inf
    refused = distance > ood.threshold
    check = make_check(
        "reference",
        "refusal" if refused else "ok",
        "out_of_distribution" if refused else "in_distribution",
        distance=_dist(distance),
        threshold=_dist(ood.threshold),
        percentile=f"{ood.quantile * 100:g}",
    )
    return check, distance


def feature_layer(model: torch.nn.Module, name: str | None = None) -> tuple[str, torch.nn.Module]:
    """The module whose input is the feature vector: ``name`` (also found under a wrapper's
    ``net.``), else the last ``torch.nn.Linear`` in the model. ``LookupError`` if none."""
    import torch

    modules = dict(model.named_modules())
    if name:
        for key in (name, f"net.{name}"):
            if key in modules and key:
                return name, modules[key]
        raise LookupError(f"the model has no layer '{name}'")
    linear = [(k, m) for k, m in modules.items() if isinstance(m, torch.nn.Linear)]
    if not linear:
        raise LookupError("the model has no linear layer whose input could be its features")
    key, module = linear[-1]
    return key.removeprefix("net."), module


@contextmanager
def capture_features(module: torch.nn.Module) -> Iterator[list[np.ndarray]]:
    """While active, each forward through the model appends ``module``'s input (one image's
    flattened features, float64) to the yielded list. The hook only reads; outputs are
    unchanged."""
    seen: list[np.ndarray] = []

    def hook(_module: Any, args: tuple[Any, ...]) -> None:
        seen.append(args[0].detach().reshape(-1).to(dtype=_float64()).numpy().copy())

    handle = module.register_forward_pre_hook(hook)
    try:
        yield seen
    finally:
        handle.remove()


def _float64() -> Any:
    import torch

    return torch.float64
