"""``model compare`` / the comparison window over hostile ``shadow_result`` and
``ai_result_shown`` rows (any program with the log open can write them): per-label details of
any shape are left out of the pairs (an integer was a TypeError traceback); a non-finite score
is stored as text by the log (``viewer.audit.rows``), so it is left out too."""

from __future__ import annotations

import json
from typing import Any

import pytest

from viewer.audit import AuditEvent, AuditLog
from viewer.config import Settings
from viewer.session.comparison import SCORED_TYPES, paired_cases

A, B = "a" * 64, "b" * 64
N = 60

HOSTILE = {
    "int": 5,
    "bool": True,
    "string": "opacity",
    "dict": {"label": "opacity", "raw_score": 0.5, "threshold": 0.5},
    "nan-score": [{"label": "opacity", "raw_score": float("nan"), "threshold": 0.5}],
    "inf-score": [{"label": "opacity", "raw_score": float("inf"), "threshold": 0.5}],
    "nan-threshold": [{"label": "opacity", "raw_score": 0.5, "threshold": float("nan")}],
    "huge-score": [{"label": "opacity", "raw_score": 1e308, "threshold": -1e308}],
    "nested": [[{"label": "opacity"}]],
}


def _rows(settings: Settings, labels_raw: Any) -> list[Any]:
    events = []
    for i in range(N):
        ids = {"patient_id": f"P{i}", "sop_uid": f"1.2.3.{i}"}
        detail = {"pixel_sha256": f"{i:064x}"}
        score = (i % 10) / 10
        for digest, raw in ((A, [{"label": "opacity", "raw_score": score, "threshold": 0.5}]),
                            (B, labels_raw)):  # fmt: skip
            events.append(
                AuditEvent(
                    type="ai_result_shown" if digest == A else "shadow_result",
                    model_id="m", model_version="1" if digest == A else "2",
                    bundle_digest=digest, score=None, threshold=None,
                    detail={**detail, "labels_raw": raw}, **ids,
                )
            )  # fmt: skip
        events.append(
            AuditEvent(
                type="decision", meaning="confirmed", model_id="m", model_version="1",
                bundle_digest=A, detail={**detail, "label": "opacity"}, **ids,
                clinician_finding=f"opacity: {'positive' if i % 2 else 'negative'}",
            )
        )  # fmt: skip
    with AuditLog.open(settings) as log:
        log.append_all(events)
        return list(log.records(types=SCORED_TYPES))


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_per_label_details_are_left_out(settings: Settings, kind: str) -> None:
    from viewer.evaluation.compare import compare_paired

    pairs = paired_cases(_rows(settings, HOSTILE[kind]), label="opacity", first_digest=A,
                         second_digest=B)  # fmt: skip
    if kind == "huge-score":  # finite: kept
        assert len(pairs.truth) == N
    else:
        assert pairs.truth == []
    if pairs.truth:
        result = compare_paired(
            pairs.truth, pairs.first, pairs.second,
            candidate_threshold=pairs.first_threshold,
            reference_threshold=pairs.second_threshold, margin=0.05,
        )  # fmt: skip
        json.dumps(result, allow_nan=False)
