"""Scores, thresholds and the boundary: score >= threshold is positive, compared in float64."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tests.inference.helpers import label
from viewer.errors import InferenceError
from viewer.inference.postprocess import activate, postprocess


def _manifest(*labels: SimpleNamespace) -> SimpleNamespace:
    return SimpleNamespace(labels=list(labels))


def test_sigmoid_scores_thresholds_and_operating_point() -> None:
    man = _manifest(label("opacity", 0.5), label("effusion", 0.9))
    results = postprocess(np.array([[2.0, 0.0]], np.float32), man)
    assert [r.label for r in results] == ["opacity", "effusion"]
    assert results[0].score == pytest.approx(1 / (1 + np.exp(-2.0)))
    assert results[0].positive and not results[1].positive
    assert results[1].threshold == 0.9
    assert results[0].operating_point.startswith("sensitivity 0.95")
    assert "positive" in results[0].finding_text and "threshold 0.50;" in results[0].finding_text


def test_score_equal_to_threshold_is_positive_and_just_above_is_negative() -> None:
    logit = np.float32(0.3)
    score = float(activate(np.array([logit]), "sigmoid")[0])
    at = postprocess(np.array([logit]), _manifest(label("x", score)))[0]
    above = postprocess(np.array([logit]), _manifest(label("x", float(np.nextafter(score, 1.0)))))
    below = postprocess(np.array([logit]), _manifest(label("x", float(np.nextafter(score, 0.0)))))
    assert at.score == at.threshold and at.positive
    assert not above[0].positive
    assert below[0].positive


def test_zero_logit_is_exactly_one_half_and_positive_at_threshold_one_half() -> None:
    result = postprocess(np.array([0.0], np.float32), _manifest(label("x", 0.5)))[0]
    assert result.score == 0.5 and result.positive


def test_comparison_is_in_float64_not_float32() -> None:
    """A float32 sigmoid rounds this logit onto the threshold; the float64 score stays below."""
    import torch

    logit = np.float32(-1e-9)
    assert float(torch.sigmoid(torch.tensor(logit))) == 0.5  # float32 would say positive
    result = postprocess(np.array([logit]), _manifest(label("x", 0.5)))[0]
    assert result.score < 0.5 and not result.positive


def test_extreme_logits_do_not_overflow() -> None:
    scores = activate(np.array([-1000.0, 1000.0, -50.0], np.float32), "sigmoid")
    assert np.isfinite(scores).all() and scores[0] == 0.0 and scores[1] == 1.0 and scores[2] > 0


def test_softmax_runs_over_all_labels() -> None:
    man = _manifest(label("a", 0.5, "softmax"), label("b", 0.5, "softmax"),
                    label("c", 0.5, "softmax"))  # fmt: skip
    results = postprocess(np.array([1.0, 3.0, 0.5], np.float32), man)
    assert sum(r.score for r in results) == pytest.approx(1.0, abs=1e-12)
    assert [r.positive for r in results] == [False, True, False]


def test_wrong_output_count_and_non_finite_output_are_errors() -> None:
    man = _manifest(label("a"), label("b"))
    with pytest.raises(InferenceError, match="2 label"):
        postprocess(np.zeros(3, np.float32), man)
    with pytest.raises(InferenceError, match="non-finite"):
        postprocess(np.array([np.nan, 0.0], np.float32), man)


def test_mixed_activations_are_refused() -> None:
    man = _manifest(label("a", 0.5, "sigmoid"), label("b", 0.5, "softmax"))
    with pytest.raises(InferenceError, match="mixes"):
        postprocess(np.zeros(2, np.float32), man)


@pytest.mark.parametrize(
    ("score", "threshold", "expected"),
    [
        (0.8, 0.935, ("0.800", "0.935")),  # the threshold as stored, never "0.94"
        (0.9351, 0.935, ("0.9351", "0.9350")),
        (0.935133, 0.935133, ("0.935133", "0.935133")),
        (0.2, 0.5, ("0.20", "0.50")),
        (0.4999999, 0.5, ("0.4999999", "0.5000000")),
        (0.5 - 2**-53, 0.5, ("0.4999999999999999", "0.5000000000000000")),
    ],
    ids=["stored-precision", "more-when-close", "equal", "two-at-least", "close", "one-ulp"],
)
def test_one_rule_for_score_and_threshold_text(
    score: float, threshold: float, expected: tuple[str, str]
) -> None:
    """Never the same text for a different score and threshold; the threshold never rounded."""
    from viewer.inference.postprocess import score_threshold_text, threshold_text

    assert score_threshold_text(score, threshold) == expected
    assert float(threshold_text(threshold)) == threshold
