"""The reference profile a bundle carries (issue 15, item 1): plain data, signed with the rest.

What the model's reference images (a set its maker supplies with ``bundle create --reference``)
looked like: how many there were, the counts of the DICOM categories the drift monitor follows
(View Position, Manufacturer, Photometric Interpretation, Patient Sex, Bits Stored), histograms
of numeric tags (Rows, Columns, Pixel Spacing), and the out-of-distribution check's declared
statistics (:class:`OodSpec`; the arrays are in the signed member ``reference.safetensors``).
Per-label score histograms stay in the manifest's ``reference_scores``. Counts, not
frequencies: the reference is a sample too, and its size enters every test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "CATEGORY_TAGS",
    "NUMERIC_TAGS",
    "REFERENCE_NAME",
    "Histogram",
    "InputProfile",
    "OodSpec",
    "category_counts",
    "category_value",
    "input_mix",
    "numeric_histograms",
    "numeric_value",
]

REFERENCE_NAME = "reference.safetensors"

# key (in the profile and in the ``image_opened`` audit row) -> the DICOM attribute it holds
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
MAX_CATEGORY_CHARS = 128  # a category value's length in the profile (and as the monitor counts it)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Histogram(_Strict):
    """Counts of values in bins ``[e_i, e_i+1)`` (the last bin closed), as ``numpy.histogram``."""

    bin_edges: Annotated[
        list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=2, max_length=1001)
    ]
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


class OodSpec(_Strict):
    """The per-image out-of-distribution check (``viewer.inference.ood``): Mahalanobis distance
    of the input of ``layer`` from the reference's mean under its Ledoit-Wolf shrunk covariance;
    images beyond ``threshold`` (the conformal ``quantile`` of ``folds``-fold out-of-fold
    reference distances) are refused. ``mean`` and ``precision`` are in ``file``."""

    method: Literal["mahalanobis-ledoit-wolf"] = "mahalanobis-ledoit-wolf"
    file: Literal["reference.safetensors"] = "reference.safetensors"
    layer: Annotated[str, Field(max_length=200)] = Field(
        description="The module whose input is the feature vector (the last linear layer)."
    )
    dim: Annotated[int, Field(ge=1, le=8192)]
    quantile: Annotated[float, Field(ge=0.5, lt=1.0)]
    threshold: Annotated[float, Field(gt=0.0, allow_inf_nan=False)]  # inf would refuse nothing
    shrinkage: Annotated[float, Field(ge=0.0, le=1.0)]
    folds: Annotated[int, Field(ge=2, le=100)]
    count: Annotated[int, Field(ge=2)]


class InputProfile(_Strict):
    """The reference set's input mix and, when features were available, its OOD statistics."""

    source: Annotated[str, Field(max_length=400)] = ""
    count: Annotated[int, Field(ge=1)]
    refused: Count = Field(
        default=0, description="Reference images the model's input checks refused (left out)."
    )
    categories: dict[
        Annotated[str, Field(max_length=64)],
        dict[Annotated[str, Field(max_length=MAX_CATEGORY_CHARS)], Count],
    ] = Field(default_factory=dict)
    numeric: dict[Annotated[str, Field(max_length=64)], Histogram] = Field(default_factory=dict)
    ood: OodSpec | None = None


def category_counts(values: Mapping[str, Sequence[str]]) -> dict[str, dict[str, int]]:
    """Per tag, how often each value occurs (empty values count as ``""``)."""
    out: dict[str, dict[str, int]] = {}
    for tag, seq in values.items():
        uniq, counts = np.unique(np.asarray(list(seq), dtype=str), return_counts=True)
        out[tag] = {str(u): int(c) for u, c in zip(uniq, counts, strict=True)}
    return out


def numeric_histograms(
    values: Mapping[str, npt.ArrayLike], *, bins: int = 20
) -> dict[str, Histogram]:
    """Per tag, equal bins from the finite values' minimum to maximum (one bin around a
    constant); a tag with no finite value is left out."""
    out: dict[str, Histogram] = {}
    for tag, raw in values.items():
        v = np.asarray(raw, dtype=np.float64)
        v = v[np.isfinite(v)]
        if v.size == 0:
            continue
        lo, hi = float(v.min()), float(v.max())
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        out[tag] = Histogram.of(v, list(np.linspace(lo, hi, bins + 1)))
    return out


def input_mix(meta: Any) -> dict[str, Any]:
    """The categories and sizes of one image (``viewer.dicom.ImageMetadata``) that the drift
    monitor compares with the reference: never a name or an identifier. The reference profile
    and the ``image_opened`` audit row both take them from here."""
    spacing = getattr(meta, "pixel_spacing", None)
    return {
        "view": meta.view_position,
        "manufacturer": meta.manufacturer,
        "photometric": meta.photometric,
        "patient_sex": meta.patient_sex,
        "bits_stored": meta.bits_stored,
        "rows": meta.rows,
        "columns": meta.columns,
        "pixel_spacing_mm": spacing.row_mm if spacing is not None else None,
    }


def category_value(value: Any) -> str:
    """How a category is counted: its text, stripped, at most :data:`MAX_CATEGORY_CHARS`
    characters (an audit row may hold any length; the monitor's tables are as wide as their
    longest value); ``"(empty)"`` when it has none."""
    text = str(value)[: 4 * MAX_CATEGORY_CHARS].strip() if value is not None else ""
    return text[:MAX_CATEGORY_CHARS] or "(empty)"


def numeric_value(value: Any) -> float:
    """How a numeric tag is summarised: a number (the first of a pair), NaN when absent."""
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    try:
        return float(value) if value is not None else float("nan")
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer beyond float
        return float("nan")
