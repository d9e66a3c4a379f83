"""Simulated audit streams drawn from a reference profile (numpy only, no log): the statistics
acceptance tests run on these; one end-to-end test uses a real log (test_cli / test_log)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from viewer.monitoring.cases import ModelStreams, Stream
from viewer.monitoring.profile import Histogram, ReferenceProfile

LABELS = ("opacity", "effusion", "cardiomegaly")
BETAS = {"opacity": (2.0, 5.0), "effusion": (1.5, 6.0), "cardiomegaly": (3.0, 4.0)}
CATEGORIES = {
    "view": {"PA": 0.7, "AP": 0.3},
    "manufacturer": {"Acme Imaging": 0.5, "Borealis": 0.35, "Cobalt DR": 0.15},
    "photometric": {"MONOCHROME2": 0.8, "MONOCHROME1": 0.2},
    "patient_sex": {"F": 0.49, "M": 0.49, "O": 0.02},
    "bits_stored": {"12": 0.6, "14": 0.3, "16": 0.1},
}
NUMERIC = {
    "rows": ([2048.0, 2500.0, 3000.0], [0.5, 0.3, 0.2]),
    "columns": ([2048.0, 2500.0, 3000.0], [0.5, 0.3, 0.2]),
    "pixel_spacing_mm": ([0.139, 0.143, 0.15, 0.2], [0.3, 0.3, 0.3, 0.1]),
}
THRESHOLD = 0.5


def make_profile(seed: int = 7, n: int = 2000) -> ReferenceProfile:
    """A reference profile from n simulated validation images."""
    rng = np.random.default_rng(seed)
    scores = {label: rng.beta(*BETAS[label], n) for label in LABELS}
    cats = {
        tag: list(rng.choice(list(p), size=n, p=list(p.values()))) for tag, p in CATEGORIES.items()
    }
    nums = {tag: rng.choice(v, size=n, p=p) for tag, (v, p) in NUMERIC.items()}
    return ReferenceProfile.from_samples(
        scores=scores, categories=cats, numeric=nums, source="simulated"
    )


def sample_histogram(rng: np.random.Generator, hist: Histogram, n: int) -> np.ndarray:
    """n values drawn from a histogram: a bin by its count, then uniform inside it."""
    counts = np.asarray(hist.counts, dtype=np.float64)
    edges = np.asarray(hist.bin_edges)
    bins = rng.choice(counts.size, size=n, p=counts / counts.sum())
    return edges[bins] + rng.random(n) * (edges[bins + 1] - edges[bins])


def sample_categories(rng: np.random.Generator, counts: dict[str, int], n: int) -> np.ndarray:
    names = list(counts)
    p = np.asarray([counts[k] for k in names], dtype=np.float64)
    return np.asarray(rng.choice(names, size=n, p=p / p.sum()), dtype=object)


@dataclass
class Rates:
    refusal: float = 0.03
    ood: float = 0.01
    override: float = 0.10
    disagreement: float = 0.15


@dataclass
class Drift:
    """What changes in the drifted part of a simulated log."""

    score_shift: dict[str, float] = field(default_factory=dict)
    new_manufacturer: float = 0.0  # share of cases from a manufacturer the reference never saw
    rates: Rates | None = None


def _results(rng, profile, n, rates, drift, t0):
    cols: dict[str, np.ndarray] = {}
    for label, hist in profile.scores.items():
        v = sample_histogram(rng, hist, n) + drift.score_shift.get(label, 0.0)
        cols[f"score:{label}"] = np.clip(v, 0.0, 1.0)
    refused = rng.random(n) < rates.refusal
    ood = refused & (rng.random(n) < rates.ood / rates.refusal)
    for key in list(cols):
        cols[key][refused] = np.nan
    positive = (cols[f"score:{LABELS[0]}"] >= THRESHOLD).astype(np.float64)
    positive[refused] = np.nan
    cols["refused"] = refused.astype(np.float64)
    cols["ood"] = ood.astype(np.float64)
    cols["positive"] = positive
    reason = np.full(n, "", dtype=object)
    reason[refused] = "The image is not a chest X-ray."
    reason[ood] = "The image is outside the images this model was validated on."
    cols["reason"] = reason
    return Stream(t0 + np.arange(n, dtype=np.float64) * 60.0, cols)


def _openings(rng, profile, n, drift, t0):
    cols: dict[str, np.ndarray] = {}
    for tag, counts in profile.categories.items():
        cols[tag] = sample_categories(rng, counts, n)
    if drift.new_manufacturer:
        new = rng.random(n) < drift.new_manufacturer
        cols["manufacturer"][new] = "Zenith Medical"
    for tag, hist in profile.numeric.items():
        cols[tag] = sample_histogram(rng, hist, n)
    return Stream(t0 + np.arange(n, dtype=np.float64) * 60.0, cols)


def _reads(rng, n, rates, t0):
    overrode = (rng.random(n) < rates.override).astype(np.float64)
    disagree = (rng.random(n) < rates.disagreement).astype(np.float64)
    return Stream(
        t0 + np.arange(n, dtype=np.float64) * 60.0 + 30.0,
        {"overrode": overrode, "disagree": disagree},
    )


def _cat(a: Stream, b: Stream) -> Stream:
    return Stream(
        np.concatenate([a.time, b.time]),
        {k: np.concatenate([a.columns[k], b.columns[k]]) for k in a.columns},
    )


def simulate(
    profile: ReferenceProfile,
    *,
    seed: int,
    baseline: int = 3000,
    window: int = 600,
    drift: Drift | None = None,
    rates: Rates | None = None,
    t0: float = 1_780_000_000.0,
) -> ModelStreams:
    """``baseline`` cases as the reference, then ``window`` cases with ``drift`` applied."""
    rng = np.random.default_rng(seed)
    rates = rates or Rates()
    drift = drift or Drift()
    late = drift.rates or rates
    t1 = t0 + baseline * 60.0
    res = _cat(
        _results(rng, profile, baseline, rates, Drift(), t0),
        _results(rng, profile, window, rates, drift, t1),
    )
    ope = _cat(
        _openings(rng, profile, baseline, Drift(), t0), _openings(rng, profile, window, drift, t1)
    )
    rea = _cat(_reads(rng, baseline, rates, t0), _reads(rng, window, late, t1))
    return ModelStreams("sim-cxr", "1.0.0", res, ope, rea)
