"""Display windows chosen from the image: the automatic window, presets, too-wide stored windows.

Display only: none of this reaches inference, which uses the stored window as the bundle
declares (``viewer.inference.preprocess.ModelInput.from_image`` reads ``DicomImage.windows``).

**The automatic window** (:func:`auto_window`) is a percentile window over the non-padding
modality values, asymmetric in *display* terms: it lets 2 % of pixels go black at the dark end
and only 0.1 % go white at the bright end. Why (measured on the two real samples, table and
pictures in ``docs/display.md``):

- dcmtk's histogram window (``dcmj2pnm +Wh n``) *is* a symmetric percentile window (it counts
  a histogram from both ends until n % of pixels are passed); our 1 % window matches
  ``+Wh 1`` within 1.4 grey levels in every region's mean on the samples, so "percentile against
  dcmtk's method" is really a choice of tails.
- The bright end of a chest radiograph is the dense anatomy where findings hide (mediastinum,
  retrocardiac lung, below the diaphragm). A symmetric 0.5 % tail put the white point of the
  8-bit NIH DX inside that band (its values pile up at 234..242) and burnt 18.5 % of the
  subdiaphragmatic region to white; a 0.1 % tail clips only markers and hot pixels (1.0 %).
- The dark end is air: the direct exposure outside the body, then the lungs. Outside the body
  nothing is to be read, and on a CR it takes a large share of the value range (the lungs of
  the WG04 CR stayed mid-grey, mean 130 of 255). A 2 % tail darkens the lungs (98) while still
  leaving them 0 % (CR) and 4.3 % (DX, the darkest apex) black.

The tails are in display order: for MONOCHROME1 (or Presentation LUT Shape INVERSE) the dark
end is the *high* modality values.

**Too-wide stored windows** (:func:`too_wide`): a stored Window Center/Width is not the default
when it is very wide for this image (wider than 4x the span of its 0.5..99.5 % values) or when
it is the stored bits' whole range (covers >= 90 % of it) while the image's values fill under
80 % of the window: a placeholder, not a choice for this image (the WG04 CR stores C 15000 /
W 30000 for 15-bit data whose values span 21,754). It stays in the preset list. VOI LUT
Sequence items are never judged (their shape, not their input range, is the contrast).

**Stored windows outside the image** (:func:`outside`): a stored window whose whole ramp lies
below the image's 0.5 % value or above its 99.5 % value (Window Center 1e308, or 0 for values
1000..1999) would draw the image in one grey; it is not the default either, and stays a preset.

**Presets** (:func:`display_presets`): "full range" (min..max of the non-padding values); for
CT-like images in Hounsfield units the classic lung / mediastinum / bone windows; for
projection radiographs (CR, DX) of the chest, whose values are detector units without a
physical calibration, the same three as bands of the image's own histogram (display order):
lung 2..60 %, mediastinum 35..99.9 %, bone 15..98 %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from viewer.dicom.model import ImageMetadata, Window
from viewer.dicom.pipeline import (
    HeaderSource,
    StoredDomain,
    modality_values,
    padding_mask,
    presentation_inverse,
    stored_domain,
    stored_windows,
)
from viewer.dicom.safe_read import quiet, short_error
from viewer.errors import DicomError

# Automatic window tails, in display order (fraction of non-padding pixels).
DARK_TAIL = 0.02
BRIGHT_TAIL = 0.001
# Pixels looked at (a regular sub-grid of larger images).
AUTO_SAMPLE_PIXELS = 1 << 21
# Too-wide stored window: wider than this many times the 0.5..99.5 % span ...
WIDE_FACTOR = 4.0
# ... or covering this share of the stored bits' range while the values fill less than
FULL_DEPTH_COVER = 0.9
FULL_DEPTH_FILL = 0.8
# Chest presets as display-order percentile bands (percent) for CR/DX.
CHEST_BANDS: tuple[tuple[str, float, float], ...] = (
    ("lung", 2.0, 60.0),
    ("mediastinum", 35.0, 99.9),
    ("bone", 15.0, 98.0),
)
# Classic CT windows in HU (center, width).
HU_WINDOWS: tuple[tuple[str, float, float], ...] = (
    ("lung", -600.0, 1500.0),
    ("mediastinum", 50.0, 350.0),
    ("bone", 400.0, 1800.0),
)
PROJECTION_MODALITIES = frozenset({"CR", "DX", "RG", "DR"})
CHEST_PARTS = frozenset({"", "CHEST", "THORAX", "LUNG", "CHEST_LAT", "CHESTABDOMEN"})
# The explanations Bedside gives its own presets (the UI translates these words).
AUTOMATIC = "automatic"
FULL_RANGE = "full range"


@dataclass(frozen=True)
class ValueHistogram:
    """Non-padding modality values in ascending order with their cumulative pixel counts."""

    values: np.ndarray
    cumulative: np.ndarray

    @property
    def total(self) -> int:
        return int(self.cumulative[-1]) if self.cumulative.size else 0

    def quantile(self, fraction: float) -> float:
        """The modality value below or at which ``fraction`` of the pixels lie."""
        if self.values.size == 0:
            return 0.0
        # rounded so that 1 - 0.999 or 99.9 / 100 count the pixels they say, not one more
        target = round(fraction * self.total, 6)
        i = int(np.searchsorted(self.cumulative, target, side="left"))
        return float(self.values[min(i, self.values.size - 1)])

    def display_quantile(self, fraction: float, *, inverse: bool) -> float:
        """``quantile`` counted from the display's dark end (high values when inverse)."""
        return self.quantile(1.0 - fraction if inverse else fraction)


def value_histogram(
    domain: StoredDomain, mod_values: np.ndarray, header: HeaderSource
) -> ValueHistogram:
    """One ``bincount`` over the stored-value domain: exact weighted percentiles of the modality
    values, whatever the Modality LUT, without sorting the image. Pixel Padding is excluded
    (all pixels are used if everything is padding); images above 2 M pixels are sampled on a
    regular sub-grid."""
    sample = domain.index
    if sample.ndim == 2 and sample.size > AUTO_SAMPLE_PIXELS:
        step = math.ceil(math.sqrt(sample.size / AUTO_SAMPLE_PIXELS))
        sample = sample[::step, ::step]
    size = domain.values.size
    counts = np.bincount(sample.ravel(), minlength=size)[:size].astype(np.int64)
    kept = counts.copy()
    kept[padding_mask(domain.values, header)] = 0
    if int(kept.sum()) > 0:
        counts = kept
    present = counts > 0
    vals = mod_values[present]
    order = np.argsort(vals, kind="stable")
    return ValueHistogram(values=vals[order], cumulative=np.cumsum(counts[present][order]))


def window_between(lo: float, hi: float, explanation: str) -> Window:
    """The LINEAR window whose black point is ``lo`` and white point ``hi`` (PS3.3 C.11.2.1.2:
    x <= c - 0.5 - (w-1)/2 is black, x > c - 0.5 + (w-1)/2 white)."""
    lo, hi = min(lo, hi), max(lo, hi)
    width = max(hi - lo + 1.0, 1.0)
    return Window(center=lo + width / 2.0, width=width, explanation=explanation)


def auto_window(hist: ValueHistogram, *, inverse: bool) -> Window:
    """The automatic window: 2 % dark / 0.1 % bright tails in display order (module docstring)."""
    if hist.total == 0:
        return Window(center=0.5, width=1.0, explanation=AUTOMATIC)
    dark = hist.display_quantile(DARK_TAIL, inverse=inverse)
    bright = hist.display_quantile(1.0 - BRIGHT_TAIL, inverse=inverse)
    return window_between(dark, bright, AUTOMATIC)


def full_range_window(hist: ValueHistogram) -> Window:
    """Every non-padding value visible: the data's min..max."""
    if hist.total == 0:
        return Window(center=0.5, width=1.0, explanation=FULL_RANGE)
    return window_between(float(hist.values[0]), float(hist.values[-1]), FULL_RANGE)


def _stored_bits_range(domain: StoredDomain, mod_values: np.ndarray, header: HeaderSource) -> float:
    """Span of the modality values the stored bits can hold (0 if unknown)."""
    try:
        bits = int(header.get("BitsStored") or 0)
        signed = int(header.get("PixelRepresentation") or 0) == 1
    except (TypeError, ValueError):
        return 0.0
    if not 1 <= bits <= 32:
        return 0.0
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    inside = (domain.values >= lo) & (domain.values <= hi)
    if not inside.any():
        return 0.0
    vals = mod_values[inside]
    return float(vals.max() - vals.min())


def too_wide(window: Window, hist: ValueHistogram, bits_range: float) -> bool:
    """Whether a stored window is too wide to be the default (module docstring)."""
    if window.lut_index is not None or hist.total == 0:
        return False
    span = hist.quantile(0.995) - hist.quantile(0.005)
    if window.width > WIDE_FACTOR * max(span, 1.0):
        return True
    if bits_range <= 0:
        return False
    return window.width >= FULL_DEPTH_COVER * bits_range and span < FULL_DEPTH_FILL * window.width


def outside(window: Window, hist: ValueHistogram) -> bool:
    """Whether a stored window misses the image (module docstring): its whole ramp lies below
    the 0.5 % value or above the 99.5 % value, so every pixel but those tails is one grey."""
    if window.lut_index is not None or hist.total == 0:
        return False
    half = window.width / 2
    return window.center + half < hist.quantile(0.005) or window.center - half > hist.quantile(
        0.995
    )


def _is_hounsfield(header: HeaderSource) -> bool:
    modality = str(header.get("Modality", "") or "").strip().upper()
    rescale_type = str(header.get("RescaleType", "") or "").strip().upper()
    return modality == "CT" or rescale_type == "HU"


def _is_chest_projection(header: HeaderSource) -> bool:
    modality = str(header.get("Modality", "") or "").strip().upper()
    part = str(header.get("BodyPartExamined", "") or "").strip().upper()
    return modality in PROJECTION_MODALITIES and part in CHEST_PARTS


def chest_presets(
    hist: ValueHistogram, header: HeaderSource, *, inverse: bool
) -> tuple[Window, ...]:
    """Lung / mediastinum / bone: HU windows for CT-like images, histogram bands for chest
    CR/DX, nothing for anything else (a knee DX gets no "lung" window)."""
    if _is_hounsfield(header):
        return tuple(Window(center=c, width=w, explanation=name) for name, c, w in HU_WINDOWS)
    if not _is_chest_projection(header) or hist.total == 0:
        return ()
    out = []
    for name, a, b in CHEST_BANDS:
        lo = hist.display_quantile(a / 100.0, inverse=inverse)
        hi = hist.display_quantile(b / 100.0, inverse=inverse)
        out.append(window_between(lo, hi, name))
    return tuple(out)


@dataclass(frozen=True)
class DisplayChoice:
    """``presets`` in menu order (the default first), the default, and the stored windows that
    were judged too wide (still presets, after the others)."""

    presets: tuple[Window, ...]
    default: Window
    auto: Window
    wide: tuple[Window, ...]
    outside: tuple[Window, ...] = ()  # stored windows that miss the image's values


def display_presets(
    stored: tuple[Window, ...],
    domain: StoredDomain,
    mod_values: np.ndarray,
    header: HeaderSource,
    *,
    inverse: bool,
) -> DisplayChoice:
    """The default window and the preset menu for one image.

    Default: the first stored window that is not too wide (those before it are judged, no
    other), else the automatic one. Menu: the other stored windows, automatic, lung /
    mediastinum / bone where they make sense, full range, then the too-wide stored windows (so
    key 1 is always the default).
    """
    hist = value_histogram(domain, mod_values, header)
    auto = auto_window(hist, inverse=inverse)
    bits_range = _stored_bits_range(domain, mod_values, header)
    # Only the windows that would be the default are judged: a later stored preset (a site's
    # deliberate "FULL RANGE") keeps its place.
    skipped = 0
    while skipped < len(stored) and (
        too_wide(stored[skipped], hist, bits_range) or outside(stored[skipped], hist)
    ):
        skipped += 1
    unused = stored[:skipped]
    missing = tuple(w for w in unused if outside(w, hist))
    wide = tuple(w for w in unused if w not in missing)
    usable = stored[skipped:]
    ordered: list[Window] = []
    for win in (*usable, auto, *chest_presets(hist, header, inverse=inverse)):
        if win not in ordered:
            ordered.append(win)
    full = full_range_window(hist)
    if full not in ordered:
        ordered.append(full)
    ordered.extend(w for w in unused if w not in ordered)
    return DisplayChoice(
        presets=tuple(ordered),
        default=usable[0] if usable else auto,
        auto=auto,
        wide=wide,
        outside=missing,
    )


@dataclass(frozen=True)
class GreyScale:
    """An image's grey scale before any pixel is looked up: the stored-value domain, its
    modality values, the stored windows (as stored: inference reads these) and the menu."""

    domain: StoredDomain
    mod_values: np.ndarray
    windows: tuple[Window, ...]
    choice: DisplayChoice


def grey_scale(
    header: HeaderSource, meta: ImageMetadata, stored: np.ndarray, notes: list[str], path: str
) -> GreyScale:
    """Modality LUT / Rescale (PS3.3 C.11.1), stored and automatic windows (C.11.2), presets:
    the one path of the full read (reader.assemble_image), the preview and the direct render
    (viewer.dicom.direct), whichever reader gave ``header``."""
    try:
        with quiet(notes):
            domain = stored_domain(stored)
            mod_values = modality_values(domain.values, header)
            windows, win_notes = stored_windows(header)
            choice = display_presets(
                windows,
                domain,
                mod_values,
                header,
                inverse=presentation_inverse(header, meta.photometric),
            )
    except DicomError as exc:
        raise DicomError(exc.message, path=path) from exc
    except Exception as exc:
        raise DicomError(
            f"has an invalid grey-scale pipeline: {short_error(exc)}", path=path
        ) from exc
    notes.extend(win_notes)
    return GreyScale(domain, mod_values, windows, choice)
