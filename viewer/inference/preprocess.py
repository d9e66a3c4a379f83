"""The stored preprocessing: an ordered list of declared operations, applied exactly.

The same weights give a different answer when the resize, the normalisation or the window drift
from what was validated, so a bundle declares every step and this module is the only code path
that applies them: ``bedside bundle create`` uses it to compute the self-test and the viewer uses
it to score. An operation or parameter this viewer does not know refuses the bundle at load
(:func:`validate_steps`), never at the first image.

Numeric conventions (part of what a bundle means, do not change lightly):

- Arrays are float32 throughout; scalar parameters enter array arithmetic as float32 (numpy 2
  weak-scalar rules). Percentiles are computed with ``numpy.percentile(method="linear")``.
- ``resize`` is ``torch.nn.functional.interpolate(align_corners=False)`` on float32, the same call
  torchvision's ``Resize`` makes on tensors, so a model trained with torchvision is fed the same
  numbers. ``antialias`` must be declared; it is only allowed for bilinear, bicubic and
  ``skimage-linear``. ``skimage-linear`` is scikit-image's ``transform.resize`` (order 1,
  ``mode="constant"``, ``preserve_range=True``, clip), what TorchXRayVision's ``XRayResizer``
  calls, computed here in float64 with numpy and torch (no scikit-image in the app).
- Windows follow the DICOM LINEAR function (PS3.3 C.11.2.1.2.1) onto [0, 1].

Only numpy is imported at module level; torch is imported by the window and ``resize`` when
they run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from viewer.errors import BundleError, InferenceError

__all__ = [
    "CenterCropStep",
    "ChannelsStep",
    "DtypeStep",
    "Geometry",
    "InvertMonochrome1Step",
    "ModelInput",
    "NonFiniteInputError",
    "NormalizeStep",
    "PreprocessStep",
    "ResizeStep",
    "SourceStep",
    "SquareStep",
    "preprocess",
    "preprocess_with_geometry",
    "validate_steps",
]

MAX_RESIZE = 4096
MAX_CHANNELS = 4


class NonFiniteInputError(InferenceError):
    """Preprocessing produced NaN or infinity: the image cannot be scored."""


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SourceStep(_Step):
    """Which pixel data preprocessing starts from.

    ``modality``: values after the Modality LUT (PS3.3 C.11.1), unwindowed.
    ``stored_window``: the image's first stored Window Center/Width (0028,1050/1051) applied with
    the LINEAR function onto [0, 1]; ``if_missing`` says what to do when the image has none
    (``refuse`` scores nothing; ``minmax`` windows over the image's own range).
    ``fixed_window``: the declared ``center``/``width`` onto [0, 1].
    ``stored``: the stored pixel values as decoded (no Modality LUT, no window), what
    TorchXRayVision's ``read_xray_dcm`` reads; their nominal range is 0 .. 2**BitsStored - 1
    and an image with a value outside it (signed data, stray high bits) is not scored.
    """

    op: Literal["source"]
    pixels: Literal["modality", "stored_window", "fixed_window", "stored"]
    center: float | None = None
    width: float | None = Field(default=None, gt=1.0)
    if_missing: Literal["refuse", "minmax"] | None = None

    @model_validator(mode="after")
    def _params(self) -> SourceStep:
        fixed = self.pixels == "fixed_window"
        if fixed and (self.center is None or self.width is None):
            raise ValueError("fixed_window needs 'center' and 'width'")
        if not fixed and (self.center is not None or self.width is not None):
            raise ValueError(f"'center'/'width' are only for fixed_window, not {self.pixels}")
        if self.if_missing is not None and self.pixels != "stored_window":
            raise ValueError("'if_missing' is only for stored_window")
        if self.center is not None and not math.isfinite(self.center):
            raise ValueError("'center' must be finite")
        if self.width is not None and not math.isfinite(self.width):
            raise ValueError("'width' must be finite")
        return self


class InvertMonochrome1Step(_Step):
    """Invert MONOCHROME1 images (PS3.3 C.7.6.3.1.2) so that bone is bright for every input.

    Over a known range [lo, hi] the inversion is ``lo + hi - x``: ``1 - x`` after a window
    (the DICOM order: inversion after the VOI step), ``out_min + out_max - x`` after a bounded
    normalisation (minmax, percentile, clipped fixed_range). On unwindowed modality values, or
    after an unbounded normalisation, it is ``min + max - x`` over the image, which maps the
    image's range onto itself. MONOCHROME2 images pass unchanged.
    """

    op: Literal["invert_monochrome1"]


class SquareStep(_Step):
    """Centre crop to the short side or centre pad to the long side (odd remainders go last)."""

    op: Literal["square"]
    mode: Literal["crop", "pad"]
    pad_value: Literal["min"] | float = "min"

    @model_validator(mode="after")
    def _params(self) -> SquareStep:
        if isinstance(self.pad_value, float) and not math.isfinite(self.pad_value):
            raise ValueError("'pad_value' must be finite")
        return self


class CenterCropStep(_Step):
    """Centre crop to the short side with a declared offset rounding.

    ``floor_halves``: the first kept row is ``rows // 2 - side // 2`` (and so for columns), the
    rounding of TorchXRayVision's ``XRayCenterCrop``; it differs by one pixel from ``square``'s
    ``(rows - side) // 2`` when the long side is odd and the short side even.
    """

    op: Literal["center_crop"]
    offset: Literal["floor_halves"]


class ResizeStep(_Step):
    """Resize to ``size`` x ``size``.

    With torch's interpolate (align_corners=False): ``nearest`` is torch's legacy ``nearest``
    (what torchvision's NEAREST calls); ``nearest-exact`` is the pixel-centre correct one;
    ``area`` is adaptive average pooling.

    ``skimage-linear`` is scikit-image's ``resize(order=1, mode="constant", cval=0,
    preserve_range=True, clip=True)``: with ``antialias`` (scikit-image's default when
    shrinking) a Gaussian pre-filter of sigma ``max(0, (in / out - 1) / 2)`` per axis, truncated
    at 4 sigma, with zeros beyond the edges; then linear interpolation at pixel centres
    (``(out + 0.5) * in / out - 0.5``) with zeros beyond the edges; then the result clipped to
    the input's range (widened to 0 when the zeros reached it).
    """

    op: Literal["resize"]
    size: int = Field(ge=8, le=MAX_RESIZE)
    interpolation: Literal[
        "bilinear", "bicubic", "area", "nearest", "nearest-exact", "skimage-linear"
    ]
    antialias: bool

    @model_validator(mode="after")
    def _params(self) -> ResizeStep:
        if self.antialias and self.interpolation not in ("bilinear", "bicubic", "skimage-linear"):
            raise ValueError(
                "antialias is only defined for bilinear, bicubic and skimage-linear, "
                f"not {self.interpolation}"
            )
        return self


_NORMALIZE_PARAMS: dict[str, tuple[set[str], set[str]]] = {
    # method: (required, optional)
    "minmax": (set(), {"out_min", "out_max"}),
    "percentile": ({"lower", "upper"}, {"out_min", "out_max"}),
    "fixed_range": ({"in_min", "in_max", "out_min", "out_max"}, {"clip"}),
    "bits_stored": ({"out_min", "out_max"}, set()),
    "mean_std": ({"mean", "std"}, set()),
}


_NORMALIZE_FIELDS = (
    "lower",
    "upper",
    "in_min",
    "in_max",
    "out_min",
    "out_max",
    "clip",
    "mean",
    "std",
)


class NormalizeStep(_Step):
    """Intensity normalisation.

    ``minmax``: image min..max onto out_min..out_max (default 0..1); a constant image gives
    out_min. ``percentile``: clip to the lower/upper percentiles, then onto out_min..out_max.
    ``fixed_range``: in_min..in_max onto out_min..out_max, optionally clipped (torchxrayvision:
    0..255 onto -1024..1024). ``mean_std``: (x - mean) / std, scalars or one per channel.
    ``bits_stored``: 0 .. 2**BitsStored - 1 of the image being scored onto out_min..out_max
    (TorchXRayVision's ``normalize(img, 2**BitsStored - 1)``: -1024..1024); only after a
    ``stored`` source, so an 8-bit and a 12-bit image both fill the range they can hold.
    """

    op: Literal["normalize"]
    method: Literal["minmax", "percentile", "fixed_range", "mean_std", "bits_stored"]
    lower: float | None = Field(default=None, ge=0.0, le=100.0)
    upper: float | None = Field(default=None, ge=0.0, le=100.0)
    in_min: float | None = None
    in_max: float | None = None
    out_min: float | None = None
    out_max: float | None = None
    clip: bool | None = None
    mean: float | list[float] | None = None
    std: float | list[float] | None = None

    @model_validator(mode="after")
    def _params(self) -> NormalizeStep:
        required, optional = _NORMALIZE_PARAMS[self.method]
        given = {name for name in _NORMALIZE_FIELDS if getattr(self, name) is not None}
        missing = required - given
        if missing:
            raise ValueError(f"normalize '{self.method}' needs {', '.join(sorted(missing))}")
        extra = given - required - optional
        if extra:
            raise ValueError(f"normalize '{self.method}' does not take {', '.join(sorted(extra))}")
        for name in given - {"clip", "mean", "std"}:
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"'{name}' must be finite")
        if self.lower is not None and self.upper is not None and not self.lower < self.upper:
            raise ValueError("'lower' must be below 'upper'")
        if self.in_min is not None and self.in_max is not None and not self.in_min < self.in_max:
            raise ValueError("'in_min' must be below 'in_max'")
        if self.method == "mean_std":
            means = self.mean if isinstance(self.mean, list) else [self.mean]
            stds = self.std if isinstance(self.std, list) else [self.std]
            if isinstance(self.mean, list) != isinstance(self.std, list) or len(means) != len(stds):
                raise ValueError("'mean' and 'std' must both be numbers or lists of one length")
            if not means or len(means) > MAX_CHANNELS:
                raise ValueError(f"'mean'/'std' lists hold 1 to {MAX_CHANNELS} values")
            if not all(m is not None and math.isfinite(m) for m in means):
                raise ValueError("'mean' must be finite")
            if not all(s is not None and math.isfinite(s) and s > 0 for s in stds):
                raise ValueError("'std' must be positive")
        return self


class ChannelsStep(_Step):
    """Replicate the single grey channel ``count`` times (e.g. 3 for ImageNet-style weights)."""

    op: Literal["channels"]
    count: int = Field(ge=1, le=MAX_CHANNELS)


class DtypeStep(_Step):
    """The tensor dtype the network takes. Only float32 is defined."""

    op: Literal["dtype"]
    dtype: Literal["float32"]


PreprocessStep = Annotated[
    SourceStep
    | InvertMonochrome1Step
    | SquareStep
    | CenterCropStep
    | ResizeStep
    | NormalizeStep
    | ChannelsStep
    | DtypeStep,
    Field(discriminator="op"),
]

_STEPS_ADAPTER: TypeAdapter[list[PreprocessStep]] = TypeAdapter(list[PreprocessStep])
KNOWN_OPS = (
    "source",
    "invert_monochrome1",
    "square",
    "center_crop",
    "resize",
    "normalize",
    "channels",
    "dtype",
)


def _describe(error: ValidationError, raw: Sequence[Any]) -> str:
    parts = []
    for item in error.errors():
        loc = list(item["loc"])
        where = ""
        if loc and isinstance(loc[0], int):
            index = loc[0]
            op = raw[index].get("op") if isinstance(raw[index], Mapping) else None
            where = f"step {index + 1} ({op})" if op else f"step {index + 1}"
            # loc[1] is the union tag; the rest names the field
            fields = [str(x) for x in loc[2:]]
            if fields:
                where += f", field '{'.'.join(fields)}'"
        if item["type"] == "union_tag_invalid":
            parts.append(
                f"{where}: unknown operation {item['input'].get('op')!r} "
                f"(this viewer knows: {', '.join(KNOWN_OPS)})"
            )
        elif item["type"] == "union_tag_not_found":
            parts.append(f"{where}: no 'op'")
        elif item["type"] == "extra_forbidden":
            parts.append(f"{where}: unknown parameter")
        else:
            msg = item["msg"].removeprefix("Value error, ")
            parts.append(f"{where}: {msg}")
    return "; ".join(parts)


def validate_steps(raw: Sequence[Any]) -> list[PreprocessStep]:
    """Parse a manifest's preprocessing list; anything unknown refuses the bundle.

    Beyond each step's own parameters: the first step must be ``source`` (there is no implicit
    starting point) and ``source`` may appear only once.
    """
    if not isinstance(raw, list | tuple):
        raise BundleError(
            "The bundle's preprocessing is not a list of steps.", code="preprocessing"
        )
    try:
        steps = _STEPS_ADAPTER.validate_python(list(raw))
    except ValidationError as exc:
        raise BundleError(
            f"The bundle's preprocessing cannot be applied by this viewer: {_describe(exc, raw)}.",
            code="preprocessing",
        ) from exc
    check_order(steps)
    return steps


def check_order(steps: Sequence[PreprocessStep]) -> None:
    """Structural rules on an already parsed list (also run by :func:`preprocess`)."""
    if not steps or not isinstance(steps[0], SourceStep):
        raise BundleError(
            "The bundle's preprocessing must start with a 'source' step.", code="preprocessing"
        )
    if sum(isinstance(s, SourceStep) for s in steps) != 1:
        raise BundleError(
            "The bundle's preprocessing has more than one 'source' step.", code="preprocessing"
        )
    stored = steps[0].pixels == "stored"
    for step in steps:
        if isinstance(step, NormalizeStep) and step.method == "bits_stored" and not stored:
            raise BundleError(
                "The bundle's 'bits_stored' normalisation needs a 'stored' source.",
                code="preprocessing",
            )


def uses_stored(steps: Sequence[PreprocessStep]) -> bool:
    """Whether the preprocessing starts from the stored values (so a self-test stores them)."""
    return bool(steps) and isinstance(steps[0], SourceStep) and steps[0].pixels == "stored"


# ----------------------------------------------------------------------------- input


class _WindowLike(Protocol):
    @property
    def center(self) -> float: ...
    @property
    def width(self) -> float: ...


class _MetaLike(Protocol):
    @property
    def photometric(self) -> str: ...


class _ImageLike(Protocol):
    """What :meth:`ModelInput.from_image` needs of ``viewer.dicom.DicomImage``."""

    @property
    def meta(self) -> _MetaLike: ...
    @property
    def modality(self) -> np.ndarray: ...
    @property
    def windows(self) -> tuple[_WindowLike, ...]: ...


_PHOTOMETRIC_CODES = {"MONOCHROME2": 2, "MONOCHROME1": 1}


@dataclass
class ModelInput:
    """What preprocessing starts from; also what a bundle's self-test stores.

    ``pixels`` are float32 values after the Modality LUT; ``window`` is the image's first stored
    (center, width), if any. ``stored`` (the decoded stored values, before the Modality LUT) and
    ``bits_stored`` (0028,0101) are what a ``stored`` source starts from.
    """

    pixels: np.ndarray
    photometric: str
    window: tuple[float, float] | None = None
    stored: np.ndarray | None = None
    bits_stored: int | None = None

    def __post_init__(self) -> None:
        pixels = np.asarray(self.pixels)
        if pixels.ndim != 2 or pixels.shape[0] < 1 or pixels.shape[1] < 1:
            raise InferenceError(
                f"The model needs one 2-D grey image; this one has shape {pixels.shape}."
            )
        self.pixels = np.ascontiguousarray(pixels, dtype=np.float32)
        if self.photometric not in _PHOTOMETRIC_CODES:
            raise InferenceError(
                f"The model takes MONOCHROME1 or MONOCHROME2 images, not {self.photometric!r}."
            )
        if self.window is not None:
            self.window = (float(self.window[0]), float(self.window[1]))
            # the reader drops such a window (PS3.3 C.11.2.1.2); a self-test file could hold one
            if not all(math.isfinite(v) for v in self.window):
                raise InferenceError(
                    f"The stored window (center {self.window[0]:g}, width {self.window[1]:g}) "
                    "is not a pair of finite numbers."
                )
        if self.stored is not None:
            stored = np.asarray(self.stored)
            if stored.shape != self.pixels.shape:
                raise InferenceError(
                    f"The stored values have shape {stored.shape}, the pixels {self.pixels.shape}."
                )
            self.stored = stored
        if self.bits_stored is not None:
            self.bits_stored = int(self.bits_stored)
            if not 1 <= self.bits_stored <= 16:
                raise InferenceError(f"Bits Stored {self.bits_stored} is not 1 to 16.")

    @classmethod
    def from_image(cls, image: _ImageLike) -> ModelInput:
        """From a decoded :class:`viewer.dicom.DicomImage`: its first stored Window Center/Width.

        VOI LUT Sequence presets are skipped (they are not a center/width window).
        """
        window = None
        for stored in image.windows:
            # a VOI LUT preset (lut_index set) is no window; its numbers only describe a range
            if getattr(stored, "lut_index", None) is None:
                window = (float(stored.center), float(stored.width))
                break
        bits = int(getattr(image.meta, "bits_stored", 0) or 0)
        return cls(
            pixels=image.modality,
            photometric=image.meta.photometric,
            window=window,
            stored=getattr(image, "stored", None),  # test doubles may have only modality
            bits_stored=bits if 1 <= bits <= 16 else None,
        )

    def to_tensors(self, *, photometric: bool = False) -> dict[str, np.ndarray]:
        """Tensors for the bundle's self-test file (safetensors holds numeric arrays only).

        ``input.pixels`` (float32 2-D) and, if the image has a stored window,
        ``input.window`` (float64 [center, width]). The sample's photometric interpretation is
        not a tensor: the bundle keeps it in its manifest (``selftest.photometric``); with
        ``photometric`` (the extra self-test cases) it is stored as the ``input.photometric``
        code :meth:`from_tensors` reads (uint8, 1 = MONOCHROME1, 2 = MONOCHROME2).
        """
        out: dict[str, np.ndarray] = {"input.pixels": self.pixels.copy()}
        if self.window is not None:
            out["input.window"] = np.array(self.window, dtype=np.float64)
        if self.stored is not None:
            out["input.stored"] = np.ascontiguousarray(self.stored).copy()
        if self.bits_stored is not None:
            out["input.bits_stored"] = np.array([self.bits_stored], dtype=np.uint8)
        if photometric:
            code = _PHOTOMETRIC_CODES[self.photometric]
            out["input.photometric"] = np.array([code], dtype=np.uint8)
        return out

    @classmethod
    def from_tensors(
        cls, tensors: Mapping[str, np.ndarray], *, photometric: str | None = None
    ) -> ModelInput:
        """Inverse of :meth:`to_tensors`; pass the manifest's ``photometric``.

        Without it, an optional ``input.photometric`` code (1 = MONOCHROME1, 2 = MONOCHROME2)
        is read, else MONOCHROME2 is assumed.
        """
        try:
            pixels = np.asarray(tensors["input.pixels"])
        except KeyError:
            raise InferenceError("The self-test holds no 'input.pixels'.") from None
        if photometric is None:
            code = tensors.get("input.photometric")
            if code is None:
                photometric = "MONOCHROME2"
            else:
                by_code = {v: k for k, v in _PHOTOMETRIC_CODES.items()}
                value = int(np.asarray(code).reshape(-1)[0])
                if value not in by_code:
                    raise InferenceError(f"The self-test's photometric code {value} is unknown.")
                photometric = by_code[value]
        window = None
        if "input.window" in tensors:
            w = np.asarray(tensors["input.window"], dtype=np.float64).reshape(-1)
            if w.shape != (2,):
                raise InferenceError("The self-test's 'input.window' is not (center, width).")
            window = (float(w[0]), float(w[1]))
        stored = tensors.get("input.stored")
        bits = tensors.get("input.bits_stored")
        return cls(
            pixels=pixels,
            photometric=photometric,
            window=window,
            stored=None if stored is None else np.asarray(stored),
            bits_stored=None if bits is None else int(np.asarray(bits).reshape(-1)[0]),
        )


@dataclass(frozen=True)
class Geometry:
    """Where the network's input came from in the image, to map a heatmap back.

    ``box`` = (top, left, height, width) in image pixels (floats; it may extend past the image
    when the image was padded). The box's content was resized to ``out_shape`` (rows, cols).
    """

    image_shape: tuple[int, int]
    box: tuple[float, float, float, float]
    out_shape: tuple[int, int]

    def to_image(self, heat: np.ndarray) -> np.ndarray:
        """Map a 2-D map over the network input back onto the image (float32, outside = 0)."""
        import torch
        import torch.nn.functional as F  # noqa: N812

        top, left = round(self.box[0]), round(self.box[1])
        height, width = max(1, round(self.box[2])), max(1, round(self.box[3]))
        t = torch.from_numpy(np.ascontiguousarray(heat, dtype=np.float32))[None, None]
        with torch.no_grad():
            up = F.interpolate(t, size=(height, width), mode="bilinear", align_corners=False)
        boxed = up[0, 0].numpy()
        rows, cols = self.image_shape
        out = np.zeros((rows, cols), dtype=np.float32)
        r0, c0 = max(top, 0), max(left, 0)
        r1, c1 = min(top + height, rows), min(left + width, cols)
        if r1 > r0 and c1 > c0:
            out[r0:r1, c0:c1] = boxed[r0 - top : r1 - top, c0 - left : c1 - left]
        return out


# ----------------------------------------------------------------------------- operations


def _linear_window(x: np.ndarray, center: float, width: float) -> np.ndarray:
    """DICOM LINEAR window onto [0, 1] (PS3.3 C.11.2.1.2.1); width <= 1 is a threshold.

    ``((x - (c - 0.5)) / (w - 1) + 0.5)`` clipped, each operation one correctly rounded float32
    step. Run as torch elementwise operations: the same IEEE arithmetic as numpy's (a test keeps
    them bit-identical, NaN included) on torch's warm intra-op threads, about twice as fast on
    two cores as one numpy pass and without a second thread pool competing with torch's.
    """
    if width <= 1.0:
        return (x > np.float32(center - 0.5)).astype(np.float32)
    import torch

    shift = torch.tensor(np.float32(center - 0.5))
    scale = torch.tensor(np.float32(width - 1.0))
    pixels = np.ascontiguousarray(x, dtype=np.float32)
    if not pixels.flags.writeable:  # torch warns on read-only memory even when only reading
        pixels = pixels.copy()
    out = torch.sub(torch.from_numpy(pixels), shift)  # a new tensor: the caller's pixels stay
    out.div_(scale).add_(0.5).clamp_(0.0, 1.0)
    return out.numpy()


def _square(x: np.ndarray, step: SquareStep, box: list[float]) -> np.ndarray:
    _, rows, cols = x.shape
    if rows == cols:
        return x
    if step.mode == "crop":
        side = min(rows, cols)
        top, left = (rows - side) // 2, (cols - side) // 2
        out = np.ascontiguousarray(x[:, top : top + side, left : left + side])
    else:
        side = max(rows, cols)
        top, left = -((side - rows) // 2), -((side - cols) // 2)
        fill = np.float32(x.min()) if step.pad_value == "min" else np.float32(step.pad_value)
        out = np.full((x.shape[0], side, side), fill, dtype=np.float32)
        out[:, -top : -top + rows, -left : -left + cols] = x
    _compose_box(box, top, left, side, rows, cols)
    return out


def _compose_box(box: list[float], top: int, left: int, side: int, rows: int, cols: int) -> None:
    """Compose a square taken at (top, left) with the current box: array pixels -> image pixels
    (the geometry a heatmap is mapped back with)."""
    row_scale, col_scale = box[2] / rows, box[3] / cols
    box[0] += top * row_scale
    box[1] += left * col_scale
    box[2] = side * row_scale
    box[3] = side * col_scale


def _center_crop(x: np.ndarray, box: list[float]) -> np.ndarray:
    """``floor_halves``: TorchXRayVision's offsets ``rows // 2 - side // 2``."""
    _, rows, cols = x.shape
    side = min(rows, cols)
    top, left = rows // 2 - side // 2, cols // 2 - side // 2
    out = np.ascontiguousarray(x[:, top : top + side, left : left + side])
    _compose_box(box, top, left, side, rows, cols)
    return out


def _linear_matrix(n_in: int, n_out: int, antialias: bool) -> np.ndarray:
    """(n_out, n_in) float64: scikit-image's Gaussian pre-filter then linear sampling, one axis.

    The filter is scipy's ``gaussian_filter1d`` (truncate 4.0, zeros beyond the edges) with
    sigma ``max(0, (n_in / n_out - 1) / 2)``; the sampling is ``ndimage.zoom(order=1,
    mode="grid-constant", grid_mode=True)``: position ``(o + 0.5) * n_in / n_out - 0.5``, zeros
    beyond the edges. Both are linear, so one matrix holds them.
    """
    factor = n_in / n_out
    sigma = max(0.0, (factor - 1.0) / 2.0) if antialias else 0.0
    if sigma > 1e-15:  # scipy skips an axis whose sigma is this small
        radius = int(4.0 * sigma + 0.5)
        taps = np.arange(-radius, radius + 1)
        kernel = np.exp(-0.5 / (sigma * sigma) * taps.astype(np.float64) ** 2)
        kernel = kernel / kernel.sum()
    else:
        radius = 0
        kernel = np.ones(1, dtype=np.float64)
    pos = (np.arange(n_out, dtype=np.float64) + 0.5) * factor - 0.5
    first = np.floor(pos).astype(np.int64)
    frac = pos - first
    matrix = np.zeros((n_out, n_in), dtype=np.float64)
    rows = np.arange(n_out)
    for tap, weight in ((first, 1.0 - frac), (first + 1, frac)):
        inside = (tap >= 0) & (tap < n_in)
        for offset in range(-radius, radius + 1):
            src = tap + offset
            ok = inside & (src >= 0) & (src < n_in)
            np.add.at(matrix, (rows[ok], src[ok]), weight[ok] * kernel[offset + radius])
    return matrix


def _skimage_linear(x: np.ndarray, size: int, antialias: bool) -> np.ndarray:
    """scikit-image's ``resize`` of (C, H, W) to (C, size, size); see :class:`ResizeStep`.

    Computed in float64 (scipy computes each pass in double too) with torch's matrix products on
    its own threads; rows first over only the band of input rows each output row reads.
    """
    import torch

    _, rows, cols = x.shape
    if antialias and not (size < rows or size < cols):
        antialias = False  # scikit-image filters only when some axis shrinks
    row_m = _linear_matrix(rows, size, antialias)
    col_m = _linear_matrix(cols, size, antialias)
    used = np.flatnonzero(row_m.any(axis=0))
    lo, hi = (int(used[0]), int(used[-1]) + 1) if used.size else (0, 1)
    src = torch.from_numpy(np.ascontiguousarray(x[:, lo:hi, :], dtype=np.float32))
    with torch.no_grad():
        band = torch.from_numpy(np.ascontiguousarray(row_m[:, lo:hi]))
        out = torch.matmul(torch.matmul(band, src.double()), torch.from_numpy(col_m).T)
    y = out.to(torch.float32).numpy()
    # clip to the input's range, widened to the zero padding when it reached the output
    # (scikit-image's _clip_warp_output with cval 0)
    x_min, x_max = np.float32(x.min()), np.float32(x.max())
    if not x_min <= 0.0 <= x_max and y.min() <= 0.0 <= y.max():
        x_min, x_max = min(x_min, np.float32(0.0)), max(x_max, np.float32(0.0))
    return np.ascontiguousarray(np.clip(y, x_min, x_max), dtype=np.float32)


def _resize(x: np.ndarray, step: ResizeStep) -> np.ndarray:
    if step.interpolation == "skimage-linear":
        return _skimage_linear(x, step.size, step.antialias)
    import torch
    import torch.nn.functional as F  # noqa: N812

    # One call: torch spreads it over its intra-op threads itself (splitting it into row bands
    # on a thread of our own made each band start an OpenMP team of its own: slower).
    x = np.ascontiguousarray(x, dtype=np.float32)
    size = step.size
    t = torch.from_numpy(x)[None]
    with torch.no_grad():
        if step.interpolation in ("bilinear", "bicubic"):
            y = F.interpolate(
                t, size=(size, size), mode=step.interpolation, align_corners=False,
                antialias=step.antialias,
            )  # fmt: skip
        else:
            y = F.interpolate(t, size=(size, size), mode=step.interpolation)
    return np.ascontiguousarray(y[0].numpy(), dtype=np.float32)


def _scale(x: np.ndarray, lo: float, hi: float, out_min: float, out_max: float) -> np.ndarray:
    if hi <= lo:
        return np.full_like(x, np.float32(out_min))
    y = (x - np.float32(lo)) / np.float32(hi - lo)
    return (y * np.float32(out_max - out_min) + np.float32(out_min)).astype(np.float32, copy=False)


def _normalize(x: np.ndarray, step: NormalizeStep, bits: int | None) -> np.ndarray:
    out_min = 0.0 if step.out_min is None else step.out_min
    out_max = 1.0 if step.out_max is None else step.out_max
    if step.method == "bits_stored":
        if bits is None:
            raise InferenceError(
                "The model normalises by the image's Bits Stored (0028,0101), and it is unknown."
            )
        return _scale(x, 0.0, float(2**bits - 1), out_min, out_max)
    if step.method == "minmax":
        return _scale(x, float(x.min()), float(x.max()), out_min, out_max)
    if step.method == "percentile":
        assert step.lower is not None and step.upper is not None  # noqa: S101 (validated)
        lo, hi = np.percentile(x, [step.lower, step.upper], method="linear")
        clipped = np.clip(x, np.float32(lo), np.float32(hi))
        return _scale(clipped, float(lo), float(hi), out_min, out_max)
    if step.method == "fixed_range":
        assert step.in_min is not None and step.in_max is not None  # noqa: S101 (validated)
        y = _scale(x, step.in_min, step.in_max, out_min, out_max)
        if step.clip:
            y = np.clip(y, np.float32(min(out_min, out_max)), np.float32(max(out_min, out_max)))
        return y
    # mean_std
    means = step.mean if isinstance(step.mean, list) else [step.mean] * x.shape[0]
    stds = step.std if isinstance(step.std, list) else [step.std] * x.shape[0]
    if len(means) != x.shape[0]:
        raise InferenceError(
            f"The bundle's mean/std normalisation has {len(means)} values for "
            f"{x.shape[0]} channel(s); put it after the 'channels' step."
        )
    m = np.asarray(means, dtype=np.float32).reshape(-1, 1, 1)
    s = np.asarray(stds, dtype=np.float32).reshape(-1, 1, 1)
    return ((x - m) / s).astype(np.float32, copy=False)


def _normalized_range(step: NormalizeStep) -> tuple[float, float] | None:
    """The output range a normalisation guarantees, if any."""
    out_min = 0.0 if step.out_min is None else step.out_min
    out_max = 1.0 if step.out_max is None else step.out_max
    bounded = step.method in ("minmax", "percentile", "bits_stored") or (
        step.method == "fixed_range" and bool(step.clip)
    )
    return (min(out_min, out_max), max(out_min, out_max)) if bounded else None


def preprocess_with_geometry(
    inp: ModelInput, steps: Sequence[PreprocessStep]
) -> tuple[np.ndarray, Geometry]:
    """Apply ``steps`` in order; return the float32 (C, H, W) tensor and where it came from.

    A non-finite result refuses the image (InferenceError). A window clips an infinite pixel
    to 0 or 1 like any other out-of-window value, so only unwindowed inputs can fail so.
    """
    check_order(steps)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        return _apply(inp, steps)


def _apply(inp: ModelInput, steps: Sequence[PreprocessStep]) -> tuple[np.ndarray, Geometry]:
    rows, cols = inp.pixels.shape
    box: list[float] = [0.0, 0.0, float(rows), float(cols)]
    x = inp.pixels[None]
    # The nominal value range after the last step that fixed one (a window: [0, 1]; a bounded
    # normalisation: its output range); None when only the data says (modality values).
    value_range: tuple[float, float] | None = None
    for step in steps:
        if isinstance(step, SourceStep):
            value_range = (0.0, 1.0)
            if step.pixels == "modality":
                x = inp.pixels[None].copy()
                value_range = None
            elif step.pixels == "stored":
                x, value_range = _stored(inp)
            elif step.pixels == "fixed_window":
                assert step.center is not None and step.width is not None  # noqa: S101
                x = _linear_window(inp.pixels, step.center, step.width)[None]
            elif inp.window is not None:
                x = _linear_window(inp.pixels, inp.window[0], inp.window[1])[None]
            elif step.if_missing == "minmax":
                lo, hi = float(inp.pixels.min()), float(inp.pixels.max())
                x = _scale(inp.pixels, lo, hi, 0.0, 1.0)[None]
            else:
                raise InferenceError(
                    "The model needs the image's stored window (Window Center/Width, "
                    "(0028,1050)/(0028,1051)), and this image has none."
                )
        elif isinstance(step, InvertMonochrome1Step):
            if inp.photometric == "MONOCHROME1":
                # x is always our own array here (the source step made it): invert in place
                if value_range is not None:
                    pivot = np.float32(value_range[0] + value_range[1])
                else:
                    pivot = np.float32(np.float32(x.min()) + np.float32(x.max()))
                np.subtract(pivot, x, out=x)
        elif isinstance(step, SquareStep):
            x = _square(x, step, box)
        elif isinstance(step, CenterCropStep):
            x = _center_crop(x, box)
        elif isinstance(step, ResizeStep):
            x = _resize(x, step)
        elif isinstance(step, NormalizeStep):
            x = _normalize(x, step, inp.bits_stored)
            value_range = _normalized_range(step)
        elif isinstance(step, ChannelsStep):
            if x.shape[0] != 1:
                raise InferenceError(
                    "The bundle's 'channels' step needs a single grey channel; it runs twice."
                )
            x = np.ascontiguousarray(np.repeat(x, step.count, axis=0))
        elif isinstance(step, DtypeStep):
            x = x.astype(np.float32, copy=False)
    x = np.ascontiguousarray(x, dtype=np.float32)
    # Checked on the (small) result rather than the image: NaN propagates through every step,
    # and a full-size pass would cost as much as the window itself.
    if not np.isfinite(x).all():
        raise NonFiniteInputError(
            "The image holds non-finite pixel values (NaN or infinity) and cannot be scored."
        )
    geometry = Geometry(
        image_shape=(rows, cols),
        box=(box[0], box[1], box[2], box[3]),
        out_shape=(int(x.shape[1]), int(x.shape[2])),
    )
    return x, geometry


def _stored(inp: ModelInput) -> tuple[np.ndarray, tuple[float, float] | None]:
    """The stored values as float32 (1, H, W) and their nominal range 0 .. 2**BitsStored - 1."""
    if inp.stored is None:
        raise InferenceError("The model reads the stored pixel values, and none were given.")
    from viewer.inference.checks import check_stored_range

    x = np.asarray(inp.stored).astype(np.float32)[None]
    if inp.bits_stored is None:
        return x, None
    # the Predictor refuses such an image with this check first; a guard for direct callers
    problem = check_stored_range(x, inp.bits_stored)
    if problem is not None:
        raise InferenceError(problem.message)
    return x, (0.0, float(2**inp.bits_stored - 1))


def preprocess(inp: ModelInput, steps: Sequence[PreprocessStep]) -> np.ndarray:
    """Apply the bundle's steps in order: float32 (C, H, W), the network's input for one image."""
    return preprocess_with_geometry(inp, steps)[0]
