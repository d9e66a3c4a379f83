"""Evaluation statistics for a model on local cases (numpy only; no Qt, no torch, no scipy).

``stats`` holds the estimators (exact binomial intervals, kappa, McNemar, DeLong's AUC variance,
a non-inferiority verdict); ``recalibrate`` chooses a site threshold from local confirmed cases.
Both take plain arrays: where the cases come from (the audit log) is the session's business.
"""

from __future__ import annotations

from viewer.evaluation.stats import (
    REFERENCE_CAVEAT,
    AucResult,
    McNemarResult,
    PairedAuc,
    Proportion,
    auc_delong,
    clopper_pearson,
    clopper_pearson_lower,
    cohens_kappa,
    delong_paired,
    mcnemar,
    proportion,
)

__all__ = [
    "REFERENCE_CAVEAT",
    "AucResult",
    "McNemarResult",
    "PairedAuc",
    "Proportion",
    "auc_delong",
    "clopper_pearson",
    "clopper_pearson_lower",
    "cohens_kappa",
    "delong_paired",
    "mcnemar",
    "proportion",
]
