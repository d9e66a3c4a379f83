"""Two models on the same local cases (issue 16 item 2's statistics), over plain arrays.

Per model: sensitivity and specificity against the reference with exact intervals, kappa with
the reference; between the models: kappa, McNemar's test on the reference-positive cases (the
sensitivities) and on the reference-negative ones (the specificities), the paired difference in
sensitivity, and the AUCs with DeLong's paired test; then the non-inferiority verdict.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from viewer.evaluation.stats import (
    DEFAULT_MINIMUM_POSITIVES,
    REFERENCE_CAVEAT,
    auc_delong,
    cohens_kappa,
    delong_paired,
    mcnemar,
    noninferiority,
    paired_difference,
    proportion,
)

__all__ = ["compare_paired"]


def compare_paired(
    truth: ArrayLike,
    candidate: ArrayLike,
    reference_model: ArrayLike,
    *,
    candidate_threshold: ArrayLike,
    reference_threshold: ArrayLike,
    margin: float | None = None,
    minimum_positives: int = DEFAULT_MINIMUM_POSITIVES,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """The comparison as a JSON-ready dict. Thresholds are per case or one value (a case is
    positive at ``score >= threshold``); the verdict is on the sensitivity difference."""
    t = np.asarray(truth, dtype=bool).reshape(-1)
    a = np.asarray(candidate, dtype=np.float64).reshape(-1)
    b = np.asarray(reference_model, dtype=np.float64).reshape(-1)
    pa = a >= np.broadcast_to(np.asarray(candidate_threshold, dtype=np.float64), a.shape)
    pb = b >= np.broadcast_to(np.asarray(reference_threshold, dtype=np.float64), b.shape)
    positives, negatives = int(t.sum()), int((~t).sum())

    def model(flags: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
        auc = auc_delong(t, scores, confidence)
        return {
            "sensitivity": proportion(int((flags & t).sum()), positives, confidence).as_dict(),
            "specificity": proportion(int((~flags & ~t).sum()), negatives, confidence).as_dict(),
            "kappa_with_reference": cohens_kappa(flags, t),
            "auc": auc.as_dict() if auc else None,
        }

    sens_diff = paired_difference(pa[t], pb[t], confidence) if positives else None
    paired = delong_paired(t, a, b, confidence)
    verdict = noninferiority(
        metric="sensitivity",
        lower_bound=sens_diff.ci_low if sens_diff else None,
        margin=margin,
        positives=positives,
        minimum_positives=minimum_positives,
    )
    return {
        "cases": int(t.size),
        "positives": positives,
        "negatives": negatives,
        "candidate": model(pa, a),
        "reference_model": model(pb, b),
        "kappa_between_models": cohens_kappa(pa, pb),
        "mcnemar_sensitivity": mcnemar(pa[t], pb[t]).as_dict(),
        "mcnemar_specificity": mcnemar(~pa[~t], ~pb[~t]).as_dict(),
        "sensitivity_difference": (
            {
                "difference": sens_diff.difference,
                "ci_low": sens_diff.ci_low,
                "ci_high": sens_diff.ci_high,
                "method": "paired Wald",
            }
            if sens_diff
            else None
        ),
        "auc_difference": paired.as_dict() if paired else None,
        "noninferiority": verdict.as_dict(),
        "reference_standard": REFERENCE_CAVEAT,
    }
