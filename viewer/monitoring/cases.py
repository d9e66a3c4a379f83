"""What the monitor reads from the audit log: three streams per model version.

- **results** (``ai_result_shown`` rows of the model): time, each label's score, positive or not
  (the row's score against its threshold), refused or not, the refusal's reason and whether it
  was an out-of-distribution refusal;
- **openings** (``image_opened`` rows): the DICOM categories and numeric tags of the image. The
  row has no model fields (the image is opened before it is scored), so an opening belongs to the
  model that scored that image (same SOP Instance pseudonym); openings never scored are left out;
- **reads** (``decision`` rows; an ``amendment`` replaces the row it corrects): overrode or
  confirmed, and whether the clinician's own read (read-first, ``provisional_finding``
  present/absent) disagreed with the AI.

Plain numpy arrays, so a window is a slice and the tests can build streams without a log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from viewer.bundle.profile import category_value, numeric_value
from viewer.monitoring.profile import CATEGORY_TAGS, NUMERIC_TAGS

__all__ = ["OOD_CODES", "ModelStreams", "Stream", "streams_from_records"]

# refusal codes (row detail ``refusal_codes``) that mean "outside the images this model was
# validated on" (issue 15 item 2); a refusal whose reason says so counts too
OOD_CODES = frozenset({"out_of_distribution", "ood"})
OOD_PHRASE = "outside the images this model was validated on"
MAX_LABELS = 100  # score columns per model version: as many labels as a manifest may declare


# the audit rows the monitor reads: image_opened first (the input mix), then the results and reads
MONITORED_TYPES = ("image_opened", "ai_result_shown", "decision", "amendment")


@dataclass
class Stream:
    """One kind of row of one model version: times (seconds since the epoch, UTC) and columns of
    the same length (float with NaN for missing, or str)."""

    time: npt.NDArray[np.float64]
    columns: dict[str, npt.NDArray[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.time.size)

    def take(self, mask: npt.NDArray[np.bool_] | slice) -> Stream:
        return Stream(self.time[mask], {k: v[mask] for k, v in self.columns.items()})

    @classmethod
    def build(cls, time: list[float], columns: dict[str, list[Any]]) -> Stream:
        t = np.asarray(time, dtype=np.float64)
        cols: dict[str, npt.NDArray[Any]] = {}
        for name, values in columns.items():
            if values and all(isinstance(v, str) for v in values):
                cols[name] = np.asarray(values, dtype=object)
            else:
                cols[name] = np.asarray(values, dtype=np.float64)
        order = np.argsort(t, kind="stable")
        return cls(t[order], {k: v[order] for k, v in cols.items()})


@dataclass
class ModelStreams:
    """The rows of one model version (module doc). ``results`` columns: ``refused``, ``ood``,
    ``positive`` (0/1/NaN), ``reason`` (str) and ``score:<label>`` per label; ``openings``: one
    str column per category tag and one float column per numeric tag; ``reads``: ``overrode``
    and ``disagree`` (0/1/NaN)."""

    model_id: str
    model_version: str
    results: Stream
    openings: Stream
    reads: Stream

    @property
    def model(self) -> str:
        return f"{self.model_id} {self.model_version}".strip()

    @property
    def labels(self) -> list[str]:
        return [k.removeprefix("score:") for k in self.results.columns if k.startswith("score:")]


def _seconds(texts: list[str]) -> list[float]:
    """Stored UTC times (``...Z``) as seconds since the epoch."""
    if not texts:
        return []
    stamps = np.asarray([t.rstrip("Z") for t in texts], dtype="datetime64[us]")
    return list(stamps.astype(np.int64).astype(np.float64) / 1e6)


def _disagree(provisional: Any, positive: bool | None) -> float:
    if positive is None or provisional not in ("present", "absent"):
        return float("nan")
    return float((provisional == "present") != positive)


class _Builder:
    def __init__(self, model_id: str, model_version: str) -> None:
        self.model_id, self.model_version = model_id, model_version
        self.results: dict[str, list[Any]] = {"refused": [], "ood": [], "positive": []}
        self.reasons: list[str] = []
        self.result_times: list[str] = []
        self.scores: dict[str, dict[int, float]] = {}
        self.read_times: list[str] = []
        self.reads: dict[str, list[float]] = {"overrode": [], "disagree": []}
        self.read_index: dict[int, int] = {}  # root decision seq -> index in reads

    def result(self, row: Any) -> None:
        detail = row.detail
        i = len(self.result_times)
        self.result_times.append(row.time)
        refused = row.outcome == "failure" or bool(detail.get("refused"))
        raw_codes = detail.get("refusal_codes")
        codes = {str(c) for c in raw_codes} if isinstance(raw_codes, list) else set()
        reason = str(row.reason or "")
        ood = refused and (bool(codes & OOD_CODES) or OOD_PHRASE in reason.lower())
        self.results["refused"].append(float(refused))
        self.results["ood"].append(float(ood))
        positive = row.ai_positive if not refused else None
        self.results["positive"].append(float("nan") if positive is None else float(positive))
        self.reasons.append(reason if refused else "")
        labels = detail.get("labels") or {}
        if isinstance(labels, dict):
            for label, score in labels.items():
                self.scores.setdefault(str(label), {})[i] = numeric_value(score)

    def read(self, row: Any, roots: dict[int, int]) -> None:
        detail = row.detail
        root = roots.get(row.corrects, row.corrects) if row.corrects is not None else row.seq
        roots[row.seq] = root
        overrode = float(row.meaning == "overrode")
        disagree = _disagree(detail.get("provisional_finding"), row.ai_positive)
        if row.type == "amendment" and root in self.read_index:
            i = self.read_index[root]
            self.reads["overrode"][i], self.reads["disagree"][i] = overrode, disagree
            return
        self.read_index[root] = len(self.read_times)
        self.read_times.append(row.time)
        self.reads["overrode"].append(overrode)
        self.reads["disagree"].append(disagree)

    def streams(self, openings: list[Any]) -> ModelStreams:
        n = len(self.result_times)
        columns: dict[str, list[Any]] = {**self.results, "reason": self.reasons}
        # a column per label is rows x labels: a log whose rows each name another label would
        # grow it quadratically, so only the labels scored most often (a model's own labels are
        # scored on every image) are kept, at most as many as a manifest may declare
        by_count = sorted(self.scores, key=lambda k: len(self.scores[k]), reverse=True)
        kept = set(by_count[:MAX_LABELS])
        for label, by_row in self.scores.items():
            if label in kept:
                columns[f"score:{label}"] = [by_row.get(i, float("nan")) for i in range(n)]
        open_cols: dict[str, list[Any]] = {tag: [] for tag in CATEGORY_TAGS}
        open_cols.update({tag: [] for tag in NUMERIC_TAGS})
        for row in openings:
            detail = row.detail
            for tag in CATEGORY_TAGS:
                open_cols[tag].append(category_value(detail.get(tag)))
            for tag in NUMERIC_TAGS:
                open_cols[tag].append(numeric_value(detail.get(tag)))
        return ModelStreams(
            model_id=self.model_id,
            model_version=self.model_version,
            results=Stream.build(_seconds(self.result_times), columns),
            openings=Stream.build(_seconds([r.time for r in openings]), open_cols),
            reads=Stream.build(_seconds(self.read_times), dict(self.reads)),
        )


def streams_from_records(
    records: Iterable[Any], *, include_demo: bool = True
) -> dict[tuple[str, str], ModelStreams]:
    """Split audit records (in sequence order) into the streams of each model version.

    ``include_demo=False`` leaves out rows the shipped demo model made (``demo_model`` in the
    detail): its scores on real images mean nothing.
    """
    builders: dict[tuple[str, str], _Builder] = {}
    opened: list[Any] = []
    scored_by: dict[str, tuple[str, str]] = {}  # sop pseudonym -> model that scored it
    roots: dict[int, int] = {}
    for row in records:
        kind = row.type
        if kind == "image_opened":
            opened.append(row)
            continue
        if kind not in MONITORED_TYPES[1:] or not row.model_id:
            continue
        if not include_demo and row.detail.get("demo_model"):
            continue
        key = (str(row.model_id), str(row.model_version or ""))
        builder = builders.get(key)
        if builder is None:
            builder = builders[key] = _Builder(*key)
        if kind == "ai_result_shown":
            builder.result(row)
            if row.sop_pseudonym:
                scored_by[row.sop_pseudonym] = key
        else:
            builder.read(row, roots)
    openings: dict[tuple[str, str], list[Any]] = {key: [] for key in builders}
    for row in opened:
        owner = scored_by.get(row.sop_pseudonym or "")
        if owner is not None:
            openings[owner].append(row)
    return {key: b.streams(openings[key]) for key, b in builders.items()}
