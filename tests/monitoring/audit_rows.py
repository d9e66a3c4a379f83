"""A simulated stream (``simulate.simulate``) written into a real audit log, as the session
writes readings: ``image_opened`` (the input mix), ``ai_result_shown`` (scores or a refusal)
and ``decision`` rows. The rows' times are spread over ``days`` ending now (the log stamps
rows with its own clock, replaced here), so day windows and case windows both have history."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock

import numpy as np

from tests.monitoring.simulate import THRESHOLD
from viewer.audit import AuditEvent, AuditLog, EventType
from viewer.audit.query import TIME_FORMAT
from viewer.config import Settings
from viewer.monitoring.cases import ModelStreams
from viewer.monitoring.profile import CATEGORY_TAGS, NUMERIC_TAGS


@contextmanager
def _clock(times: Iterator[str]) -> Iterator[None]:
    with mock.patch("viewer.audit.store.utc_now_text", lambda: next(times)):
        yield


def _case_events(streams: ModelStreams, i: int) -> list[AuditEvent]:
    res, ope, rea = streams.results.columns, streams.openings.columns, streams.reads.columns
    ids = {"patient_id": f"P{i}", "sop_uid": f"1.2.826.0.1.{i}"}
    model = {"model_id": streams.model_id, "model_version": streams.model_version}
    opened = {tag: str(ope[tag][i]) for tag in CATEGORY_TAGS if tag in ope}
    opened.update({tag: float(ope[tag][i]) for tag in NUMERIC_TAGS if tag in ope})
    events = [AuditEvent(type=EventType.IMAGE_OPENED, detail={"modality": "DX", **opened}, **ids)]
    if res["refused"][i]:
        codes = ["out_of_distribution"] if res["ood"][i] else ["not_chest"]
        events.append(
            AuditEvent(
                type=EventType.AI_RESULT_SHOWN,
                outcome="failure",
                reason=str(res["reason"][i]),
                detail={"refused": True, "refusal_codes": codes},
                **model,
                **ids,
            )
        )
        return events
    labels = {
        k.removeprefix("score:"): float(v[i]) for k, v in res.items() if k.startswith("score:")
    }
    score = next(iter(labels.values()))
    common = {**model, "threshold": THRESHOLD, "score": score}
    shown = AuditEvent(type=EventType.AI_RESULT_SHOWN, detail={"labels": labels}, **common, **ids)
    events.append(shown)
    positive = score >= THRESHOLD
    disagree = bool(rea["disagree"][i]) if i < len(streams.reads) else False
    own = "present" if positive != disagree else "absent"
    events.append(
        AuditEvent(
            type=EventType.DECISION,
            meaning="overrode" if rea["overrode"][i] else "confirmed",
            detail={"label": next(iter(labels)), "provisional_finding": own},
            **common,
            **ids,
        )
    )
    return events


def write_log(
    settings: Settings,
    streams: ModelStreams,
    *,
    days: float = 120.0,
    end: datetime | None = None,
    window_days: float = 30.0,
    window: int = 600,
) -> None:
    """Every case of ``streams`` as audit rows: the last ``window`` cases spread over the last
    ``window_days`` before ``end`` (default now), the earlier ones over the days before that."""
    end = end or datetime.now(UTC)
    n = len(streams.results)
    early, late = n - window, window
    span_early = (days - window_days) * 86_400.0
    offsets = np.concatenate(
        [
            -days * 86_400.0 + np.arange(early) * span_early / max(early, 1),
            -window_days * 86_400.0 + (np.arange(late) + 0.5) * window_days * 86_400.0 / late,
        ]
    )
    with AuditLog.open(settings) as log:
        batch: list[AuditEvent] = []
        stamps: list[str] = []
        for i in range(n):
            events = _case_events(streams, i)
            when = end + timedelta(seconds=float(offsets[i]))
            steps = range(len(events))  # a second apart: opened, shown, decided
            stamps += [(when + timedelta(seconds=k)).strftime(TIME_FORMAT) for k in steps]
            batch += events
            if len(batch) >= 600 or i == n - 1:
                with _clock(iter(stamps)):
                    log.append_all(batch)
                batch, stamps = [], []
