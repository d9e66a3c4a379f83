"""The reference profile the monitor compares a site against: plain data, no code.

A profile is what the model's validation images looked like: per-label score histograms (bin
edges and counts), counts of the DICOM categories (View Position, Manufacturer, Photometric
Interpretation, Patient Sex, Bits Stored) and histograms of numeric tags (Rows, Columns, Pixel
Spacing). :meth:`ReferenceProfile.from_manifest` builds it from a bundle's ``reference_scores``
and its ``reference_profile`` (``viewer.bundle.profile``, written by ``bundle create
--reference``); a bundle with neither has no profile, and the monitor then says monitoring is
unavailable.

Counts, not frequencies: the reference is a sample too, and its size enters every test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from viewer.bundle.profile import (
    CATEGORY_TAGS,
    NUMERIC_TAGS,
    Histogram,
    category_counts,
    numeric_histograms,
)

__all__ = ["CATEGORY_TAGS", "NUMERIC_TAGS", "Histogram", "ReferenceProfile"]

Count = Annotated[int, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
        """The profile a bundle's manifest carries: its ``reference_scores`` and, when it has
        one, the input mix of its ``reference_profile``. None when it carries neither."""
        scores = {
            str(r.label): Histogram(bin_edges=list(r.bin_edges), counts=list(r.counts))
            for r in getattr(manifest, "reference_scores", None) or ()
            if sum(r.counts) > 0
        }
        inputs = getattr(manifest, "reference_profile", None)
        categories = dict(inputs.categories) if inputs is not None else {}
        numeric = dict(inputs.numeric) if inputs is not None else {}
        if not (scores or categories or numeric):
            return None
        source = inputs.source if inputs is not None and inputs.source else ""
        return cls(
            source=source or "manifest reference_scores",
            scores=scores,
            categories=categories,
            numeric=numeric,
        )

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
        cats = category_counts(categories or {})
        nums = numeric_histograms(numeric or {}, bins=numeric_bins)
        return cls(source=source, scores=hist_scores, categories=cats, numeric=nums)
