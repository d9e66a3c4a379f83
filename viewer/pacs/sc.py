"""The reading as a Secondary Capture: what the reader saw, burned in, for any PACS viewer.

One RGB image (SC Image Storage 1.2.840.10008.5.1.4.1.1.7, PS3.3 A.8.1; RGB because the heatmap
is coloured): a banner on top ("AI second reader — not a diagnosis", the model and version, the
clinician's decision), the displayed image with the explanation heatmap blended in, and a panel
below with each finding's text and the heatmap's legend ("Heatmap: where the model looked — not
a localisation") with its colour scale. Burned In Annotation (0028,0301) is YES: the text is
part of the pixels, so anyone who anonymises the image must know.

Rendered with Pillow and numpy only (no Qt below viewer.ui). Japanese text needs a CJK font:
:func:`find_cjk_font` looks for one where Windows, macOS and Linux keep theirs; without one,
every character the default font cannot draw becomes "?" and a line says so — the SC stays
readable and honest, the SR keeps the full text.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path

import highdicom as hd
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset

from viewer.errors import printable
from viewer.inference.heatmap import heatmap_rgba
from viewer.pacs.model import AiReport, PacsObjectError
from viewer.pacs.source import (
    MAX_SIDE,
    SERIES_DESCRIPTION,
    finish_object,
    for_highdicom,
    identity,
    new_instance,
)

BANNER = SERIES_DESCRIPTION
HEATMAP_LEGEND = "Heatmap: where the model looked \u2014 not a localisation"
NO_CJK_NOTE = "(Some text cannot be drawn here: no Japanese font. Full text in the SR.)"
MAX_OUTPUT_SIDE = 2048  # the capture is downscaled beyond this (an SC is for looking at)
HEAT_ALPHA = 0.45  # the screen's default heatmap opacity (QtImageView.heatmap_opacity)
MAX_LINE_CHARS = 400  # a finding's text beyond this is cut with "…" (the SR keeps all of it)

# Where the operating systems keep a font with Japanese glyphs (first found wins).
CJK_FONTS: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "C:/Windows/Fonts/YuGothM.ttc",
    "C:/Windows/Fonts/meiryo.ttc",
    "C:/Windows/Fonts/msgothic.ttc",
    "/System/Library/Fonts/\u30d2\u30e9\u30ae\u30ce\u89d2\u30b4\u30b7\u30c3\u30af W3.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
)
_ASCII_DRAWABLE = re.compile(r"[^\x20-\x7e]")

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def find_cjk_font(candidates: tuple[str, ...] = CJK_FONTS) -> Path | None:
    """The first installed font that draws Japanese, or None."""
    for name in candidates:
        path = Path(name)
        if path.is_file():
            return path
    return None


@lru_cache(maxsize=16)
def _font(size: int, cjk_path: str | None) -> Font:
    if cjk_path is not None:
        try:
            return ImageFont.truetype(cjk_path, size)
        except OSError:
            pass  # unreadable font file: the default font below, with the "?" fallback
    return ImageFont.load_default(size)


def _blend(display: np.ndarray, heatmap: np.ndarray | None) -> np.ndarray:
    """The grey display with the heatmap over it as the screen draws it: the same colours and
    per-pixel alpha (``viewer.inference.heatmap``) at the screen's default opacity."""
    grey = np.repeat(display[..., None].astype(np.float32), 3, axis=2)
    if heatmap is None:
        return grey.astype(np.uint8)
    heat = np.nan_to_num(heatmap.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    rgba = heatmap_rgba(heat).astype(np.float32)
    alpha = rgba[..., 3:4] / 255.0 * HEAT_ALPHA
    mixed = grey * (1.0 - alpha) + rgba[..., :3] * alpha
    result: np.ndarray = np.round(mixed).astype(np.uint8)
    return result


def _fit(display: np.ndarray, heat: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Both scaled down to at most :data:`MAX_OUTPUT_SIDE` before blending, so a large image
    never costs float copies of its full size (16384² x 3 floats would be 3 GB)."""
    scale = MAX_OUTPUT_SIDE / max(display.shape)
    if scale >= 1.0:
        return display, heat
    size = (max(1, round(display.shape[1] * scale)), max(1, round(display.shape[0] * scale)))
    small = np.asarray(Image.fromarray(display).resize(size, Image.Resampling.LANCZOS))
    if heat is None:
        return small, None
    heat32 = np.nan_to_num(np.asarray(heat, dtype=np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    resized = Image.fromarray(heat32, mode="F").resize(size, Image.Resampling.BILINEAR)
    return small, np.asarray(resized, dtype=np.float32)


def _check_pixels(report: AiReport) -> tuple[np.ndarray, np.ndarray | None]:
    display = report.display
    if not isinstance(display, np.ndarray) or display.ndim != 2 or display.dtype != np.uint8:
        raise PacsObjectError(
            "The Secondary Capture needs the displayed image (8-bit grey, rows x columns); "
            "this reading has none, so no capture was built."
        )
    if not (1 <= display.shape[0] <= MAX_SIDE and 1 <= display.shape[1] <= MAX_SIDE):
        raise PacsObjectError(
            f"The displayed image is {display.shape[1]} x {display.shape[0]} pixels, outside "
            f"1..{MAX_SIDE}; no capture was built."
        )
    heat = report.heatmap
    if heat is not None and (not isinstance(heat, np.ndarray) or heat.shape != display.shape):
        raise PacsObjectError(
            "The heatmap does not have the displayed image's size; no capture was built "
            "(a shifted heatmap would point at the wrong place)."
        )
    return display, heat


def _lines(report: AiReport) -> tuple[list[str], list[str]]:
    """(banner lines, finding lines) in plain text."""
    alg = report.algorithm
    decisions = {d.label: d for d in report.decisions}
    summary = ", ".join(
        f"{d.label}: {d.meaning}" + (f" ({'present' if d.final_positive else 'absent'})")
        for d in report.decisions
    )
    banner = [
        BANNER,
        f"Model: {alg.name} {alg.version} ({alg.bundle_id})  Decision: {summary or 'none'}",
    ]
    findings: list[str] = []
    for s in report.labels:
        ai = "positive" if s.positive else "negative"
        line = (
            f"{s.label}: {s.probability:.2f} "
            f"(threshold {s.threshold:.2f}, {s.threshold_source}) AI {ai}"
        )
        d = decisions.get(s.label)
        if d is not None:
            final = "present" if d.final_positive else "absent"
            line += f"; clinician {d.meaning}: {final}"
            if d.reason:
                line += f" \u2014 {d.reason}"
        findings.append(line)
    for d in report.decisions:
        if all(d.label != s.label for s in report.labels):
            final = "present" if d.final_positive else "absent"
            reason = f" \u2014 {d.reason}" if d.reason else ""
            findings.append(f"{d.label}: not scored by the AI; clinician: {final}{reason}")
    findings = [
        f[:MAX_LINE_CHARS] + ("\u2026" if len(f) > MAX_LINE_CHARS else "") for f in findings
    ]
    reader = report.observer.name.replace("^", " ").strip()
    findings.append(f"Reader: {reader} ({report.observer.role})")
    # drawn text follows the one escaping rule for text shown to people (controls, bidi marks)
    return [printable(t) for t in banner], [printable(t) for t in findings]


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> list[str]:
    """Lines of at most ``width`` pixels (broken at spaces, or anywhere for CJK text)."""
    out: list[str] = []
    line = ""
    for ch in text:
        if draw.textlength(line + ch, font=font) <= width or not line:
            line += ch
            continue
        cut = line.rfind(" ")
        if cut > len(line) // 2:
            out.append(line[:cut])
            line = line[cut + 1 :] + ch
        else:
            out.append(line)
            line = ch
    if line:
        out.append(line)
    return out


def render_capture(report: AiReport, fonts: tuple[str, ...] = CJK_FONTS) -> np.ndarray:
    """The capture's RGB pixels (uint8, rows x columns x 3): banner, image + heatmap, legend and
    findings. ``fonts``: where to look for a font with Japanese glyphs (:func:`find_cjk_font`)."""
    display, heat = _check_pixels(report)
    display, heat = _fit(display, heat)
    image = Image.fromarray(_blend(display, heat), mode="RGB")
    width = max(image.width, 384)  # room for the banner's text on a tiny image
    font_path = find_cjk_font(fonts)
    size = max(12, width // 42)
    font = _font(size, str(font_path) if font_path is not None else None)
    pad = max(4, size // 3)
    banner, findings = _lines(report)
    if font_path is None:
        lossy = any(_ASCII_DRAWABLE.search(t.replace("\u2014", "-")) for t in banner + findings)
        banner = [_ASCII_DRAWABLE.sub("?", t.replace("\u2014", "-")) for t in banner]
        findings = [_ASCII_DRAWABLE.sub("?", t.replace("\u2014", "-")) for t in findings]
        if lossy:
            findings.append(NO_CJK_NOTE)
    scratch = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    top = [w for t in banner for w in _wrap(scratch, t, font, width - 2 * pad)]
    bottom = [w for t in findings for w in _wrap(scratch, t, font, width - 2 * pad)]
    line_h = size + pad
    legend_h = (2 * line_h + pad) if heat is not None else 0
    top_h = len(top) * line_h + 2 * pad
    bottom_h = legend_h + len(bottom) * line_h + 2 * pad
    canvas = Image.new("RGB", (width, top_h + image.height + bottom_h), (0, 0, 0))
    canvas.paste(image, ((width - image.width) // 2, top_h))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, width - 1, top_h - 1), fill=(150, 20, 20))
    for i, text in enumerate(top):
        draw.text((pad, pad + i * line_h), text, font=font, fill=(255, 255, 255))
    y = top_h + image.height + pad
    if heat is not None:
        draw.text((pad, y), HEATMAP_LEGEND, font=font, fill=(255, 255, 255))
        y += line_h
        low_w = math.ceil(draw.textlength("low 0", font=font)) + pad
        high_w = math.ceil(draw.textlength("1 high", font=font)) + pad
        bar_w = max(16, width - 2 * pad - low_w - high_w)
        ramp = heatmap_rgba(np.linspace(0.0, 1.0, bar_w, dtype=np.float32))[:, :3]
        bar = Image.fromarray(np.repeat(ramp[None, :, :], size, axis=0), mode="RGB")
        canvas.paste(bar, (pad + low_w, y))
        draw.text((pad, y), "low 0", font=font, fill=(255, 255, 255))
        draw.text((pad + low_w + bar_w + pad, y), "1 high", font=font, fill=(255, 255, 255))
        y += line_h + pad
    for i, text in enumerate(bottom):
        draw.text((pad, y + i * line_h), text, font=font, fill=(255, 255, 210))
    return np.asarray(canvas, dtype=np.uint8)


def _orientation(report: AiReport) -> list[str]:
    """The source's Patient Orientation (0020,0020) when it is two valid codes, else empty
    (Type 2C: empty rather than a guessed direction)."""
    try:
        value = report.source.get("PatientOrientation")
    except Exception:  # a malformed element: no orientation rather than a wrong one
        return []
    values = [str(v) for v in value] if isinstance(value, list | tuple) else []
    valid = len(values) == 2 and all(re.fullmatch(r"[APLRHF]{1,3}", v) for v in values)
    return values if valid else []


def build_sc(report: AiReport, fonts: tuple[str, ...] = CJK_FONTS) -> hd.sc.SCImage:
    """The reading's Secondary Capture, patient and study copied from the source, in a new series,
    Burned In Annotation YES; UIDs derived from the reading id."""
    evidence = identity(report)
    pixels = render_capture(report, fonts)
    when = report.reading_time
    sc = hd.sc.SCImage.from_ref_dataset(
        ref_dataset=for_highdicom(evidence),
        pixel_array=pixels,
        photometric_interpretation="RGB",
        bits_allocated=8,
        coordinate_system="PATIENT",
        patient_orientation=("L", "F"),  # replaced below by the source's (or empty)
        **new_instance(report, "sc"),
        transfer_syntax_uid="1.2.840.10008.1.2.1",
        content_date=when.date(),
        content_time=when.time().replace(tzinfo=None),
    )
    sc.PatientOrientation = _orientation(report)
    sc.BurnedInAnnotation = "YES"
    sc.RecognizableVisualFeatures = "YES"
    sc.DerivationDescription = "AI second reader capture: heatmap and text burned in"
    ref = Dataset()
    ref.ReferencedSOPClassUID = evidence.SOPClassUID
    ref.ReferencedSOPInstanceUID = evidence.SOPInstanceUID
    sc.SourceImageSequence = [ref]
    finish_object(sc, evidence, report, image=True)
    sc.ImageComments = BANNER
    return sc
