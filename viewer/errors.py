"""Errors a person reads.

Every error Bedside shows derives from :class:`BedsideError`; ``str(error)`` is a complete, human
sentence (what is wrong, with which file or key, and what to do), so the GUI and the CLI show it as
it is and never a traceback.
"""

from __future__ import annotations

from pathlib import Path


class BedsideError(Exception):
    """Base of all errors meant for a person."""

    def __init__(self, message: str, *, path: str | Path | None = None) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        super().__init__(f"{self.path}: {message}" if self.path else message)


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
