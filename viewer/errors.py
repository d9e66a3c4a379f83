"""Errors a person reads.

Every error Bedside shows derives from :class:`BedsideError`; ``str(error)`` is a complete, human
sentence (what is wrong, with which file or key, and what to do), so the GUI and the CLI show it as
it is and never a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path

# C0/C1 controls (ESC and CSI among them), DEL, the line/paragraph separators, and the Unicode
# bidirectional marks, embeddings, overrides and isolates that reorder text on screen.
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_BREAK = re.compile("[\t\n\r]+")
_LINE_BREAK = re.compile("\r\n?")


def printable(text: object, *, multiline: bool = False) -> str:
    """Text read from a file (a manifest, a DICOM header, an audit row) made safe to show.

    The one escaping rule for every terminal line and every GUI text that comes from a file: a
    terminal escape (ESC, CSI, any C0/C1 control) could rewrite what was printed before it ("NOT
    VERIFIED" read as "VERIFIED"), and a bidirectional override reorders text on screen. Each
    becomes U+FFFD, a visible mark. Tabs and line breaks become one space, unless ``multiline``
    (a text meant to span lines), which keeps newlines and tabs (a carriage return becomes a
    newline: alone it moves the cursor back over what was printed).
    """
    raw = str(text)
    if multiline:
        return _CONTROL.sub("\ufffd", _LINE_BREAK.sub("\n", raw))
    return _CONTROL.sub("\ufffd", _BREAK.sub(" ", raw))


def printable_json(text: str) -> str:
    """JSON text (``json.dumps(..., ensure_ascii=False)``) with the characters
    :func:`printable` marks written as ``\\uXXXX`` escapes: the same data for a program, no
    terminal escape or reordering for a person reading it. (``json.dumps`` already escapes C0.)"""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class BedsideError(Exception):
    """Base of all errors meant for a person."""

    def __init__(self, message: str, *, path: str | Path | None = None) -> None:
        # Messages quote file contents (a manifest id, a DICOM value, a member name): shown as
        # they are by the CLI and the GUI, so they are made printable here, once.
        self.message = printable(message, multiline=True)
        self.path = printable(path) if path is not None else None
        super().__init__(f"{self.path}: {self.message}" if self.path else self.message)


class ConfigError(BedsideError):
    """A site or user settings file is unreadable or holds a key or value that is not allowed."""


class DicomError(BedsideError):
    """A file is not a DICOM image Bedside can show (not DICOM, broken, hostile or unsupported)."""


class BundleError(BedsideError):
    """A model bundle was refused; ``code`` names the failed step for logs and tests."""

    def __init__(self, message: str, *, code: str, path: str | Path | None = None) -> None:
        self.code = code
        super().__init__(message, path=path)


class InferenceError(BedsideError):
    """An image could not be scored (refused by the input checks, or the model failed)."""


class AuditError(BedsideError):
    """The audit log cannot be read, verified or exported."""


class AuditWriteError(AuditError):
    """An audit row was NOT committed: the caller must not report the act as saved."""
