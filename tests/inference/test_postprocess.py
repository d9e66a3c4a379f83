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


# ----------------------------------------------------------------------------- calibration


def _score_of(logit: float) -> float:
    return float(activate(np.array([logit], np.float32), "sigmoid")[0])


@pytest.mark.parametrize(
    ("score", "threshold", "expected"),
    [
        (0.0, 0.2, 0.0),
        (0.1, 0.2, 0.25),
        (0.2, 0.2, 0.5),  # the threshold goes to 0.5
        (0.6, 0.2, 0.75),
        (1.0, 0.2, 1.0),
        (0.0, 0.0, 0.5),  # a threshold of 0: every score is at or above it
        (1.0, 0.0, 1.0),
        (0.5, 1.0, 0.25),  # a threshold of 1: only a score of 1 reaches it (txv: 0/0)
        (1.0, 1.0, 1.0),
    ],
)
def test_op_norm_is_piecewise_linear_through_the_threshold(
    score: float, threshold: float, expected: float
) -> None:
    from viewer.inference.postprocess import op_norm

    assert op_norm(score, threshold) == pytest.approx(expected, abs=1e-15)


def test_op_norm_matches_torchxrayvision() -> None:
    """Bedside's op_norm against the library's own (float32 there, float64 here)."""
    import torch

    from tests.bundle.txv_reference import xrv

    rng = np.random.default_rng(0)
    thresholds = rng.uniform(0.001, 0.999, 64)
    scores = np.concatenate([rng.uniform(0, 1, 64), thresholds[:8], [0.0, 1.0]])
    thresholds = np.concatenate([thresholds, thresholds[:8], [0.3, 0.3]])
    theirs = (
        xrv()
        .models.op_norm(
            torch.tensor(scores, dtype=torch.float32)[None],
            torch.tensor(thresholds, dtype=torch.float32),
        )[0]
        .numpy()
    )
    from viewer.inference.postprocess import op_norm

    ours = np.array([op_norm(float(s), float(t)) for s, t in zip(scores, thresholds, strict=True)])
    assert np.abs(ours - theirs).max() < 1e-6


def test_calibrated_result_shows_the_calibrated_pair_and_keeps_the_raw_one() -> None:
    man = _manifest(label("a", 0.2, calibration="op_norm"), label("b", 0.2))
    logit = float(np.log(0.6 / 0.4))  # sigmoid 0.6
    a, b = postprocess(np.array([logit, logit], np.float32), man)
    assert a.calibrated and not b.calibrated
    assert a.raw_score == b.raw_score == b.score == pytest.approx(0.6, abs=1e-7)
    assert a.score == pytest.approx(0.75, abs=1e-7)
    assert a.threshold == b.threshold == b.shown_threshold == 0.2
    assert a.shown_threshold == 0.5
    assert a.positive and b.positive
    assert a.shown_text == ("0.75", "0.50") and a.raw_text == ("0.60", "0.20")
    assert b.shown_text == b.raw_text == ("0.60", "0.20")
    assert "score 0.75 >= threshold 0.50; raw score 0.60 >= threshold 0.20;" in a.finding_text
    assert "raw score" not in b.finding_text


def test_a_result_made_without_a_raw_score_is_uncalibrated() -> None:
    from viewer.inference.postprocess import LabelResult

    r = LabelResult(label="x", score=0.3, threshold=0.5, positive=False, operating_point="p")
    assert r.raw_score == 0.3 and not r.calibrated and r.shown_threshold == 0.5
    with pytest.raises(ValueError, match="raw score"):
        LabelResult(
            label="x", score=0.3, threshold=0.5, positive=False, operating_point="p",
            calibrated=True,
        )  # fmt: skip


def test_calibrated_positive_is_raw_positive_at_and_around_the_threshold() -> None:
    """positive (raw >= threshold) equals calibrated >= 0.5, exactly, in float64: at the
    threshold itself (positive, shown as exactly 0.5) and one ulp either side."""
    logits = np.linspace(-8.0, 8.0, 401, dtype=np.float32)
    rng = np.random.default_rng(1)
    for threshold in [*rng.uniform(0.0005, 0.9995, 40), 0.5, 0.0022490358, 0.9, 0.0, 1.0]:
        man = _manifest(label("x", float(threshold), calibration="op_norm"))
        for logit in logits:
            r = postprocess(np.array([logit]), man)[0]
            assert r.positive == (r.raw_score >= r.threshold) == (r.score >= 0.5), (logit, r)
            assert 0.0 <= r.score <= 1.0
    for logit in np.float32([-3.0, -0.3, 0.0, 0.7, 4.0]):
        score = _score_of(float(logit))
        at = postprocess(np.array([logit]), _manifest(label("x", score, calibration="op_norm")))
        assert at[0].positive and at[0].score == 0.5 and at[0].raw_score == at[0].threshold
        for neighbour in (np.nextafter(score, 0.0), np.nextafter(score, 1.0)):
            man = _manifest(label("x", float(neighbour), calibration="op_norm"))
            r = postprocess(np.array([logit]), man)[0]
            assert r.positive == (score >= neighbour) == (r.score >= 0.5), (logit, neighbour, r)
            if not r.positive:
                assert r.score < 0.5


def test_calibration_maps_a_site_threshold_to_one_half() -> None:
    """A site threshold in force replaces the manifest's in the map too: a calibrated 0.5 or
    more is still exactly a positive finding."""
    from viewer.inference.postprocess import SiteThreshold

    site = SiteThreshold(0.7, 0.2, "2026-12-01T00:00:00Z", "Dr A", 212, "0" * 64)
    man = _manifest(label("a", 0.2, calibration="op_norm"))
    logit = float(np.log(0.6 / 0.4))
    (r,) = postprocess(np.array([logit], np.float32), man, {"a": site})
    assert r.threshold == 0.7 and r.shown_threshold == 0.5 and not r.positive
    assert r.score == pytest.approx(0.6 / 1.4, abs=1e-7)
