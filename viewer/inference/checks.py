"""Is this image one the model was made for? Header checks against the bundle's accepted inputs.

Each check is ``ok``, a ``warning`` (the score is shown with the warning, and the GUI records the
warning in the audit log) or a ``refusal`` (no score at all). Refusals are kept for images the
model cannot meaningfully score: not an image, colour, multi-frame, another modality (CT, MR ...),
a lateral view for a frontal-only model. A missing tag is a warning, never a guess: an empty View
Position (0018,5101) is common and says nothing about the view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = ["CheckResult", "check_input", "refusals", "warnings"]

Level = Literal["ok", "warning", "refusal"]

MONOCHROME = ("MONOCHROME1", "MONOCHROME2")
FRONTAL_VIEWS = frozenset({"PA", "AP"})
LATERAL_VIEWS = frozenset({"LL", "RL", "LAT", "LATERAL", "RLD", "LLD"})


@dataclass(frozen=True)
class CheckResult:
    name: str
    level: Level
    message: str


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


def _image(meta: _MetaLike) -> list[CheckResult]:
    if not meta.is_image:
        return [CheckResult("image", "refusal", "This object holds no image to score.")]
    frames = meta.number_of_frames
    if frames > 1:
        return [
            CheckResult(
                "frames",
                "refusal",
                f"This is a multi-frame object ({frames} frames, Number of Frames (0028,0008)); "
                "the model scores single chest radiographs.",
            )
        ]
    return []


def _photometric(meta: _MetaLike, accepted: _AcceptedLike) -> CheckResult:
    value = _norm(meta.photometric)
    if meta.samples_per_pixel != 1 or (value and value not in MONOCHROME):
        return CheckResult(
            "photometric",
            "refusal",
            f"This is a colour image (Photometric Interpretation (0028,0004) "
            f"{meta.photometric or 'empty'}, {meta.samples_per_pixel} samples per pixel); "
            "the model scores greyscale radiographs only.",
        )
    if not value:
        return CheckResult(
            "photometric",
            "warning",
            "Photometric Interpretation (0028,0004) is empty; MONOCHROME2 was assumed.",
        )
    allowed = [_norm(p) for p in accepted.photometric]
    if allowed and value not in allowed:
        return CheckResult(
            "photometric",
            "warning",
            f"The model was validated on {_listed(allowed)} images; this one is {value}.",
        )
    return CheckResult("photometric", "ok", f"{value} is accepted.")


def _modality(meta: _MetaLike, accepted: _AcceptedLike) -> CheckResult:
    value = _norm(meta.modality)
    allowed = [_norm(m) for m in accepted.modalities]
    if not value:
        return CheckResult(
            "modality",
            "warning",
            "Modality (0008,0060) is empty; check that this is a chest radiograph "
            + (f"({_listed(allowed)})." if allowed else "."),
        )
    if allowed and value not in allowed:
        return CheckResult(
            "modality",
            "refusal",
            f"This is a {value} image (Modality (0008,0060)); the model is for "
            f"{_listed(allowed)} radiographs only, so no score is given.",
        )
    return CheckResult("modality", "ok", f"Modality {value} is accepted.")


def _view(meta: _MetaLike, accepted: _AcceptedLike) -> CheckResult:
    value = _norm(meta.view_position)
    allowed = [_norm(v) for v in accepted.views]
    if not allowed:
        return CheckResult("view", "ok", "The model accepts any view.")
    if not value:
        return CheckResult(
            "view",
            "warning",
            "View Position (0018,5101) is empty, so Bedside cannot tell the view; the model "
            f"was validated on {_listed(allowed)} views. Check the view yourself.",
        )
    if value in allowed:
        return CheckResult("view", "ok", f"View {value} is accepted.")
    if value in LATERAL_VIEWS and set(allowed) <= FRONTAL_VIEWS:
        return CheckResult(
            "view",
            "refusal",
            f"This is a lateral view ({value}, View Position (0018,5101)); the model scores "
            f"frontal {_listed(allowed)} views only, so no score is given.",
        )
    return CheckResult(
        "view",
        "warning",
        f"This is a {value} view (View Position (0018,5101)); the model was validated on "
        f"{_listed(allowed)} views, so its score and threshold may not hold.",
    )


def _body_part(meta: _MetaLike, accepted: _AcceptedLike) -> CheckResult:
    value = _norm(meta.body_part)
    allowed = [_norm(b) for b in accepted.body_parts]
    if not allowed:
        return CheckResult("body_part", "ok", "The model accepts any body part.")
    if not value:
        return CheckResult(
            "body_part",
            "warning",
            f"Body Part Examined (0018,0015) is empty; the model is for {_listed(allowed)}.",
        )
    if value in allowed:
        return CheckResult("body_part", "ok", f"Body part {value} is accepted.")
    return CheckResult(
        "body_part",
        "warning",
        f"Body Part Examined (0018,0015) is {value}; the model is for {_listed(allowed)}.",
    )


def _bits(meta: _MetaLike, accepted: _AcceptedLike) -> CheckResult:
    bits = meta.bits_stored
    lo, hi = accepted.bits_stored_min, accepted.bits_stored_max
    if bits <= 0:
        return CheckResult("bits_stored", "warning", "Bits Stored (0028,0101) is missing.")
    if not lo <= bits <= hi:
        return CheckResult(
            "bits_stored",
            "warning",
            f"The image has {bits} bits stored (0028,0101); the model was validated on "
            f"{lo} to {hi} bits.",
        )
    return CheckResult("bits_stored", "ok", f"{bits} bits stored is accepted.")


def _size(meta: _MetaLike, accepted: _AcceptedLike) -> CheckResult:
    rows, cols = meta.rows, meta.columns
    if rows < accepted.min_rows or cols < accepted.min_columns:
        return CheckResult(
            "size",
            "warning",
            f"The image is {cols} x {rows} pixels, smaller than the {accepted.min_columns} x "
            f"{accepted.min_rows} the model was validated on; fine detail is missing.",
        )
    return CheckResult("size", "ok", f"{cols} x {rows} pixels is accepted.")


def _spacing(meta: _MetaLike, accepted: _AcceptedLike) -> CheckResult:
    lo, hi = accepted.pixel_spacing_mm_min, accepted.pixel_spacing_mm_max
    if lo is None and hi is None:
        return CheckResult("pixel_spacing", "ok", "The model accepts any pixel spacing.")
    spacing = meta.pixel_spacing
    if spacing is None:
        return CheckResult(
            "pixel_spacing",
            "warning",
            "The image states no pixel spacing (Pixel Spacing (0028,0030) or Imager Pixel "
            "Spacing (0018,1164)); Bedside cannot check it against the model's range.",
        )
    values = (spacing.row_mm, spacing.col_mm)
    low_ok = lo is None or min(values) >= lo
    high_ok = hi is None or max(values) <= hi
    text = f"{spacing.row_mm:g} x {spacing.col_mm:g} mm ({spacing.source})"
    if not (low_ok and high_ok):
        rng = f"{lo if lo is not None else 0:g} to {hi if hi is not None else float('inf'):g} mm"
        return CheckResult(
            "pixel_spacing",
            "warning",
            f"The pixel spacing is {text}; the model was validated on {rng}.",
        )
    return CheckResult("pixel_spacing", "ok", f"Pixel spacing {text} is accepted.")


def check_input(meta: _MetaLike, accepted: _AcceptedLike) -> list[CheckResult]:
    """All checks for one image, in a fixed order; refusals first when the object is no image."""
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
        _size(meta, accepted),
        _spacing(meta, accepted),
    ]


def refusals(checks: Sequence[CheckResult]) -> list[CheckResult]:
    return [c for c in checks if c.level == "refusal"]


def warnings(checks: Sequence[CheckResult]) -> list[CheckResult]:
    return [c for c in checks if c.level == "warning"]
