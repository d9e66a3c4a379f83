"""Pixel decoders: pydicom's plugins plus one of our own backed by imagecodecs (BSD).

Why our own plugin: JPEG Extended 12-bit (1.2.840.10008.1.2.4.51) is common on older CR exports,
python-gdcm 3.2.6 refuses 12-bit JPEG and the pydicom plugin that decodes it needs
pylibjpeg-libjpeg, which is GPLv3 and cannot ship in the Apache-2.0 frozen app. imagecodecs'
``jpeg8_decode`` (libjpeg-turbo 3: 8/12-bit DCT and 2..16-bit lossless, every predictor) does,
so it also decodes JPEG Lossless (Process 14, with and without Selection Value 1).

Decoder order (``decoder_order``): fuzzing found that python-gdcm aborts the whole process
(C++ ``abort()``, uncatchable) on some corrupt JPEG 2000 / JPEG-LS streams, and pydicom tries
gdcm first. We therefore pick the plugin per syntax ourselves and use gdcm only when no other
decoder is installed for that syntax.

This module follows pydicom's decoder-plugin protocol (``DECODER_DEPENDENCIES``,
``is_available(uid)``, ``_decode_frame(src, runner)``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import threading

import numpy as np
from pydicom import uid
from pydicom.pixels.decoders.base import DecodeRunner, get_decoder

PLUGIN_LABEL = "bedside-imagecodecs"

DECODER_DEPENDENCIES: dict[uid.UID, tuple[str, ...]] = {
    uid.JPEGBaseline8Bit: ("imagecodecs",),
    uid.JPEGExtended12Bit: ("imagecodecs",),
    uid.JPEGLossless: ("imagecodecs",),
    uid.JPEGLosslessSV1: ("imagecodecs",),
}

# Preferred pydicom decoding plugins per syntax; gdcm deliberately absent (see module doc).
_PREFERRED: dict[str, tuple[str, ...]] = {
    uid.JPEGBaseline8Bit: ("pylibjpeg", PLUGIN_LABEL, "pillow"),
    uid.JPEGExtended12Bit: ("pylibjpeg", PLUGIN_LABEL),
    uid.JPEGLossless: ("pylibjpeg", PLUGIN_LABEL),
    uid.JPEGLosslessSV1: ("pylibjpeg", PLUGIN_LABEL),
    uid.JPEGLSLossless: ("pyjpegls", "pylibjpeg"),
    uid.JPEGLSNearLossless: ("pyjpegls", "pylibjpeg"),
    uid.JPEG2000Lossless: ("pylibjpeg", "pillow"),
    uid.JPEG2000: ("pylibjpeg", "pillow"),
    uid.HTJ2KLossless: ("pylibjpeg",),
    uid.HTJ2KLosslessRPCL: ("pylibjpeg",),
    uid.HTJ2K: ("pylibjpeg",),
    uid.RLELossless: ("pylibjpeg", "pydicom"),
}

# Syntaxes whose only other decoder is the GPL pylibjpeg-libjpeg plugin: named in errors so a
# site knows which optional package it may install itself.
GPL_ONLY_HINT = "pylibjpeg-libjpeg (GPLv3, not shipped with Bedside; a site may install it)"

_lock = threading.Lock()
_registered = False


def is_available(tsyntax: str) -> bool:
    """pydicom plugin protocol: True when imagecodecs is importable and handles ``tsyntax``."""
    return tsyntax in DECODER_DEPENDENCIES and importlib.util.find_spec("imagecodecs") is not None


def _decode_frame(src: bytes, runner: DecodeRunner) -> bytes:
    """pydicom plugin protocol: decode one JPEG frame to native little-endian bytes."""
    import imagecodecs

    arr = np.asarray(imagecodecs.jpeg8_decode(src))
    if arr.ndim == 3:
        # libjpeg converts YCbCr to RGB and returns colour-by-pixel.
        runner.set_option("planar_configuration", 0)
        if runner.photometric_interpretation.startswith("YBR"):
            runner.set_option("photometric_interpretation", "RGB")
    runner.set_option("bits_allocated", 8 if arr.dtype.itemsize == 1 else 16)
    return arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()


def register() -> None:
    """Add our plugin to pydicom's decoders once per process (idempotent, thread-safe)."""
    global _registered
    with _lock:
        if _registered:
            return
        for tsyntax in DECODER_DEPENDENCIES:
            decoder = get_decoder(tsyntax)
            if PLUGIN_LABEL not in decoder.available_plugins:
                with contextlib.suppress(ValueError):  # already listed as unavailable
                    decoder.add_plugin(PLUGIN_LABEL, (__name__, "_decode_frame"))
        _registered = True


def decoder_order(tsyntax: str) -> list[str]:
    """Plugins to try, in order, for an encapsulated syntax ("" = pydicom's native path)."""
    register()
    tsu = uid.UID(tsyntax)
    if not tsu.is_encapsulated:
        return [""]
    available = get_decoder(tsu).available_plugins
    preferred = [p for p in _PREFERRED.get(tsu, ()) if p in available]
    return preferred or list(available)


def missing_decoder_message(tsyntax: str) -> str | None:
    """Why ``tsyntax`` cannot be decoded here (naming the package), or None if it can."""
    tsu = uid.UID(tsyntax)
    if not tsu.is_transfer_syntax:
        return f"transfer syntax {tsyntax!r} is not a known DICOM transfer syntax"
    if not tsu.is_encapsulated:
        return None
    try:
        decoder = get_decoder(tsu)
    except NotImplementedError:
        return f"transfer syntax {tsu.name} ({tsu}) is not supported by Bedside"
    if decoder.is_available:
        return None
    missing = "; ".join(decoder.missing_dependencies) or "no decoder"
    return f"transfer syntax {tsu.name} ({tsu}) needs a decoder that is not installed ({missing})"
