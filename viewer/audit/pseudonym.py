"""Keyed pseudonyms for patient and study identifiers (HMAC-SHA256 with a site secret).

The log never holds a raw Patient ID (0010,0020), Study/Series/SOP Instance UID
(0020,000D / 0020,000E / 0008,0018) or Accession Number (0008,0050), and never a name or birth
date. Without the secret a pseudonym cannot be reversed or guessed from a list of IDs; with it,
a search by a real Patient ID computes the pseudonym and matches it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from viewer.errors import AuditError, AuditWriteError

SECRET_BYTES = 32
KINDS = ("patient", "study", "series", "sop", "accession")


def _create_exclusive(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` (mode 0600) only if it does not exist; True if we created it.

    Written to a temporary file, fsynced and hard-linked into place, so two processes starting
    at once agree on one file and nobody ever reads a half-written one.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)


def load_or_create_secret(path: Path) -> bytes:
    """The site secret; created (random, mode 0600) on first use."""
    if not path.exists():
        try:
            _create_exclusive(path, secrets.token_bytes(SECRET_BYTES))
        except OSError as exc:
            raise AuditWriteError(
                f"The pseudonym secret {path} could not be created ({exc.strerror}); nothing can "
                "be recorded until the data folder is writable. The event was NOT saved."
            ) from exc
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AuditError(f"The pseudonym secret {path} cannot be read ({exc.strerror}).") from exc
    if len(data) < SECRET_BYTES:
        raise AuditError(
            f"The pseudonym secret {path} is damaged (too short). Restore it from backup: "
            "without it, patient searches in the existing log cannot work."
        )
    return data


class Pseudonymizer:
    """Computes pseudonyms; ``key_id`` identifies the secret without revealing it."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self.key_id = hmac.new(secret, b"bedside-key-id", hashlib.sha256).hexdigest()[:16]

    def pseudonym(self, kind: str, value: str | None) -> str | None:
        """HMAC-SHA256(secret, kind NUL value) in hex; None for an empty value.

        The kind is part of the message so the same string as a patient ID and as an accession
        number gives unrelated pseudonyms. Surrounding blanks (DICOM pads to even length) are
        ignored.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown pseudonym kind {kind!r}")
        if value is None:
            return None
        text = str(value).strip().strip("\x00").strip()
        if not text:
            return None
        message = kind.encode() + b"\x00" + text.encode("utf-8", "replace")
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()
