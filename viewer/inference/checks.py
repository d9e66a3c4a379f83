"""Is this image one the model was made for? Header, pixel and model-input checks.

Each check is ``ok``, a ``warning`` (the score is shown with the warning, and the GUI records the
warning in the audit log) or a ``refusal`` (no score at all). Refusals are kept for images the
model cannot meaningfully score: not an image, colour, multi-frame, a lateral view for a
frontal-only model, an image too small to hold a chest, a blank, non-finite or saturated image (a
network gives a confident-looking number for a blank input; a score from a blank image must never
be shown), and pixel values outside the fixed range the bundle normalises from.

The header fields the bundle lists in its accepted inputs (modality, view, body part,
photometric interpretation, bits stored, pixel spacing) are decided by a table, the bundle's
``accepted_inputs.policy``: per field, what to do when the tag is missing and when it names
something the bundle does not list (``accept``, ``warn`` or ``refuse``). A bundle without the
table (or a field without an entry) gets :data:`DEFAULT_POLICY`: another modality, or none, is
refused (an empty modality list means the projection modalities :data:`PROJECTION_MODALITIES`);
another stated body part is refused; a merely missing optional tag is a warning, never a guess (an
empty View Position (0018,5101) or Body Part Examined (0018,0015) is common and says nothing).

Every :class:`CheckResult` carries a stable ``code`` and the ``params`` its message was made of:
``CHECK_MESSAGES[code].format(**params) == message``, so the GUI can translate by code.

Thresholds for the pixel checks (chosen so that no radiograph is ever refused: a real exposure
has a continuous grey-level histogram, and even a heavily collimated one with a wide black or
white border keeps far more than 1 % of its pixels in the anatomy):

- size: refused below ``max(MIN_SIDE_PX, input size // 4)`` pixels per side (the input size is
  the bundle's resize target); the manifest's ``min_rows``/``min_columns`` stay the warning level.
- source pixels (after the Modality LUT, PS3.3 C.11.1): refused when any value is NaN or
  infinite, when all are equal, or when one value holds more than ``SOURCE_FLAT_FRACTION``
  (99.5 %) of the pixels (padding, an empty exposure).
- the window the preprocessing starts from (stored or fixed): refused when it maps the image's
  whole value range onto less than ``WINDOW_MIN_SPREAD`` (1 %) of [0, 1] (e.g. a stored Window
  Width of 1e308, or a window beside the data).
- the preprocessed tensor (what the network sees): refused when non-finite, constant, when more
  than ``TENSOR_FLAT_FRACTION`` (99 %) of its values sit at its minimum or maximum (saturated,
  e.g. clipped by the window) or within ``TENSOR_TOLERANCE`` (0.1 % of its range) of its median.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

__all__ = [
    "CHECK_MESSAGES",
    "DEFAULT_POLICY",
    "MIN_SIDE_PX",
    "PROJECTION_MODALITIES",
    "SOURCE_FLAT_FRACTION",
    "TENSOR_FLAT_FRACTION",
    "TENSOR_TOLERANCE",
    "WINDOW_MIN_SPREAD",
    "CheckResult",
    "check_input",
    "check_input_range",
    "check_pixels",
    "check_stored_window",
    "check_tensor",
    "check_window_spread",
    "declared_input_range",
    "make_check",
    "min_side",
    "model_input_size",
    "pixel_range",
    "refusals",
    "translate",
    "warnings",
]

Level = Literal["ok", "warning", "refusal"]
Action = Literal["accept", "warn", "refuse"]

# Projection radiography, what an empty ``modalities`` list accepts: Computed and Digital
# Radiography, and "DR", which some devices write though DICOM does not define it.
PROJECTION_MODALITIES = ("CR", "DX", "DR")

# The policy for a bundle whose accepted inputs carry no table (or no entry for a field):
# field -> (when the tag is missing, when it names something the bundle does not list).
DEFAULT_POLICY: dict[str, tuple[Action, Action]] = {
    "modality": ("refuse", "refuse"),
    "body_part": ("warn", "refuse"),
    "view": ("warn", "warn"),
    "photometric": ("warn", "warn"),
    "bits_stored": ("warn", "warn"),
    "pixel_spacing": ("warn", "warn"),
}
_LEVEL: dict[str, Level] = {"accept": "ok", "warn": "warning", "refuse": "refusal"}

MONOCHROME = ("MONOCHROME1", "MONOCHROME2")
FRONTAL_VIEWS = frozenset({"PA", "AP"})
LATERAL_VIEWS = frozenset({"LL", "RL", "LAT", "LATERAL", "RLD", "LLD"})

MIN_SIDE_PX = 64
SOURCE_FLAT_FRACTION = 0.995
TENSOR_FLAT_FRACTION = 0.99
TENSOR_TOLERANCE = 1e-3
WINDOW_MIN_SPREAD = 0.01
# The most common source value is looked for on a regular grid of every ``_GRID_STEP``-th row and
# column (1/64 of the pixels); a suspicious grid is confirmed by an exact count over the whole
# image, so sampling never refuses. The step must keep the grid above 2 x (1 - SOURCE_FLAT_FRACTION)
# of the image (see :func:`check_pixels`), so that sampling can never miss a nearly blank image.
_GRID_STEP = 8

_WINDOW_TAGS = "Window Center/Width (0028,1050)/(0028,1051)"

# Every code a check produces, with its English message template (``str.format`` fields are the
# check's ``params``). The GUI translates by code; tests check that each produced message is
# exactly its template filled with its params.
CHECK_MESSAGES: dict[str, str] = {
    # image
    "not_image": "This object holds no image to score.",
    "species_other": (
        "This image is of a {value} (Patient Species, (0010,2201)/(0010,2202)); the model is "
        "for human chest radiographs only, so no score is given."
    ),
    "multi_frame": (
        "This is a multi-frame object ({frames} frames, Number of Frames (0028,0008)); "
        "the model scores single chest radiographs."
    ),
    # photometric
    "colour": (
        "This is a colour image (Photometric Interpretation (0028,0004) {photometric}, "
        "{samples} samples per pixel); the model scores greyscale radiographs only."
    ),
    "photometric_missing": (
        "Photometric Interpretation (0028,0004) is empty; MONOCHROME2 was assumed."
    ),
    "photometric_other": "The model was validated on {allowed} images; this one is {value}.",
    "photometric_ok": "{value} is accepted.",
    "photometric_missing_refused": (
        "Photometric Interpretation (0028,0004) is empty, and the model needs it stated, so no "
        "score is given."
    ),
    "photometric_refused": (
        "The model is for {allowed} images only; this one is {value}, so no score is given."
    ),
    # modality
    "modality_missing": (
        "Modality (0008,0060) is empty; check that this is a chest radiograph ({allowed})."
    ),
    "modality_missing_refused": (
        "Modality (0008,0060) is empty, so Bedside cannot tell that this is a radiograph; the "
        "model is for {allowed} radiographs only, so no score is given."
    ),
    "modality_other": (
        "This is a {value} image (Modality (0008,0060)); the model was validated on {allowed} "
        "radiographs, so its score and threshold may not hold."
    ),
    "modality_refused": (
        "This is a {value} image (Modality (0008,0060)); the model is for {allowed} "
        "radiographs only, so no score is given."
    ),
    "modality_ok": "Modality {value} is accepted.",
    # view
    "view_any": "The model accepts any view.",
    "view_missing": (
        "View Position (0018,5101) is empty, so Bedside cannot tell the view; the model was "
        "validated on {allowed} views. Check the view yourself."
    ),
    "view_ok": "View {value} is accepted.",
    "view_missing_refused": (
        "View Position (0018,5101) is empty, and the model is for {allowed} views only, so no "
        "score is given."
    ),
    "view_refused": (
        "This is a {value} view (View Position (0018,5101)); the model is for {allowed} views "
        "only, so no score is given."
    ),
    "view_lateral": (
        "This is a lateral view ({value}, View Position (0018,5101)); the model scores "
        "frontal {allowed} views only, so no score is given."
    ),
    "view_other": (
        "This is a {value} view (View Position (0018,5101)); the model was validated on "
        "{allowed} views, so its score and threshold may not hold."
    ),
    # body part
    "body_part_any": "The model accepts any body part.",
    "body_part_missing": "Body Part Examined (0018,0015) is empty; the model is for {allowed}.",
    "body_part_ok": "Body part {value} is accepted.",
    "body_part_other": "Body Part Examined (0018,0015) is {value}; the model is for {allowed}.",
    "body_part_missing_refused": (
        "Body Part Examined (0018,0015) is empty, and the model is for {allowed} only and needs "
        "it stated, so no score is given."
    ),
    "body_part_refused": (
        "This is an image of the {value} (Body Part Examined (0018,0015)); the model is for "
        "{allowed} only, so no score is given."
    ),
    # bits
    "bits_missing": "Bits Stored (0028,0101) is missing.",
    "bits_other": (
        "The image has {bits} bits stored (0028,0101); the model was validated on "
        "{low} to {high} bits."
    ),
    "bits_ok": "{bits} bits stored is accepted.",
    "bits_missing_refused": (
        "Bits Stored (0028,0101) is missing, and the model needs it, so no score is given."
    ),
    "bits_refused": (
        "The image has {bits} bits stored (0028,0101); the model is for {low} to {high} bits "
        "only, so no score is given."
    ),
    # size
    "size_too_small": (
        "The image is {columns} x {rows} pixels, below the minimum of {floor} pixels per side "
        "that any score needs, so no score is given."
    ),
    "size_small": (
        "The image is {columns} x {rows} pixels, smaller than the {min_columns} x {min_rows} "
        "the model was validated on; fine detail is missing."
    ),
    "size_ok": "{columns} x {rows} pixels is accepted.",
    # pixel spacing
    "spacing_any": "The model accepts any pixel spacing.",
    "spacing_missing": (
        "The image states no pixel spacing (Pixel Spacing (0028,0030) or Imager Pixel "
        "Spacing (0018,1164)); Bedside cannot check it against the model's range."
    ),
    "spacing_other": (
        "The pixel spacing is {row_mm} x {col_mm} mm ({source}); the model was validated on "
        "{low} to {high} mm."
    ),
    "spacing_ok": "Pixel spacing {row_mm} x {col_mm} mm ({source}) is accepted.",
    "spacing_missing_refused": (
        "The image states no pixel spacing (Pixel Spacing (0028,0030) or Imager Pixel "
        "Spacing (0018,1164)), and the model needs it, so no score is given."
    ),
    "spacing_refused": (
        "The pixel spacing is {row_mm} x {col_mm} mm ({source}); the model is for {low} to "
        "{high} mm only, so no score is given."
    ),
    # source pixels
    "pixels_non_finite": (
        "The image holds pixel values that are not numbers or infinite after the Modality LUT "
        "(Rescale Slope/Intercept (0028,1053)/(0028,1052)), so no score is given."
    ),
    "blank_image": (
        "The image is blank: every pixel has the value {value} after the Modality LUT, so "
        "there is nothing to score and no score is given."
    ),
    "nearly_blank_image": (
        "The image is almost blank: {percent} % of its pixels have the value {value} "
        "(padding or an empty exposure), so no score is given."
    ),
    "pixels_ok": "The pixel values vary ({low} to {high} after the Modality LUT).",
    "stored_out_of_range": (
        "The image's stored values run from {low} to {high}, outside 0 to {top}, the range its "
        "Bits Stored ({bits}, (0028,0101)) allows; the model reads stored values, so no score "
        "is given."
    ),
    "pixels_out_of_range": (
        "The image's pixel values run from {low} to {high} after the Modality LUT ({bits} bits "
        "stored), but the model normalises from the fixed range {in_min} to {in_max}: values "
        "outside it would be scored wrongly, so no score is given."
    ),
    "window_flat": (
        "The window the model starts from (center {center}, width {width}) maps every pixel "
        "of this image ({low} to {high} after the Modality LUT) onto almost one grey value, so "
        "the model would see a blank image; no score is given."
    ),
    # the reference profile (viewer.inference.ood)
    "out_of_distribution": (
        "This image is outside the images this model was validated on: its features lie at "
        "distance {distance} from the model's reference images, beyond {threshold} (the "
        "reference's {percentile}th percentile), so no score is given."
    ),
    "in_distribution": (
        "The image is like the images the model was validated on (distance {distance}, limit "
        "{threshold})."
    ),
    # the model's input
    "input_non_finite": (
        "The model's input holds values that are not numbers or infinite, so no score is given."
    ),
    "blank_input": (
        "After the model's preprocessing the image is flat (every value {value}): the stored "
        "window or the pixel values do not fit the model, so no score is given."
    ),
    "saturated_input": (
        "After the model's preprocessing {percent} % of the image is at its darkest or "
        "brightest value (saturated), so no score is given. Check the stored window "
        "(0028,1050)/(0028,1051) and the Rescale Slope (0028,1053)."
    ),
    "nearly_blank_input": (
        "After the model's preprocessing {percent} % of the image has one grey value, so no "
        "score is given."
    ),
    "input_ok": "The model's input is neither blank nor saturated.",
    # the stored window the bundle's preprocessing starts from
    "stored_window_ok": "The model used the stored window (center {center}, width {width}).",
    "stored_window_absent": (
        "The image has no stored window (" + _WINDOW_TAGS + "); the model used its "
        "declared fallback, the image's own minimum to maximum."
    ),
    "stored_window_missing_refused": (
        "The model needs the image's stored window (" + _WINDOW_TAGS + "), and this image "
        "has none, so no score is given."
    ),
    "stored_window_invalid_minmax": (
        "The image's stored window (" + _WINDOW_TAGS + ": center {center}, width {width}) is "
        "invalid and was ignored; the model used its fallback, the image's own minimum to "
        "maximum, so the score may differ from the validated one."
    ),
    "stored_window_invalid_next": (
        "The image's first stored window (" + _WINDOW_TAGS + ": center {center}, width "
        "{width}) is invalid and was ignored; the model used the next one (center "
        "{used_center}, width {used_width}), so the score may differ from the validated one."
    ),
    "stored_window_invalid_refused": (
        "The image's stored window (" + _WINDOW_TAGS + ": center {center}, width {width}) is "
        "invalid, and the model needs a valid stored window, so no score is given."
    ),
}


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome. ``code``/``params`` (defaulted for older callers) let a UI translate
    ``message``: ``CHECK_MESSAGES[code].format(**params) == message``."""

    name: str
    level: Level
    message: str
    code: str = ""
    params: dict[str, str] = field(default_factory=dict, hash=False, compare=True)


def make_check(name: str, level: Level, code: str, **params: Any) -> CheckResult:
    """A check whose message is its code's template filled with ``params`` (made strings)."""
    values = {k: str(v) for k, v in params.items()}
    return CheckResult(name, level, CHECK_MESSAGES[code].format(**values), code, values)


class _SpacingLike(Protocol):
    @property
    def row_mm(self) -> float: ...
    @property
    def col_mm(self) -> float: ...
    @property
    def source(self) -> str: ...


class _MetaLike(Protocol):
    """The fields of ``viewer.dicom.ImageMetadata`` the checks read."""

    @property
    def is_image(self) -> bool: ...
    @property
    def modality(self) -> str: ...
    @property
    def view_position(self) -> str: ...
    @property
    def body_part(self) -> str: ...
    @property
    def photometric(self) -> str: ...
    @property
    def samples_per_pixel(self) -> int: ...
    @property
    def number_of_frames(self) -> int: ...
    @property
    def bits_stored(self) -> int: ...
    @property
    def rows(self) -> int: ...
    @property
    def columns(self) -> int: ...
    @property
    def pixel_spacing(self) -> _SpacingLike | None: ...


class _AcceptedLike(Protocol):
    """The fields of ``viewer.bundle.manifest.AcceptedInputs``; empty lists accept anything."""

    @property
    def modalities(self) -> Sequence[str]: ...
    @property
    def views(self) -> Sequence[str]: ...
    @property
    def body_parts(self) -> Sequence[str]: ...
    @property
    def photometric(self) -> Sequence[str]: ...
    @property
    def bits_stored_min(self) -> int: ...
    @property
    def bits_stored_max(self) -> int: ...
    @property
    def pixel_spacing_mm_min(self) -> float | None: ...
    @property
    def pixel_spacing_mm_max(self) -> float | None: ...
    @property
    def min_rows(self) -> int: ...
    @property
    def min_columns(self) -> int: ...


def _norm(value: str) -> str:
    return value.strip().upper()


def _listed(values: Sequence[str]) -> str:
    return ", ".join(values)


def _action(accepted: _AcceptedLike, name: str, when: Literal["missing", "other"]) -> Action:
    """The bundle's policy for ``name`` when its tag is missing or names something else; the
    default of :data:`DEFAULT_POLICY` where the bundle's accepted inputs carry no entry."""
    entry = getattr(getattr(accepted, "policy", None), name, None)
    value = getattr(entry, when, None)
    if value in _LEVEL:
        return value  # type: ignore[no-any-return]
    missing, other = DEFAULT_POLICY[name]
    return missing if when == "missing" else other


def _decide(
    name: str,
    accepted: _AcceptedLike,
    when: Literal["missing", "other"],
    codes: tuple[str, str, str],
    **params: Any,
) -> CheckResult:
    """The check for a missing or other value: ``codes`` = (accepted, warned, refused)."""
    action = _action(accepted, name, when)
    code = codes[("accept", "warn", "refuse").index(action)]
    return make_check(name, _LEVEL[action], code, **params)


# Patient Species values that mean a human patient (the tag is normally absent for humans)
HUMAN_SPECIES = frozenset({"homo sapiens", "human", "h. sapiens", "337915000", "l-85b00"})


def _image(meta: _MetaLike) -> list[CheckResult]:
    if not meta.is_image:
        return [make_check("image", "refusal", "not_image")]
    frames = meta.number_of_frames
    if frames > 1:
        return [make_check("frames", "refusal", "multi_frame", frames=frames)]
    species = str(getattr(meta, "patient_species", "") or "").strip()
    if species and species.lower() not in HUMAN_SPECIES:
        # veterinary imaging: a dog's thorax is no human chest, whatever the other tags say
        return [make_check("species", "refusal", "species_other", value=species)]
    return []


def _photometric(meta: _MetaLike, accepted: _AcceptedLike) -> CheckResult:
    value = _norm(meta.photometric)
    if meta.samples_per_pixel != 1 or (value and value not in MONOCHROME):
        return make_check(
            "photometric",
            "refusal",
            "colour",
            photometric=meta.photometric or "empty",
            samples=meta.samples_per_pixel,
        )
    if not value:
        missing = ("photometric_missing", "photometric_missing", "photometric_missing_refused")
        return _decide("photometric", accepted, "missing", missing)
    allowed = [_norm(p) for p in accepted.photometric]
    if allowed and value not in allowed:
        other = ("photometric_ok", "photometric_other", "photometric_refused")
        return _decide(
            "photometric", accepted, "other", other, allowed=_listed(allowed), value=value
        )
    return make_check("photometric", "ok", "photometric_ok", value=value)


def _modality(meta: _MetaLike, accepted: _AcceptedLike) -> CheckResult:
    value = _norm(meta.modality)
    allowed = [_norm(m) for m in accepted.modalities] or list(PROJECTION_MODALITIES)
    if not value:
        missing = ("modality_missing", "modality_missing", "modality_missing_refused")
        return _decide("modality", accepted, "missing", missing, allowed=_listed(allowed))
    if value not in allowed:
        other = ("modality_ok", "modality_other", "modality_refused")
        return _decide("modality", accepted, "other", other, value=value, allowed=_listed(allowed))
    return make_check("modality", "ok", "modality_ok", value=value)


def _view(meta: _MetaLike, accepted: _AcceptedLike) -> CheckResult:
    value = _norm(meta.view_position)
    allowed = [_norm(v) for v in accepted.views]
    if not allowed:
        return make_check("view", "ok", "view_any")
    if not value:
        missing = ("view_missing", "view_missing", "view_missing_refused")
        return _decide("view", accepted, "missing", missing, allowed=_listed(allowed))
    if value in allowed:
        return make_check("view", "ok", "view_ok", value=value)
    if value in LATERAL_VIEWS and set(allowed) <= FRONTAL_VIEWS:
        return make_check("view", "refusal", "view_lateral", value=value, allowed=_listed(allowed))
    other = ("view_ok", "view_other", "view_refused")
    return _decide("view", accepted, "other", other, value=value, allowed=_listed(allowed))


def _body_part(meta: _MetaLike, accepted: _AcceptedLike) -> CheckResult:
    value = _norm(meta.body_part)
    allowed = [_norm(b) for b in accepted.body_parts]
    if not allowed:
        return make_check("body_part", "ok", "body_part_any")
    if not value:
        missing = ("body_part_missing", "body_part_missing", "body_part_missing_refused")
        return _decide("body_part", accepted, "missing", missing, allowed=_listed(allowed))
    if value in allowed:
        return make_check("body_part", "ok", "body_part_ok", value=value)
    other = ("body_part_ok", "body_part_other", "body_part_refused")
    return _decide("body_part", accepted, "other", other, value=value, allowed=_listed(allowed))


def _bits(meta: _MetaLike, accepted: _AcceptedLike) -> CheckResult:
    bits = meta.bits_stored
    lo, hi = accepted.bits_stored_min, accepted.bits_stored_max
    if bits <= 0:
        missing = ("bits_missing", "bits_missing", "bits_missing_refused")
        return _decide("bits_stored", accepted, "missing", missing)
    if not lo <= bits <= hi:
        other = ("bits_ok", "bits_other", "bits_refused")
        return _decide("bits_stored", accepted, "other", other, bits=bits, low=lo, high=hi)
    return make_check("bits_stored", "ok", "bits_ok", bits=bits)


def min_side(input_size: int | None) -> int:
    """The fewest pixels per side any image needs to be scored at all.

    ``MIN_SIDE_PX`` (64: no chest radiograph is smaller; a 1 x 1 "image" is a broken export),
    raised to a quarter of the model's input size for large inputs (an image blown up more than
    four times holds nothing the model was validated on).
    """
    return max(MIN_SIDE_PX, (input_size or 0) // 4)


def _size(meta: _MetaLike, accepted: _AcceptedLike, input_size: int | None) -> CheckResult:
    rows, cols = meta.rows, meta.columns
    floor = min_side(input_size)
    if rows < floor or cols < floor:
        return make_check("size", "refusal", "size_too_small", columns=cols, rows=rows, floor=floor)
    if rows < accepted.min_rows or cols < accepted.min_columns:
        return make_check(
            "size",
            "warning",
            "size_small",
            columns=cols,
            rows=rows,
            min_columns=accepted.min_columns,
            min_rows=accepted.min_rows,
        )
    return make_check("size", "ok", "size_ok", columns=cols, rows=rows)


def _spacing(meta: _MetaLike, accepted: _AcceptedLike) -> CheckResult:
    lo, hi = accepted.pixel_spacing_mm_min, accepted.pixel_spacing_mm_max
    if lo is None and hi is None:
        return make_check("pixel_spacing", "ok", "spacing_any")
    spacing = meta.pixel_spacing
    if spacing is None:
        missing = ("spacing_missing", "spacing_missing", "spacing_missing_refused")
        return _decide("pixel_spacing", accepted, "missing", missing)
    values = (spacing.row_mm, spacing.col_mm)
    low_ok = lo is None or min(values) >= lo
    high_ok = hi is None or max(values) <= hi
    given = {
        "row_mm": f"{spacing.row_mm:g}",
        "col_mm": f"{spacing.col_mm:g}",
        "source": spacing.source,
    }
    if not (low_ok and high_ok):
        other = ("spacing_ok", "spacing_other", "spacing_refused")
        return _decide(
            "pixel_spacing",
            accepted,
            "other",
            other,
            **given,
            low=f"{lo if lo is not None else 0:g}",
            high=f"{hi if hi is not None else float('inf'):g}",
        )
    return make_check("pixel_spacing", "ok", "spacing_ok", **given)


def check_input(
    meta: _MetaLike, accepted: _AcceptedLike, *, input_size: int | None = None
) -> list[CheckResult]:
    """All header checks for one image, in a fixed order (the bundle's policy decides which
    missing or other values refuse; after "not an image" nothing else is checked).

    ``input_size`` (the bundle's resize target, see :func:`model_input_size`) sets the size
    below which the image is refused (:func:`min_side`).
    """
    first = _image(meta)
    if first and first[0].name == "image":
        return first
    return [
        *first,
        _photometric(meta, accepted),
        _modality(meta, accepted),
        _view(meta, accepted),
        _body_part(meta, accepted),
        _bits(meta, accepted),
        _size(meta, accepted, input_size),
        _spacing(meta, accepted),
    ]


def model_input_size(steps: Sequence[Any]) -> int | None:
    """The last ``resize`` step's size in a bundle's preprocessing, if any."""
    size = None
    for step in steps:
        if getattr(step, "op", None) == "resize":
            size = int(step.size)
    return size


def declared_input_range(steps: Sequence[Any]) -> tuple[float, float] | None:
    """The fixed range of values a bundle's preprocessing is made for, if it declares one.

    A ``modality`` source (values after the Modality LUT, unwindowed) normalised by a
    ``fixed_range`` step (``in_min`` .. ``in_max``, e.g. 0..255 for an 8-bit model) scores
    values outside that range as if they were inside it: a 10-bit image through a 0..255 model
    is silently off. Steps between that keep values within the image's range (inversion,
    square, resize, channels, dtype) do not change this; any other normalisation first, or a
    window source (which maps any range onto [0, 1]), declares no fixed range: ``None``.
    """
    if not steps or getattr(steps[0], "op", None) != "source":
        return None
    if getattr(steps[0], "pixels", None) != "modality":
        return None
    for step in steps[1:]:
        if getattr(step, "op", None) != "normalize":
            continue
        if getattr(step, "method", None) != "fixed_range":
            return None
        return float(step.in_min), float(step.in_max)
    return None


def check_stored_range(stored: np.ndarray, bits: int | None) -> CheckResult | None:
    """Refuse stored values outside 0 .. 2**BitsStored - 1 (PS3.3 C.7.6.3.1) for a bundle that
    reads stored values (``source pixels=stored``): its normalisation takes Bits Stored at its
    word. ``None`` when they fit or Bits Stored is not known."""
    if bits is None:
        return None
    top = float(2**bits - 1)
    lo, hi = float(np.min(stored)), float(np.max(stored))
    if lo >= 0.0 and hi <= top:
        return None
    return make_check(
        "input_range", "refusal", "stored_out_of_range", low=_g(lo), high=_g(hi),
        top=_g(top), bits=bits,
    )  # fmt: skip


def check_input_range(
    value_range: tuple[float, float], declared: tuple[float, float] | None, *, bits: int
) -> CheckResult | None:
    """Refuse an image with values outside the bundle's fixed input range
    (:func:`declared_input_range`); ``None`` when the bundle declares none or all fit."""
    lo, hi = value_range
    if declared is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    if lo >= declared[0] and hi <= declared[1]:
        return None
    return make_check(
        "input_range",
        "refusal",
        "pixels_out_of_range",
        low=_g(lo),
        high=_g(hi),
        bits=bits if bits > 0 else "?",
        in_min=_g(declared[0]),
        in_max=_g(declared[1]),
    )


# ----------------------------------------------------------------------------- pixels


def _g(value: float) -> str:
    return f"{value:.6g}"


def _percent(fraction: float) -> str:
    """Rounded down to one decimal, so 99.96 % of pixels never reads as "100"."""
    return f"{math.floor(fraction * 1000.0) / 10.0:.1f}"


def _grid(x: np.ndarray) -> np.ndarray:
    return x[::_GRID_STEP, ::_GRID_STEP]


def pixel_range(pixels: np.ndarray) -> tuple[float, float]:
    """(min, max) of an image as floats; NaN anywhere makes both NaN, which the checks refuse.

    A float32 image (what :class:`~viewer.inference.preprocess.ModelInput` holds) is read once
    by torch's ``aminmax`` on its intra-op threads, where numpy reads it twice on one core;
    min and max are exact either way.
    """
    x = np.asarray(pixels)
    # torch takes native float32 memory it may write to (it warns on read-only arrays)
    if x.dtype == np.float32 and x.size > 0 and x.flags.writeable:
        import torch

        lo, hi = torch.aminmax(torch.from_numpy(np.ascontiguousarray(x)))
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            lo, hi = x.min(), x.max()
    # + 0.0 turns -0.0 into 0.0: which zero a minimum returns differs between the two paths
    return float(lo) + 0.0, float(hi) + 0.0


def check_pixels(
    pixels: np.ndarray, *, value_range: tuple[float, float] | None = None
) -> CheckResult:
    """The source image (2-D, after the Modality LUT): refused when non-finite or (nearly) blank.

    Costs one min/max pass over the image (skipped when ``value_range`` from
    :func:`pixel_range` is given) plus a sort of the grid's samples (1/64 of the pixels). The exact
    count over the whole image runs when the grid's commonest value could be one that holds more
    than ``SOURCE_FLAT_FRACTION`` of the image. That bound is exact, not statistical: the other
    pixels of such an image, wherever they sit, can cover at most ``(1 - F) * N`` of the ``G``
    grid samples, so its value covers at least ``G - (1 - F) * N`` of them, which is more than
    half the grid (``G > 2 (1 - F) N``), and so it is the grid's commonest value. A heavily
    collimated radiograph with a border over about 68 % of the grid pays one extra count.
    """
    x = np.asarray(pixels)
    lo, hi = value_range if value_range is not None else pixel_range(x)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return make_check("pixels", "refusal", "pixels_non_finite")
    if hi == lo:
        return make_check("pixels", "refusal", "blank_image", value=_g(lo))
    values, counts = np.unique(_grid(x), return_counts=True)
    top = int(np.argmax(counts))
    others_at_most = math.floor((1.0 - SOURCE_FLAT_FRACTION) * x.size)
    if counts[top] >= int(counts.sum()) - others_at_most:
        mode = values[top]
        fraction = int(np.count_nonzero(x == mode)) / x.size
        if fraction > SOURCE_FLAT_FRACTION:
            return make_check(
                "pixels",
                "refusal",
                "nearly_blank_image",
                percent=_percent(fraction),
                value=_g(float(mode)),
            )
    return make_check("pixels", "ok", "pixels_ok", low=_g(lo), high=_g(hi))


def _linear(value: float, center: float, width: float) -> float:
    """PS3.3 C.11.2.1.2.1 LINEAR onto [0, 1], in float64 (what preprocessing's window does)."""
    if width <= 1.0:
        return 1.0 if value > center - 0.5 else 0.0
    return min(1.0, max(0.0, (value - (center - 0.5)) / (width - 1.0) + 0.5))


def check_window_spread(
    value_range: tuple[float, float], window: tuple[float, float] | None
) -> CheckResult | None:
    """Refuse when the window the preprocessing starts from flattens the whole image.

    The LINEAR window is monotonic, so the image's (min, max) gives the exact range of the
    windowed image: less than ``WINDOW_MIN_SPREAD`` (1 % of the output range, i.e. a window
    about 100 times wider than the image's values, or one entirely beside them) leaves nothing
    to score. ``None`` when no window is applied (or the pixels are not finite: checked
    elsewhere).
    """
    lo, hi = value_range
    if window is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    center, width = window
    spread = _linear(hi, center, width) - _linear(lo, center, width)
    if spread < WINDOW_MIN_SPREAD:
        return make_check(
            "window",
            "refusal",
            "window_flat",
            center=_g(center),
            width=_g(width),
            low=_g(lo),
            high=_g(hi),
        )
    return None


def check_tensor(tensor: np.ndarray) -> CheckResult:
    """The preprocessed network input (C, H, W): refused when non-finite, flat or saturated.

    The first channel is judged: the ``channels`` step copies the grey channel and ``mean_std``
    maps each copy affinely, so every channel has the same shape of histogram.
    """
    t = np.asarray(tensor)
    if not np.isfinite(t).all():
        return make_check("model_input", "refusal", "input_non_finite")
    x = t.reshape(-1, t.shape[-2] * t.shape[-1])[0] if t.ndim >= 2 else t.reshape(-1)
    lo, hi = float(x.min()), float(x.max())
    spread = hi - lo
    if spread <= 1e-6 * max(1.0, abs(lo), abs(hi)):
        return make_check("model_input", "refusal", "blank_input", value=_g(lo))
    tol = TENSOR_TOLERANCE * spread
    n = x.size
    at_bounds = (int(np.count_nonzero(x <= lo + tol)) + int(np.count_nonzero(x >= hi - tol))) / n
    if at_bounds > TENSOR_FLAT_FRACTION:
        return make_check("model_input", "refusal", "saturated_input", percent=_percent(at_bounds))
    median = float(np.median(x))
    near = int(np.count_nonzero(np.abs(x - np.float32(median)) <= tol)) / n
    if near > TENSOR_FLAT_FRACTION:
        return make_check("model_input", "refusal", "nearly_blank_input", percent=_percent(near))
    return make_check("model_input", "ok", "input_ok")


# ----------------------------------------------------------------------------- stored window


def _first_raw(header: Any, keyword: str) -> str | None:
    """The first value of a header attribute as written, or None when absent/empty."""
    if header is None:
        return None
    try:
        value = header.get(keyword)
    except Exception:  # an unparsable value still counts as declared
        return "?"
    if value is None or value == "":
        return None
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if isinstance(value, str):
        value = value.split("\\")[0]
    elif isinstance(value, Sequence):
        if len(value) == 0:
            return None
        value = value[0]
    text = str(value).strip()[:32]
    return text or "?"


def _parse(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def check_stored_window(
    image: Any, source: Any, used: tuple[float, float] | None
) -> CheckResult | None:
    """When the bundle starts from the stored window: was the one it meant actually used?

    ``source`` is the bundle's ``source`` step, ``used`` the window preprocessing will apply
    (``ModelInput.window``). The reader drops an invalid Window Center/Width (width below 1,
    NaN, infinity); the preprocessing then silently takes the next stored window or its
    ``if_missing`` fallback, which is not what the model was validated with: a warning, or a
    refusal when the bundle's ``if_missing`` is ``refuse``. ``None`` when the bundle does not
    use the stored window.
    """
    if getattr(source, "pixels", None) != "stored_window":
        return None
    refuse = getattr(source, "if_missing", None) != "minmax"
    header = getattr(image, "header", None)
    center = _first_raw(header, "WindowCenter")
    width = _first_raw(header, "WindowWidth")
    declared = center is not None or width is not None
    if header is None:  # no header to look at: the reader's notes say whether one was dropped
        notes = [str(n) for n in getattr(image, "notes", ())]
        declared = any("stored window" in n or "Window Center/Width" in n for n in notes)
    first = (_parse(center), _parse(width))
    first_used = used is not None and first == used
    if declared and not first_used:
        shown = {"center": center or "(none)", "width": width or "(none)"}
        if used is not None:
            return make_check(
                "stored_window",
                "warning",
                "stored_window_invalid_next",
                **shown,
                used_center=_g(used[0]),
                used_width=_g(used[1]),
            )
        if refuse:
            return make_check("stored_window", "refusal", "stored_window_invalid_refused", **shown)
        return make_check("stored_window", "warning", "stored_window_invalid_minmax", **shown)
    if used is not None:
        return make_check(
            "stored_window", "ok", "stored_window_ok", center=_g(used[0]), width=_g(used[1])
        )
    if refuse:
        return make_check("stored_window", "refusal", "stored_window_missing_refused")
    return make_check("stored_window", "ok", "stored_window_absent")


def refusals(checks: Sequence[CheckResult]) -> list[CheckResult]:
    return [c for c in checks if c.level == "refusal"]


def warnings(checks: Sequence[CheckResult]) -> list[CheckResult]:
    return [c for c in checks if c.level == "warning"]


def translate(check: CheckResult, templates: Mapping[str, str]) -> str:
    """``check``'s message in another language: ``templates[code]`` filled with its params;
    the English message when the code has no translation (or the template does not fit)."""
    template = templates.get(check.code) if check.code else None
    if not template:
        return check.message
    try:
        return template.format(**check.params)
    except (KeyError, IndexError, ValueError):
        return check.message
