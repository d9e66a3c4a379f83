"""The reference check's statistics against plain recomputations (scikit-learn, scipy)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from viewer.inference.ood import (
    OodReference,
    capture_features,
    feature_layer,
    fit_reference,
    ledoit_wolf,
    mahalanobis,
    min_reference_count,
)


@pytest.mark.parametrize(("n", "d"), [(300, 16), (40, 100), (2, 3)], ids=["n>d", "n<d", "two-rows"])
def test_ledoit_wolf_equals_scikit_learn(n: int, d: int) -> None:
    from sklearn.covariance import LedoitWolf

    x = np.random.default_rng(n + d).normal(size=(n, d)) @ np.diag(np.linspace(0.5, 3.0, d))
    mean, cov, shrinkage = ledoit_wolf(x)
    ref = LedoitWolf().fit(x)
    np.testing.assert_allclose(mean, ref.location_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cov, ref.covariance_, rtol=1e-9, atol=1e-12)
    assert shrinkage == pytest.approx(ref.shrinkage_, rel=1e-9, abs=1e-12)


def test_mahalanobis_equals_scipy() -> None:
    from scipy.spatial.distance import mahalanobis as scipy_mahalanobis

    rng = np.random.default_rng(3)
    mean, cov, _ = ledoit_wolf(rng.normal(size=(200, 8)))
    precision = np.linalg.inv(cov)
    x = rng.normal(size=(5, 8)) * 3
    ours = mahalanobis(x, mean, precision)
    theirs = [scipy_mahalanobis(row, mean, precision) for row in x]
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_threshold_is_the_conformal_quantile_of_out_of_fold_distances() -> None:
    x = np.random.default_rng(5).normal(size=(199, 6))
    fit = fit_reference(x, quantile=0.95, folds=5)
    k = math.ceil(200 * 0.95)  # 190th smallest of 199
    assert fit.threshold == np.sort(fit.out_of_fold)[k - 1]
    assert fit.count == 199 and fit.folds == 5
    # the carried statistics are the whole reference's
    mean, cov, shrinkage = ledoit_wolf(x)
    np.testing.assert_allclose(fit.mean, mean)
    np.testing.assert_allclose(fit.precision, np.linalg.inv(cov), rtol=1e-8)
    assert fit.shrinkage == shrinkage


def test_reference_like_rarely_refused_and_shifted_mostly_refused() -> None:
    """The acceptance in distribution terms: fresh draws from the reference's distribution are
    refused at about 1 - q (<= 2 % at q = 0.99); draws from a shifted one nearly always."""
    rng = np.random.default_rng(11)
    d = 32
    mix = rng.normal(size=(d, d)) / math.sqrt(d)
    reference = rng.normal(size=(800, d)) @ mix
    fit = fit_reference(reference, quantile=0.99)
    ref = OodReference("fc", fit.mean, fit.precision, fit.threshold, 0.99)
    fresh = rng.normal(size=(5000, d)) @ mix
    shifted = (rng.normal(size=(1000, d)) + 2.0) @ mix  # 11 SD away in whitened units
    refused_fresh = np.mean(mahalanobis(fresh, ref.mean, ref.precision) > ref.threshold)
    refused_shift = np.mean(mahalanobis(shifted, ref.mean, ref.precision) > ref.threshold)
    assert refused_fresh <= 0.02
    assert refused_shift >= 0.90


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"features": np.zeros((50, 3)), "quantile": 0.99}, "too few"),
        ({"features": np.zeros((200, 3)), "quantile": 0.99}, "do not vary"),
        ({"features": np.full((200, 3), np.nan), "quantile": 0.99}, "not finite"),
        ({"features": np.zeros(200), "quantile": 0.99}, "(images, features)"),
        ({"features": np.zeros((200, 3)), "quantile": 1.0}, "below 1"),
    ],
    ids=["too-few", "constant", "nan", "one-dim", "quantile-1"],
)
def test_unusable_reference_is_a_clear_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fit_reference(**kwargs)  # type: ignore[arg-type]


def test_min_reference_count() -> None:
    assert min_reference_count(0.99) == 99
    assert min_reference_count(0.5) == 1


def test_distance_of_wrong_size_or_non_finite_features() -> None:
    from viewer.errors import InferenceError

    ref = OodReference("fc", np.zeros(3), np.eye(3), 2.0, 0.99)
    assert ref.distance([1.0, 0.0, 0.0]) == 1.0
    assert ref.distance([np.nan, 0.0, 0.0]) == math.inf
    with pytest.raises(InferenceError, match="4 values"):
        ref.distance([0.0] * 4)


def test_capture_reads_the_last_linear_input_and_changes_nothing() -> None:
    import torch

    from viewer.bundle.architectures import build_model, select_outputs

    torch.manual_seed(0)
    net = build_model("demo-cnn", in_channels=1, num_labels=3)
    model = select_outputs(net, [0, 2], 3)  # a wrapper: the layer is found under ``net.``
    name, module = feature_layer(model)
    assert name == "classifier" and module is net.classifier
    assert feature_layer(model, "classifier")[1] is net.classifier
    x = torch.rand(1, 1, 32, 32)
    with torch.inference_mode():
        plain = model(x)
        with capture_features(module) as seen:
            tapped = model(x)
        pooled = torch.flatten(torch.nn.functional.adaptive_avg_pool2d(net.features(x), 1), 1)
    assert torch.equal(plain, tapped)
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], pooled[0].double().numpy(), rtol=1e-6)
    assert not module._forward_pre_hooks  # the hook is gone afterwards
    with pytest.raises(LookupError, match="no layer 'head'"):
        feature_layer(model, "head")
