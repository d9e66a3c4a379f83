"""Input-check messages in the reader's language, by the check's stable ``code``.

Why a table in the UI: the core (``viewer.inference.checks``) writes English and gives every
``CheckResult`` a ``code`` and ``params`` (``CHECK_MESSAGES[code].format(**params)`` is the
English message). Here each code maps to the same English template through
``QCoreApplication.translate("Checks", ...)``, so lupdate extracts it and the Japanese catalogue
translates it with the same ``{placeholders}``. A code this table does not know (added to the
core later) falls back to the core's English message: a warning is never shown as nothing.
The templates are looked up at call time, so a language switch takes effect on the next render.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QCoreApplication

__all__ = ["check_templates", "check_text", "checks_text"]


def check_templates() -> dict[str, str]:
    """Every known check code -> its template in the current language (English source strings
    are kept identical to ``viewer.inference.checks.CHECK_MESSAGES``; a test checks it)."""
    return {
        "not_image": QCoreApplication.translate(
            "Checks",
            "This object holds no image to score.",
        ),
        "species_other": QCoreApplication.translate(
            "Checks",
            "This image is of a {value} (Patient Species, (0010,2201)/(0010,2202)); the model is for human chest radiographs only, so no score is given.",  # noqa: E501
        ),
        "multi_frame": QCoreApplication.translate(
            "Checks",
            "This is a multi-frame object ({frames} frames, Number of Frames (0028,0008)); the model scores single chest radiographs.",  # noqa: E501
        ),
        "colour": QCoreApplication.translate(
            "Checks",
            "This is a colour image (Photometric Interpretation (0028,0004) {photometric}, {samples} samples per pixel); the model scores greyscale radiographs only.",  # noqa: E501
        ),
        "photometric_missing": QCoreApplication.translate(
            "Checks",
            "Photometric Interpretation (0028,0004) is empty; MONOCHROME2 was assumed.",
        ),
        "photometric_other": QCoreApplication.translate(
            "Checks",
            "The model was validated on {allowed} images; this one is {value}.",
        ),
        "photometric_ok": QCoreApplication.translate(
            "Checks",
            "{value} is accepted.",
        ),
        "modality_missing": QCoreApplication.translate(
            "Checks",
            "Modality (0008,0060) is empty; check that this is a chest radiograph ({allowed}).",
        ),
        "modality_refused": QCoreApplication.translate(
            "Checks",
            "This is a {value} image (Modality (0008,0060)); the model is for {allowed} radiographs only, so no score is given.",  # noqa: E501
        ),
        "modality_ok": QCoreApplication.translate(
            "Checks",
            "Modality {value} is accepted.",
        ),
        "view_any": QCoreApplication.translate(
            "Checks",
            "The model accepts any view.",
        ),
        "view_missing": QCoreApplication.translate(
            "Checks",
            "View Position (0018,5101) is empty, so Bedside cannot tell the view; the model was validated on {allowed} views. Check the view yourself.",  # noqa: E501
        ),
        "view_ok": QCoreApplication.translate(
            "Checks",
            "View {value} is accepted.",
        ),
        "view_lateral": QCoreApplication.translate(
            "Checks",
            "This is a lateral view ({value}, View Position (0018,5101)); the model scores frontal {allowed} views only, so no score is given.",  # noqa: E501
        ),
        "view_other": QCoreApplication.translate(
            "Checks",
            "This is a {value} view (View Position (0018,5101)); the model was validated on {allowed} views, so its score and threshold may not hold.",  # noqa: E501
        ),
        "body_part_any": QCoreApplication.translate(
            "Checks",
            "The model accepts any body part.",
        ),
        "body_part_missing": QCoreApplication.translate(
            "Checks",
            "Body Part Examined (0018,0015) is empty; the model is for {allowed}.",
        ),
        "body_part_ok": QCoreApplication.translate(
            "Checks",
            "Body part {value} is accepted.",
        ),
        "body_part_other": QCoreApplication.translate(
            "Checks",
            "Body Part Examined (0018,0015) is {value}; the model is for {allowed}.",
        ),
        "bits_missing": QCoreApplication.translate(
            "Checks",
            "Bits Stored (0028,0101) is missing.",
        ),
        "bits_other": QCoreApplication.translate(
            "Checks",
            "The image has {bits} bits stored (0028,0101); the model was validated on {low} to {high} bits.",  # noqa: E501
        ),
        "bits_ok": QCoreApplication.translate(
            "Checks",
            "{bits} bits stored is accepted.",
        ),
        "size_too_small": QCoreApplication.translate(
            "Checks",
            "The image is {columns} x {rows} pixels, below the minimum of {floor} pixels per side that any score needs, so no score is given.",  # noqa: E501
        ),
        "size_small": QCoreApplication.translate(
            "Checks",
            "The image is {columns} x {rows} pixels, smaller than the {min_columns} x {min_rows} the model was validated on; fine detail is missing.",  # noqa: E501
        ),
        "size_ok": QCoreApplication.translate(
            "Checks",
            "{columns} x {rows} pixels is accepted.",
        ),
        "spacing_any": QCoreApplication.translate(
            "Checks",
            "The model accepts any pixel spacing.",
        ),
        "spacing_missing": QCoreApplication.translate(
            "Checks",
            "The image states no pixel spacing (Pixel Spacing (0028,0030) or Imager Pixel Spacing (0018,1164)); Bedside cannot check it against the model's range.",  # noqa: E501
        ),
        "spacing_other": QCoreApplication.translate(
            "Checks",
            "The pixel spacing is {row_mm} x {col_mm} mm ({source}); the model was validated on {low} to {high} mm.",  # noqa: E501
        ),
        "spacing_ok": QCoreApplication.translate(
            "Checks",
            "Pixel spacing {row_mm} x {col_mm} mm ({source}) is accepted.",
        ),
        "pixels_non_finite": QCoreApplication.translate(
            "Checks",
            "The image holds pixel values that are not numbers or infinite after the Modality LUT (Rescale Slope/Intercept (0028,1053)/(0028,1052)), so no score is given.",  # noqa: E501
        ),
        "blank_image": QCoreApplication.translate(
            "Checks",
            "The image is blank: every pixel has the value {value} after the Modality LUT, so there is nothing to score and no score is given.",  # noqa: E501
        ),
        "nearly_blank_image": QCoreApplication.translate(
            "Checks",
            "The image is almost blank: {percent} % of its pixels have the value {value} (padding or an empty exposure), so no score is given.",  # noqa: E501
        ),
        "pixels_ok": QCoreApplication.translate(
            "Checks",
            "The pixel values vary ({low} to {high} after the Modality LUT).",
        ),
        "window_flat": QCoreApplication.translate(
            "Checks",
            "The window the model starts from (center {center}, width {width}) maps every pixel of this image ({low} to {high} after the Modality LUT) onto almost one grey value, so the model would see a blank image; no score is given.",  # noqa: E501
        ),
        "input_non_finite": QCoreApplication.translate(
            "Checks",
            "The model's input holds values that are not numbers or infinite, so no score is given.",  # noqa: E501
        ),
        "blank_input": QCoreApplication.translate(
            "Checks",
            "After the model's preprocessing the image is flat (every value {value}): the stored window or the pixel values do not fit the model, so no score is given.",  # noqa: E501
        ),
        "saturated_input": QCoreApplication.translate(
            "Checks",
            "After the model's preprocessing {percent} % of the image is at its darkest or brightest value (saturated), so no score is given. Check the stored window (0028,1050)/(0028,1051) and the Rescale Slope (0028,1053).",  # noqa: E501
        ),
        "nearly_blank_input": QCoreApplication.translate(
            "Checks",
            "After the model's preprocessing {percent} % of the image has one grey value, so no score is given.",  # noqa: E501
        ),
        "input_ok": QCoreApplication.translate(
            "Checks",
            "The model's input is neither blank nor saturated.",
        ),
        "stored_window_ok": QCoreApplication.translate(
            "Checks",
            "The model used the stored window (center {center}, width {width}).",
        ),
        "stored_window_absent": QCoreApplication.translate(
            "Checks",
            "The image has no stored window (Window Center/Width (0028,1050)/(0028,1051)); the model used its declared fallback, the image's own minimum to maximum.",  # noqa: E501
        ),
        "stored_window_missing_refused": QCoreApplication.translate(
            "Checks",
            "The model needs the image's stored window (Window Center/Width (0028,1050)/(0028,1051)), and this image has none, so no score is given.",  # noqa: E501
        ),
        "stored_window_invalid_minmax": QCoreApplication.translate(
            "Checks",
            "The image's stored window (Window Center/Width (0028,1050)/(0028,1051): center {center}, width {width}) is invalid and was ignored; the model used its fallback, the image's own minimum to maximum, so the score may differ from the validated one.",  # noqa: E501
        ),
        "stored_window_invalid_next": QCoreApplication.translate(
            "Checks",
            "The image's first stored window (Window Center/Width (0028,1050)/(0028,1051): center {center}, width {width}) is invalid and was ignored; the model used the next one (center {used_center}, width {used_width}), so the score may differ from the validated one.",  # noqa: E501
        ),
        "stored_window_invalid_refused": QCoreApplication.translate(
            "Checks",
            "The image's stored window (Window Center/Width (0028,1050)/(0028,1051): center {center}, width {width}) is invalid, and the model needs a valid stored window, so no score is given.",  # noqa: E501
        ),
        "photometric_missing_refused": QCoreApplication.translate(
            "Checks",
            "Photometric Interpretation (0028,0004) is empty, and the model needs it stated, so no score is given.",  # noqa: E501
        ),
        "photometric_refused": QCoreApplication.translate(
            "Checks",
            "The model is for {allowed} images only; this one is {value}, so no score is given.",
        ),
        "modality_missing_refused": QCoreApplication.translate(
            "Checks",
            "Modality (0008,0060) is empty, so Bedside cannot tell that this is a radiograph; the model is for {allowed} radiographs only, so no score is given.",  # noqa: E501
        ),
        "modality_other": QCoreApplication.translate(
            "Checks",
            "This is a {value} image (Modality (0008,0060)); the model was validated on {allowed} radiographs, so its score and threshold may not hold.",  # noqa: E501
        ),
        "view_missing_refused": QCoreApplication.translate(
            "Checks",
            "View Position (0018,5101) is empty, and the model is for {allowed} views only, so no score is given.",  # noqa: E501
        ),
        "view_refused": QCoreApplication.translate(
            "Checks",
            "This is a {value} view (View Position (0018,5101)); the model is for {allowed} views only, so no score is given.",  # noqa: E501
        ),
        "body_part_missing_refused": QCoreApplication.translate(
            "Checks",
            "Body Part Examined (0018,0015) is empty, and the model is for {allowed} only and needs it stated, so no score is given.",  # noqa: E501
        ),
        "body_part_refused": QCoreApplication.translate(
            "Checks",
            "This is an image of the {value} (Body Part Examined (0018,0015)); the model is for {allowed} only, so no score is given.",  # noqa: E501
        ),
        "bits_missing_refused": QCoreApplication.translate(
            "Checks",
            "Bits Stored (0028,0101) is missing, and the model needs it, so no score is given.",
        ),
        "bits_refused": QCoreApplication.translate(
            "Checks",
            "The image has {bits} bits stored (0028,0101); the model is for {low} to {high} bits only, so no score is given.",  # noqa: E501
        ),
        "spacing_missing_refused": QCoreApplication.translate(
            "Checks",
            "The image states no pixel spacing (Pixel Spacing (0028,0030) or Imager Pixel Spacing (0018,1164)), and the model needs it, so no score is given.",  # noqa: E501
        ),
        "spacing_refused": QCoreApplication.translate(
            "Checks",
            "The pixel spacing is {row_mm} x {col_mm} mm ({source}); the model is for {low} to {high} mm only, so no score is given.",  # noqa: E501
        ),
        "stored_out_of_range": QCoreApplication.translate(
            "Checks",
            "The image's stored values run from {low} to {high}, outside 0 to {top}, the range its Bits Stored ({bits}, (0028,0101)) allows; the model reads stored values, so no score is given.",  # noqa: E501
        ),
        "out_of_distribution": QCoreApplication.translate(
            "Checks",
            "This image is outside the images this model was validated on: its features lie at distance {distance} from the model's reference images, beyond {threshold} (the reference's {percentile}th percentile), so no score is given.",  # noqa: E501
        ),
        "in_distribution": QCoreApplication.translate(
            "Checks",
            "The image is like the images the model was validated on (distance {distance}, limit {threshold}).",  # noqa: E501
        ),
        "pixels_out_of_range": QCoreApplication.translate(
            "Checks",
            "The image's pixel values run from {low} to {high} after the Modality LUT ({bits} bits stored), but the model normalises from the fixed range {in_min} to {in_max}: values outside it would be scored wrongly, so no score is given.",  # noqa: E501
        ),
    }


def check_text(check: Any, templates: dict[str, str] | None = None) -> str:
    """``check``'s message in the current language; its own (English) message when the code is
    unknown or the translation does not fit its params; never empty."""
    table = templates if templates is not None else check_templates()
    code = str(getattr(check, "code", "") or "")
    params = getattr(check, "params", None) or {}
    english = str(getattr(check, "message", "") or "")
    template = table.get(code) if code else None
    if template:
        try:
            text = template.format(**{str(k): str(v) for k, v in dict(params).items()})
        except (KeyError, IndexError, ValueError):
            text = ""
        if text.strip():
            return text
    return english or code


def checks_text(checks: Iterable[Any], *, level: str | None = None) -> list[str]:
    """The translated messages of ``checks`` (only those at ``level`` when given), in order."""
    table = check_templates()
    return [check_text(c, table) for c in checks if level is None or str(c.level) == level]


def bundle_refusal_text(exc: BaseException) -> str:
    """Why a model bundle is not used: the failed check in the reader's language (by the
    BundleError's ``code``), then the core's own sentence, which names the file and the detail.
    One table for the main window and the model manager."""
    from viewer.errors import BedsideError
    from viewer.ui.workers import error_text

    kinds = {
        "archive": QCoreApplication.translate(
            "BundleRefusal", "The file is not a valid bundle archive."
        ),
        "signature": QCoreApplication.translate(
            "BundleRefusal", "The signature does not match the contents (altered or damaged)."
        ),
        "untrusted": QCoreApplication.translate(
            "BundleRefusal", "The signing key is not trusted at this site."
        ),
        "schema": QCoreApplication.translate(
            "BundleRefusal", "The manifest is incomplete or invalid."
        ),
        "preprocessing": QCoreApplication.translate(
            "BundleRefusal", "The manifest asks for an unknown preprocessing step."
        ),
        "architecture": QCoreApplication.translate(
            "BundleRefusal", "The network architecture is not available in this app."
        ),
        "version": QCoreApplication.translate(
            "BundleRefusal", "The bundle needs a different app or library version."
        ),
        "weights": QCoreApplication.translate(
            "BundleRefusal", "The weights do not match the manifest or the architecture."
        ),
        "selftest": QCoreApplication.translate(
            "BundleRefusal", "The self-test gave different results than at creation."
        ),
        "downgrade": QCoreApplication.translate(
            "BundleRefusal", "This would install an older version than one already installed."
        ),
        "store": QCoreApplication.translate(
            "BundleRefusal", "The model store refused this model or change."
        ),
    }
    detail = error_text(exc)
    lead = kinds.get(str(getattr(exc, "code", ""))) if isinstance(exc, BedsideError) else None
    return f"{lead} {detail}" if lead else detail
