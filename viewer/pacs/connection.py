"""What both PACS transports share: the errors a person reads, the site's ``[pacs]`` settings
turned into connection parameters (TLS context, credentials read from their file), and the
diagnosis of a connection that failed (nothing listens, the host is unknown, the TLS handshake
or the certificate failed) in one sentence.

Errors say whether a retry can help: :class:`PacsRejectedError` is the PACS refusing this object
(PS3.4 C-STORE failure status, PS3.18 STOW-RS 409 with a Failed SOP Sequence), which the outbox
holds; every other :class:`PacsError` (unreachable, association refused, TLS) leaves the object
pending, retried with backoff, since fixing the network or the site file makes it go through.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from viewer.config import (
    MAX_SECRET_BYTES,
    PacsSection,
    Settings,
    check_setting_path,
    no_passphrase,
)
from viewer.errors import BedsideError
from viewer.paths import ca_file_problem

__all__ = [
    "PacsCancelledError",
    "PacsError",
    "PacsNotConfiguredError",
    "PacsRejectedError",
    "PacsTarget",
    "check_study_size",
    "describe_connect_failure",
    "is_uid",
    "min_bytes_per_window",
    "write_instance",
]

# digits and dots (PS3.5 9.1), leading zeros tolerated: some archives hold such UIDs, and a study
# must not vanish from a search for it; what matters here is that a UID is a safe file name
_UID_RE = re.compile(r"^[0-9]+(\.[0-9]+)*$")


class PacsError(BedsideError):
    """PACS could not be reached or did not answer as expected; a retry may help."""


class PacsRejectedError(PacsError):
    """PACS refused this object (a retry of the same bytes would be refused again)."""


class PacsNotConfiguredError(PacsError):
    """The site file does not turn PACS on, or lacks what this transport needs."""


class PacsCancelledError(PacsError):
    """The person cancelled the search or retrieval; nothing half-written is kept."""


Transport = Literal["dicomweb", "dimse"]


@dataclass(frozen=True)
class PacsTarget:
    """One site's PACS as both transports need it (from ``[pacs]``)."""

    section: PacsSection

    @classmethod
    def from_settings(cls, settings: Settings, *, require_enabled: bool = True) -> PacsTarget:
        section = settings.values.pacs
        if require_enabled and not section.enabled:
            raise PacsNotConfiguredError(
                "PACS is not turned on for this workstation: IT sets [pacs] enabled = true and "
                "the PACS address in the site file (docs/pacs.md)."
            )
        return cls(section)

    @property
    def send_transports(self) -> tuple[Transport, ...]:
        transport = self.section.transport
        return ("dicomweb", "dimse") if transport == "both" else (transport,)

    # -- DIMSE ---------------------------------------------------------------------------------

    @property
    def dimse_address(self) -> str:
        s = self.section
        return f"{s.called_aet}@{s.host}:{s.port}"

    def require_dimse(self) -> None:
        s = self.section
        if not s.host or not s.called_aet:
            raise PacsNotConfiguredError(
                "DIMSE needs pacs.host and pacs.called_aet in the site file (docs/pacs.md)."
            )

    def ssl_context(self) -> ssl.SSLContext:
        """Client TLS context: the site's CA bundle (or the system's), its client certificate,
        TLS 1.2 at least (PS3.15 B.9 BCP 195 profile)."""
        s = self.section
        ca_file = self.trusted_ca_file()
        try:
            if ca_file:
                context = ssl.create_default_context(cafile=ca_file)
            else:
                context = ssl.create_default_context()
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            if s.client_cert_file:
                context.load_cert_chain(
                    s.client_cert_file, s.client_key_file or None, no_passphrase
                )
        except (OSError, ssl.SSLError) as exc:
            raise PacsNotConfiguredError(
                f"The TLS files named in the site file cannot be used ({_reason(exc)}): check "
                "pacs.ca_file, pacs.client_cert_file and pacs.client_key_file (PEM, the key "
                "unencrypted)."
            ) from exc
        return context

    # -- DICOMweb ------------------------------------------------------------------------------

    @property
    def dicomweb_url(self) -> str:
        return self.section.dicomweb_url.rstrip("/")

    def require_dicomweb(self) -> None:
        if not self.section.dicomweb_url.startswith(("http://", "https://")):
            raise PacsNotConfiguredError(
                "DICOMweb needs pacs.dicomweb_url (an http:// or https:// address) in the site "
                "file (docs/pacs.md)."
            )

    def ca_file_problem(self) -> str:
        """Why ``pacs.ca_file`` must not be trusted now, "" when it may (or none is set): other
        accounts can change it (:func:`viewer.paths.ca_file_problem`), and whoever can picks the
        server Bedside takes for PACS. Asked at each connection and for the status line; ""
        when no connection uses it (DIMSE without pacs.tls, an http:// DICOMweb address: site
        check still reports it)."""
        s = self.section
        if not s.ca_file or not (s.tls or s.dicomweb_url.lower().startswith("https://")):
            return ""
        try:
            return ca_file_problem(self.section.ca_file, "pacs.ca_file") or ""
        except BedsideError as exc:  # a link loop, a path the system will not look up
            return str(exc)

    def trusted_ca_file(self) -> str:
        """``pacs.ca_file`` for a TLS connection ("" for the system's CAs), refused with
        :meth:`ca_file_problem`'s sentence (the object waits in the outbox, not held)."""
        problem = self.ca_file_problem()
        if problem:
            raise PacsNotConfiguredError(problem)
        return self.section.ca_file

    def secret(self) -> str:
        """The password or token from ``pacs.password_file``, read now (it may be rotated) and
        never logged or shown."""
        path = Path(self.section.password_file)
        what = "The PACS password file (pacs.password_file)"
        check_setting_path(path, what, max_bytes=MAX_SECRET_BYTES)
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise PacsNotConfiguredError(f"{what} cannot be read: {_reason(exc)}.") from exc
        if not text:
            raise PacsNotConfiguredError(f"{what} is empty.")
        return text


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(getattr(exc, "verify_message", None) or exc.reason).replace("_", " ").lower()
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    # CPython's ssl module puts its source location first ("_ssl.c:989: ...")
    return re.sub(r"^_ssl\.c:\d+:\s*", "", str(exc)) or type(exc).__name__


def describe_connect_failure(
    host: str,
    port: int,
    *,
    context: ssl.SSLContext | None,
    timeout_s: float,
    after_handshake: bool = False,
) -> str | None:
    """Why a connection to ``host:port`` fails, found by trying it again plainly: name lookup,
    TCP connect, then (with ``context``) the TLS handshake. One sentence, no traceback; None when
    all of these work (the failure was later, in the DICOM or HTTP exchange).

    ``after_handshake``: also wait briefly for an alert after the handshake. In TLS 1.3 the
    server checks the client's certificate after the client has finished (RFC 8446 4.4.2.4), so
    a missing or untrusted client certificate shows only there."""
    where = f"{host}:{port}"
    started = time.monotonic()
    try:
        raw = socket.create_connection((host, port), timeout=timeout_s)
    except socket.gaierror:
        return f"The PACS host name {host!r} is not known (check pacs.host and the DNS)."
    except TimeoutError:
        return f"PACS at {where} did not answer within {timeout_s:g} s (network or firewall)."
    except ConnectionRefusedError:
        return f"Nothing accepts connections at {where}: PACS is down or the port is wrong."
    except OSError as exc:
        return f"PACS at {where} cannot be reached: {_reason(exc)}."
    with raw:
        if context is None:
            return None
        raw.settimeout(max(0.5, timeout_s - (time.monotonic() - started)))
        try:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                if after_handshake:
                    return _alert_after_handshake(tls, where)
                return None
        except ssl.SSLCertVerificationError as exc:
            return (
                f"The certificate of PACS at {where} is not trusted ({_reason(exc)}): give its CA "
                "in pacs.ca_file."
            )
        except TimeoutError:  # CPython's words: "_ssl.c:989: The handshake operation timed out"
            return (
                f"PACS at {where} accepted the connection but did not complete the TLS handshake "
                f"within {timeout_s:g} s: is it a DICOM TLS port, and is pacs.tls right (or does a "
                "firewall or proxy hold the connection)?"
            )
        except (ssl.SSLError, ConnectionError) as exc:
            return (
                f"The TLS handshake with PACS at {where} failed ({_reason(exc)}): is it a DICOM "
                "TLS port, and is pacs.tls right?"
            )
        except OSError as exc:
            return f"The TLS handshake with PACS at {where} failed: {_reason(exc)}."


def _alert_after_handshake(tls: ssl.SSLSocket, where: str) -> str | None:
    tls.settimeout(1.0)
    try:
        tls.recv(1)
    except ssl.SSLError as exc:
        return (
            f"PACS at {where} refused this workstation's TLS certificate ({_reason(exc)}): it "
            "wants a client certificate it trusts in pacs.client_cert_file and "
            "pacs.client_key_file."
        )
    except OSError:  # nothing said within the second (a DICOM server waits for us): no alert
        return None
    return None


def is_uid(text: str) -> bool:
    """A UID as PS3.5 9.1 writes it (dotted numbers, at most 64 characters)."""
    return len(text) <= 64 and _UID_RE.match(text) is not None


def min_bytes_per_window(section: PacsSection) -> int:
    """A retrieval that delivers less than this in each ``pacs.timeout_s`` is stalled (a server
    dripping a byte, or an instance, at a time never trips a per-read or per-message timeout):
    ``pacs.min_kb_per_timeout``."""
    return section.min_kb_per_timeout * 1024


def check_study_size(section: PacsSection, instances: int, size: int) -> None:
    """Stop a retrieval past ``pacs.max_study_instances`` or ``pacs.max_study_gb`` (the caller
    removes what it wrote). The defaults (2,000, 8 GB) are far beyond a chest study (a few
    images of tens of MB) and bound what a PACS that answers without end writes to the disk."""
    if instances > section.max_study_instances or size > section.max_study_gb * 2**30:
        raise PacsError(
            f"PACS sent more than {section.max_study_instances:,} instances or "
            f"{section.max_study_gb:g} GB for one study (pacs.max_study_instances, "
            "pacs.max_study_gb); the retrieval was stopped and nothing of it kept."
        )


def write_instance(
    dest_dir: Path, sop_instance_uid: str, write: Callable[[BinaryIO], object]
) -> Path:
    """A retrieved instance as ``dest_dir/<SOPInstanceUID>.dcm``, written whole or not at all
    (a temporary file renamed into place). Anything but a UID as the name is refused: a name
    that came from PACS never leaves the folder."""
    if not is_uid(sop_instance_uid):
        raise PacsError("PACS sent an instance whose SOP Instance UID is not a valid UID.")
    path = dest_dir / f"{sop_instance_uid}.dcm"
    fd, tmp = tempfile.mkstemp(dir=dest_dir, prefix=".pacs-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
