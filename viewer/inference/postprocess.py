"""From the network's logits to a finding: activation, threshold, operating point.

Precision, on purpose: the activation is computed in float64 from the float32 logits, and the
finding is ``score >= threshold`` compared in float64 against the manifest's threshold (a JSON
number, parsed as a Python float). The reported score is that same float64 value, so anyone can
check the finding from the JSON output. A float32 score could round up onto the threshold (e.g. a
logit of -1e-9 gives exactly 0.5 in float32 but 0.4999999997 in float64): such a case is negative
here. A score exactly equal to the threshold is positive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from viewer.errors import InferenceError

__all__ = ["LabelResult", "SiteThreshold", "activate", "postprocess"]


class _LabelLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def threshold(self) -> float: ...
    @property
    def operating_point(self) -> str: ...
    @property
    def activation(self) -> Literal["sigmoid", "softmax"]: ...


class _ManifestLike(Protocol):
    @property
    def labels(self) -> Sequence[_LabelLike]: ...


@dataclass(frozen=True)
class SiteThreshold:
    """A site's own threshold for one label (a signed site amendment in the model store, made by
    local recalibration) that replaces the manifest's while the amended bundle is active."""

    threshold: float
    manifest_threshold: float
    set_at: str  # UTC, ISO 8601
    set_by: str
    cases: int
    amendment_sha256: str

    @property
    def text(self) -> str:
        """ "site threshold 0.42, set 2026-12-01 by ..., from 212 local cases"."""
        return (
            f"site threshold {threshold_text(self.threshold)}, set {self.set_at[:10]} by "
            f"{self.set_by}, from {self.cases} local cases"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "threshold": self.threshold,
            "manifest_threshold": self.manifest_threshold,
            "set_at": self.set_at,
            "set_by": self.set_by,
            "cases": self.cases,
            "amendment_sha256": self.amendment_sha256,
            "text": self.text,
        }


@dataclass(frozen=True)
class LabelResult:
    """One label's result. ``positive`` is ``score >= threshold`` (float64, see module doc)."""

    label: str
    score: float
    threshold: float
    positive: bool
    operating_point: str
    display_name: str = ""
    site: SiteThreshold | None = None  # the site threshold applied instead of the manifest's

    @property
    def finding_text(self) -> str:
        """Short text for a person: which side of the threshold and what the threshold means."""
        name = self.display_name or self.label
        side = "positive" if self.positive else "negative"
        relation = ">=" if self.positive else "<"
        score, threshold = score_threshold_text(self.score, self.threshold)
        return (
            f"{name}: {side} (score {score} {relation} threshold {threshold}; "
            f"{self.operating_point})"
        )


MAX_DECIMALS = 17  # enough to tell any two doubles in 0..1 apart


def threshold_text(threshold: float) -> str:
    """A threshold as stored, never rounded: the fewest decimals (at least 2) that give it back.

    One rule for the AI panel, the report, the CLI, the audit window and the model card: a
    threshold of 0.935 reads "0.935" everywhere, never "0.94" in one place and "0.935" in another.
    """
    for decimals in range(2, MAX_DECIMALS + 1):
        text = f"{threshold:.{decimals}f}"
        if float(text) == threshold:
            return text
    return f"{threshold:.{MAX_DECIMALS}f}"


def score_threshold_text(score: float, threshold: float) -> tuple[str, str]:
    """Score and threshold with the same number of decimals: at least the threshold's own, more
    until they differ when the values differ. "0.94" beside "threshold 0.94" on a positive
    finding would mislead a reader."""
    start = len(threshold_text(threshold).split(".")[1])
    for decimals in range(start, MAX_DECIMALS + 1):
        a, b = f"{score:.{decimals}f}", f"{threshold:.{decimals}f}"
        if a != b or score == threshold:
            return a, b
    return f"{score:.{MAX_DECIMALS}f}", f"{threshold:.{MAX_DECIMALS}f}"


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Stable logistic in float64 (no overflow for large |x|)."""
    out = np.empty_like(x, dtype=np.float64)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out


def _softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max()
    ex = np.exp(shifted)
    result: np.ndarray = ex / ex.sum()
    return result


def activate(logits: np.ndarray, activation: Literal["sigmoid", "softmax"]) -> np.ndarray:
    """float64 scores from float32 logits (1-D, one per label)."""
    x = np.asarray(logits, dtype=np.float64).reshape(-1)
    if not np.isfinite(x).all():
        raise InferenceError("The model returned a non-finite output; no score can be shown.")
    return _sigmoid(x) if activation == "sigmoid" else _softmax(x)


def postprocess(
    logits: np.ndarray,
    manifest: _ManifestLike,
    site: Mapping[str, SiteThreshold] | None = None,
) -> list[LabelResult]:
    """Per label, in manifest order: score, threshold, finding and operating point text.

    ``site``: per label, a site threshold that replaces the manifest's (its text replaces the
    operating point, which described the manifest's threshold).

    ``logits`` is the network output for one image, shape (L,) or (1, L). The manifest requires
    one activation for all labels; softmax runs over all of them.
    """
    labels = list(manifest.labels)
    x = np.asarray(logits).reshape(-1)
    if x.shape[0] != len(labels):
        raise InferenceError(
            f"The model returned {x.shape[0]} output(s) but the bundle declares "
            f"{len(labels)} label(s); no score can be shown."
        )
    activations = {label.activation for label in labels}
    if len(activations) != 1:
        raise InferenceError("The bundle mixes sigmoid and softmax labels; no score can be shown.")
    scores = activate(x, labels[0].activation)
    results = []
    for label, score in zip(labels, scores, strict=True):
        value = float(score)
        override = (site or {}).get(label.name)
        threshold = float(override.threshold if override else label.threshold)
        results.append(
            LabelResult(
                label=label.name,
                score=value,
                threshold=threshold,
                positive=value >= threshold,
                operating_point=override.text if override else label.operating_point,
                display_name=label.display_name,
                site=override,
            )
        )
    return results
