"""The reference profile the monitor compares a site against: plain data, no code.

A profile is what the model's validation images looked like: per-label score histograms (bin
edges and counts), counts of the DICOM categories (View Position, Manufacturer, Photometric
Interpretation, Patient Sex, Bits Stored) and histograms of numeric tags (Rows, Columns, Pixel
Spacing). It is a pydantic model so a bundle's manifest can carry it as it is (issue 15, item 1);
today a bundle carries only ``reference_scores`` (score histograms), which
:meth:`ReferenceProfile.from_manifest` turns into a profile with scores and no input mix. A
bundle without them has no profile: the monitor then says monitoring is unavailable.

Counts, not frequencies: the reference is a sample too, and its size enters every test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["CATEGORY_TAGS", "NUMERIC_TAGS", "Histogram", "ReferenceProfile"]

# detail key in the image_opened row -> the DICOM attribute it holds (the report's wording)
CATEGORY_TAGS: dict[str, str] = {
    "view": "View Position",
    "manufacturer": "Manufacturer",
    "photometric": "Photometric Interpretation",
    "patient_sex": "Patient Sex",
    "bits_stored": "Bits Stored",
}
NUMERIC_TAGS: dict[str, str] = {
    "rows": "Rows",
    "columns": "Columns",
    "pixel_spacing_mm": "Pixel Spacing (row, mm)",
}

Count = Annotated[int, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Histogram(_Strict):
    """Counts of values in bins ``[e_i, e_i+1)`` (the last bin closed), as ``numpy.histogram``."""

    bin_edges: Annotated[list[float], Field(min_length=2, max_length=1001)]
    counts: Annotated[list[Count], Field(min_length=1, max_length=1000)]

    @model_validator(mode="after")
    def _shape(self) -> Histogram:
        if len(self.bin_edges) != len(self.counts) + 1:
            raise ValueError("bin_edges must have one more entry than counts")
        if any(b <= a for a, b in zip(self.bin_edges, self.bin_edges[1:], strict=False)):
            raise ValueError("bin_edges must increase")
        if sum(self.counts) == 0:
            raise ValueError("a reference histogram needs at least one value")
        return self

    @property
    def total(self) -> int:
        return sum(self.counts)

    def mean(self) -> float:
        """The mean taken at bin centres (for the direction of a shift, not for a test)."""
        edges = np.asarray(self.bin_edges)
        centres = (edges[:-1] + edges[1:]) / 2.0
        return float(np.average(centres, weights=np.asarray(self.counts, dtype=np.float64)))

    @classmethod
    def of(cls, values: npt.ArrayLike, bin_edges: Sequence[float]) -> Histogram:
        counts, _ = np.histogram(np.asarray(values, dtype=np.float64), bins=np.asarray(bin_edges))
        return cls(bin_edges=[float(e) for e in bin_edges], counts=[int(c) for c in counts])


class ReferenceProfile(_Strict):
    """What the model's reference images looked like (module doc). Every part may be empty."""

    source: Annotated[str, Field(max_length=200)] = ""
    scores: dict[Annotated[str, Field(max_length=64)], Histogram] = Field(default_factory=dict)
    categories: dict[str, dict[Annotated[str, Field(max_length=128)], Count]] = Field(
        default_factory=dict
    )
    numeric: dict[str, Histogram] = Field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.scores or self.categories or self.numeric)

    @classmethod
    def from_manifest(cls, manifest: Any) -> ReferenceProfile | None:
        """The profile a bundle's manifest carries: its ``reference_scores`` today (a future
        ``reference_profile`` field is taken as it is). None when it carries neither."""
        full = getattr(manifest, "reference_profile", None)
        if isinstance(full, ReferenceProfile) and not full.empty:
            return full
        scores = {
            str(r.label): Histogram(bin_edges=list(r.bin_edges), counts=list(r.counts))
            for r in getattr(manifest, "reference_scores", None) or ()
            if sum(r.counts) > 0
        }
        if not scores:
            return None
        return cls(source="manifest reference_scores", scores=scores)

    @classmethod
    def from_samples(
        cls,
        *,
        scores: Mapping[str, npt.ArrayLike],
        categories: Mapping[str, Sequence[str]] | None = None,
        numeric: Mapping[str, npt.ArrayLike] | None = None,
        score_bins: int = 20,
        numeric_bins: int = 20,
        source: str = "",
    ) -> ReferenceProfile:
        """A profile from raw reference values (a bundle maker's validation set, or a test).

        Scores get ``score_bins`` equal bins on 0..1; numeric tags equal bins from their minimum
        to their maximum (one bin around a constant)."""
        score_edges = list(np.linspace(0.0, 1.0, score_bins + 1))
        hist_scores = {label: Histogram.of(v, score_edges) for label, v in scores.items()}
        cats: dict[str, dict[str, int]] = {}
        for tag, values in (categories or {}).items():
            uniq, counts = np.unique(np.asarray(list(values), dtype=str), return_counts=True)
            cats[tag] = {str(u): int(c) for u, c in zip(uniq, counts, strict=True)}
        nums: dict[str, Histogram] = {}
        for tag, raw in (numeric or {}).items():
            v = np.asarray(raw, dtype=np.float64)
            v = v[np.isfinite(v)]
            if v.size == 0:
                continue
            lo, hi = float(v.min()), float(v.max())
            if hi <= lo:
                lo, hi = lo - 0.5, hi + 0.5
            nums[tag] = Histogram.of(v, list(np.linspace(lo, hi, numeric_bins + 1)))
        return cls(source=source, scores=hist_scores, categories=cats, numeric=nums)
