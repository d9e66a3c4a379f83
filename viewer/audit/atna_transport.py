"""ATNA audit messages on the wire: RFC 5424 syslog messages, framed per RFC 5425 (octet counting)
over TLS 1.2 or later, to the hospital's audit record repository (IHE ITI-20 "Record Audit
Event", ATNA Syslog profile).

One message per local audit row (:func:`syslog_message`)::

    <PRI>1 TIMESTAMP HOSTNAME APP-NAME - IHE+RFC-3881
        [bedside@32473 log=".." seq=".." hash=".."] BOM<?xml ..?><AuditMessage>..

PRI is the facility (authpriv 10 or log audit 13) times 8 plus a severity from the outcome
(notice 5 for success, warning 4 for a minor failure, error 3 for a serious one). The structured
data carries the row's log id, sequence number and hash, so the repository can drop a message it
already has and match each message to the local row (``bedside audit verify``). ``32473`` is the
private enterprise number RFC 5612 reserves for documentation; a site that registers its own
can still match on the SD-ID's name.

Delivery: RFC 5425 has no application acknowledgement, so nothing the repository does says it
took a message; what can be seen is its TCP stack's acknowledgement (Linux ``SIOCOUTQ``) and
whether it resets or closes the connection. A batch goes one TLS record (at most 16 KiB, a few
messages) at a time, each acknowledged before the next (a TLS receiver takes a record whole or
not at all), and then the connection is held open for :data:`HOLD_S`. A record counts as
delivered only once the connection stayed up that long after its acknowledgement: a repository
that stops with records unread resets the connection (Linux resets, rather than closes, a socket
closed with data unread), and any reset or close within the hold sends those records again. So
a repository that stops mid-stream loses nothing unless it held an acknowledged record unread
for longer than the hold, and it may receive the records of the last second twice,
byte-identical: the structured data (log id, sequence number, row hash) lets it drop the repeat.
Exactly once would need an acknowledgement syslog over TLS does not have (RELP has one).
Elsewhere than Linux the acknowledgement cannot be read and a record counts as acknowledged when
written.

ATNA node authentication is mutual TLS: the repository's certificate is checked against
``atna.ca_file`` and its host name, and this workstation presents ``atna.client_cert_file`` when
the site gives one.
"""

from __future__ import annotations

import contextlib
import re
import select
import socket
import ssl
import struct
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from viewer.audit.atna import AtnaSource, audit_message, mapping_for, outcome_indicator
from viewer.audit.events import AuditEvent, AuditRecord, EventType
from viewer.audit.forwarding import PassResult, Recorder, forward_pass, went_back
from viewer.config import AtnaSection, Settings, no_passphrase
from viewer.errors import AuditError, BedsideError
from viewer.outbox import Backoff, OutboxItem, PartlySentError
from viewer.paths import ca_file_problem

__all__ = [
    "MSGID",
    "SD_ID",
    "AtnaDestination",
    "AtnaError",
    "AtnaTrustError",
    "SyslogTlsSender",
    "forward_atna",
    "frame",
    "syslog_message",
]

MSGID = "IHE+RFC-3881"  # IHE ITI TF-2 3.20.4.1.2.1: the DICOM / RFC 3881 audit message format
SD_ID = "bedside@32473"
FACILITIES = {"authpriv": 10, "log_audit": 13}
#: EventOutcomeIndicator -> syslog severity (RFC 5424 6.2.1)
SEVERITIES = {"0": 5, "4": 4, "8": 3, "12": 2}
BOM = b"\xef\xbb\xbf"
_SIOCOUTQ = 0x5411  # Linux TIOCOUTQ: bytes not yet acknowledged by the peer
#: how long the connection must stay up after a record's TCP acknowledgement before the record
#: counts as delivered (a repository that stops with it unread resets the connection meanwhile)
HOLD_S = 1.0
#: TLS's largest record payload (RFC 8446 5.1, RFC 5246 6.2.1): the unit a repository reads whole
RECORD_BYTES = 16384


class AtnaError(AuditError):
    """The repository cannot be reached or trusted; what was queued stays queued.

    ``delivered``: how many messages of the batch were confirmed before the failure (they are
    not sent again)."""

    delivered: int = 0


class AtnaTrustError(AtnaError):
    """TLS node authentication failed at the handshake (the repository's certificate, or its
    refusal of ours): recorded once in the local log as a Security Alert (IHE ITI-19)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


def _printable(text: str, limit: int) -> str:
    """RFC 5424 header fields are PRINTUSASCII (33-126) of bounded length; "-" when empty."""
    out = "".join(ch if 33 <= ord(ch) <= 126 else "_" for ch in text)[:limit]
    return out or "-"


def _sd_value(text: str) -> str:
    """RFC 5424 6.3.3: '"', '\\' and ']' are escaped inside PARAM-VALUE."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def syslog_message(
    record: AuditRecord, source: AtnaSource, *, log_id: str, facility: str = "authpriv"
) -> bytes:
    """One row as an RFC 5424 SYSLOG-MSG whose MSG is BOM + the PS3.15 audit message."""
    mapping = mapping_for(record.type)
    severity = SEVERITIES[outcome_indicator(record, mapping)]
    pri = FACILITIES[facility] * 8 + severity
    sd = f'[{SD_ID} log="{_sd_value(log_id)}" seq="{record.seq}" hash="{_sd_value(record.hash)}"]'
    header = (
        f"<{pri}>1 {record.time} {_printable(record.host, 255)} "
        f"{_printable(source.app_name, 48)} - {MSGID} {sd} "
    )
    return header.encode("ascii") + BOM + audit_message(record, source, log_id=log_id)


def frame(message: bytes) -> bytes:
    """RFC 5425 4.3: MSG-LEN SP SYSLOG-MSG (octet counting)."""
    return str(len(message)).encode("ascii") + b" " + message


def _unacked(sock: socket.socket) -> int | None:
    """Bytes the peer has not acknowledged yet; None where the OS cannot tell."""
    if not sys.platform.startswith("linux"):
        return None
    import fcntl  # POSIX only: the frozen Windows app must import this module too

    try:
        buf = fcntl.ioctl(sock.fileno(), _SIOCOUTQ, b"\0\0\0\0")
    except OSError:
        return None
    return int(struct.unpack("i", buf)[0])


def records(messages: list[bytes]) -> list[tuple[bytes, int]]:
    """The framed batch cut into TLS records of at most :data:`RECORD_BYTES` (and how many
    messages each holds); a message larger than a record travels alone."""
    out: list[tuple[bytes, int]] = []
    chunk: list[bytes] = []
    size = 0
    for message in messages:
        framed = frame(message)
        if chunk and size + len(framed) > RECORD_BYTES:
            out.append((b"".join(chunk), len(chunk)))
            chunk, size = [], 0
        chunk.append(framed)
        size += len(framed)
    if chunk:
        out.append((b"".join(chunk), len(chunk)))
    return out


@dataclass(frozen=True)
class TlsFiles:
    ca_file: Path
    client_cert_file: Path | None = None
    client_key_file: Path | None = None


def tls_context(files: TlsFiles) -> ssl.SSLContext:
    """TLS 1.2+, the server's certificate chain and host name checked against the site's CA."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        problem = ca_file_problem(files.ca_file, "atna.ca_file")
    except BedsideError as exc:  # a link loop, a path the system will not look up
        problem = str(exc)
    if problem is not None:
        # whoever can change it picks the server taken for the repository: a Security Alert
        raise AtnaTrustError(problem, code="ca_file_not_protected")
    try:
        ctx.load_verify_locations(cafile=str(files.ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise AtnaError(
            f"The CA file for the ATNA repository ({files.ca_file}, atna.ca_file) cannot be "
            f"used: {getattr(exc, 'strerror', None) or exc}. It must be the PEM certificate of "
            "the CA that signed the repository's certificate."
        ) from exc
    if files.client_cert_file is not None:
        try:
            ctx.load_cert_chain(
                str(files.client_cert_file), str(files.client_key_file), no_passphrase
            )
        except (OSError, ssl.SSLError) as exc:
            raise AtnaError(
                "This workstation's certificate for the ATNA repository "
                f"({files.client_cert_file}, key {files.client_key_file}) cannot be used: "
                f"{getattr(exc, 'strerror', None) or exc}. Give a PEM certificate and its "
                "unencrypted PEM private key (atna.client_cert_file, atna.client_key_file)."
            ) from exc
    return ctx


class SyslogTlsSender:
    """One TLS connection to the repository, opened on first use and again after a failure."""

    def __init__(
        self,
        host: str,
        port: int,
        context: ssl.SSLContext,
        *,
        connect_timeout_s: float = 10.0,
        send_timeout_s: float = 10.0,
        hold_s: float = HOLD_S,
    ) -> None:
        self.host = host
        self.port = port
        self.context = context
        self.connect_timeout_s = connect_timeout_s
        self.send_timeout_s = send_timeout_s
        self.hold_s = hold_s
        self._sock: ssl.SSLSocket | None = None
        self._fresh = False  # the connection has not had a batch confirmed yet
        self._peer_error = ""
        self.has_client_certificate = False

    @property
    def where(self) -> str:
        return f"the ATNA repository {self.host}:{self.port}"

    def _connect(self) -> ssl.SSLSocket:
        queued = "Nothing was sent; the audit messages stay queued and are sent when it works."
        try:
            raw = socket.create_connection((self.host, self.port), timeout=self.connect_timeout_s)
        except TimeoutError as exc:
            raise AtnaError(
                f"{self.where} did not answer within {self.connect_timeout_s:g} s. {queued}"
            ) from exc
        except ConnectionRefusedError as exc:
            raise AtnaError(
                f"{self.where} refused the connection (is the syslog TLS service running on "
                f"that port?). {queued}"
            ) from exc
        except OSError as exc:
            raise AtnaError(
                f"{self.where} cannot be reached: {exc.strerror or exc}. {queued}"
            ) from exc
        try:
            sock = self.context.wrap_socket(raw, server_hostname=self.host)
        except ssl.SSLCertVerificationError as exc:
            raw.close()
            code, why = _why_untrusted(exc)
            raise AtnaTrustError(
                f"{self.where} is not trusted: {why}. {queued}", code=code
            ) from exc
        except ssl.SSLError as exc:
            raw.close()
            raise AtnaTrustError(
                f"The TLS handshake with {self.where} failed: {_tls_words(exc)}. {queued}",
                code="handshake",
            ) from exc
        except TimeoutError as exc:  # CPython's words: "_ssl.c:989: The handshake ... timed out"
            raw.close()
            raise AtnaError(
                f"{self.where} accepted the connection but did not complete the TLS handshake "
                f"within {self.connect_timeout_s:g} s: {_NOT_TLS}. {queued}"
            ) from exc
        except OSError as exc:
            raw.close()
            raise AtnaError(
                f"The connection to {self.where} broke during the TLS handshake "
                f"({exc.strerror or type(exc).__name__}): {_NOT_TLS}. {queued}"
            ) from exc
        sock.settimeout(self.send_timeout_s)
        return sock

    def close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None

    def _peer_state(self, sock: ssl.SSLSocket) -> str:
        """'open', 'closed' (the repository closed the connection cleanly) or 'reset'."""
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable and not sock.pending():
                return "open"
            sock.setblocking(False)
            try:
                data = sock.recv(1024)
            finally:
                sock.settimeout(self.send_timeout_s)
        except (ssl.SSLWantReadError, BlockingIOError):
            return "open"
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return "closed"  # a TCP FIN (rsyslog closes without a TLS close_notify): not a reset
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError) as exc:
            self._peer_error = getattr(exc, "reason", None) or str(exc)
            return "reset"
        return "closed" if not data else "open"  # a syslog receiver sends nothing back

    def send(self, messages: list[bytes]) -> None:
        """Send a batch one TLS record at a time (:func:`records`), each acknowledged before
        the next, then hold the connection for :attr:`hold_s` after the last acknowledgement.
        On a failure raise :class:`AtnaError` whose ``delivered`` counts the messages of the
        records acknowledged at least :attr:`hold_s` before it (those are not sent again; the
        rest are, and may arrive twice); the connection is then dropped."""
        acked: list[tuple[float, int]] = []  # (acknowledged at, messages) per record
        try:
            for record, count in records(messages):
                self._send_record(record)
                acked.append((time.monotonic(), count))
            if acked:
                self._hold(acked[-1][0])
            self._fresh = False
        except AtnaError as exc:
            failed = time.monotonic()
            exc.delivered = sum(count for at, count in acked if at <= failed - self.hold_s)
            raise

    def _hold(self, since: float) -> None:
        """Watch the connection until :attr:`hold_s` after ``since``: the repository's TCP stack
        acknowledges a record before the repository reads it, and a repository that stops with
        it unread resets (or, having swallowed it in its TLS layer, closes) the connection."""
        sock = self._sock
        while sock is not None:
            state = self._peer_state(sock)
            if state != "open":
                self.close()
                raise AtnaError(
                    f"{self.where} {'reset' if state == 'reset' else 'closed'} the connection "
                    f"within {self.hold_s:g} s of the last record{self._refusal()}; what it may "
                    "not have taken stays queued and is sent again."
                )
            left = since + self.hold_s - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(0.005, left))

    def _send_record(self, record: bytes) -> None:
        if self._sock is not None and self._peer_state(self._sock) != "open":
            self.close()  # the repository went away since the last record: start afresh
        if self._sock is None:
            self._sock = self._connect()
            self._fresh = True
        sock = self._sock
        try:
            sock.sendall(record)
            self._settle(sock)
        except AtnaError:
            self.close()
            raise
        except TimeoutError as exc:
            self.close()
            raise AtnaError(
                f"{self.where} took nothing for {self.send_timeout_s:g} s while sending (is it "
                "overloaded, or is a firewall holding the connection?); the batch stays queued "
                "and is sent again."
            ) from exc
        except (OSError, ssl.SSLError) as exc:
            self.close()
            why = _plain(getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc))
            raise AtnaError(
                f"The connection to {self.where} broke while sending ({why}); the batch stays "
                "queued and is sent again."
            ) from exc

    def _settle(self, sock: ssl.SSLSocket) -> None:
        """Return once the repository's TCP stack has acknowledged every byte sent (Linux
        ``SIOCOUTQ``; elsewhere at once); raise when it resets or closes the connection first."""
        deadline = time.monotonic() + self.send_timeout_s
        while True:
            # the acknowledgement before the peer's state: reading the repository's close makes
            # TLS answer it, and that answer (to a socket already closed) is never acknowledged
            unacked = _unacked(sock)
            if unacked is None or unacked == 0:
                return  # a close after this is the hold's to see
            state = self._peer_state(sock)
            if state != "open":
                raise AtnaError(
                    f"{self.where} {'reset' if state == 'reset' else 'closed'} the connection "
                    f"while a record was on its way{self._refusal()}; it stays queued and is sent "
                    "again."
                )
            if time.monotonic() > deadline:
                raise AtnaError(
                    f"{self.where} did not acknowledge the batch within "
                    f"{self.send_timeout_s:g} s; it stays queued and is sent again."
                )
            time.sleep(0.001)

    def _refusal(self) -> str:
        """Why a repository drops a new TLS connection at once: with TLS 1.3 a refused client
        certificate shows only now, after the handshake (ATNA node authentication)."""
        if not self._fresh:
            return ""
        why = f" ({_plain(self._peer_error)})" if self._peer_error else ""
        if self.has_client_certificate:
            return (
                f" right after the first record{why} (it may not have taken it): it does not "
                "accept this workstation's certificate (atna.client_cert_file; is it signed by a "
                "CA the repository trusts?)"
            )
        return (
            f" right after the first record{why} (it may not have taken it): a repository that "
            "authenticates nodes (ATNA) requires this workstation's certificate; set "
            "atna.client_cert_file and atna.client_key_file"
        )


#: what a port that does not finish a TLS handshake usually is (RFC 5425 8: syslog over TLS is
#: port 6514; 514 is plain syslog)
_NOT_TLS = (
    "check that atna.port is the repository's syslog-over-TLS port (RFC 5425, usually 6514), "
    "not plain syslog (514) or another service, and that a firewall lets it through"
)

# OpenSSL reason codes (ssl.SSLError.reason) a person can act on, in words
_TLS_REASONS = (
    (
        ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "HTTP_REQUEST", "PACKET_LENGTH"),
        "the port does not speak TLS: " + _NOT_TLS,
    ),
    (
        ("CERTIFICATE_REQUIRED", "UNKNOWN_CA", "BAD_CERTIFICATE"),
        "it refused this workstation's certificate, or its absence (ATNA node authentication): "
        "set atna.client_cert_file and atna.client_key_file to a certificate signed by a CA "
        "the repository trusts",
    ),
    (
        ("HANDSHAKE_FAILURE",),
        "it ended the handshake; most often it requires this workstation's certificate "
        "(atna.client_cert_file and atna.client_key_file, signed by a CA it trusts), else it "
        "shares no TLS version or cipher with this workstation (TLS 1.2 or later)",
    ),
    (
        ("CERTIFICATE_EXPIRED", "CERTIFICATE_REVOKED"),
        "it refused this workstation's certificate as expired or revoked: renew "
        "atna.client_cert_file",
    ),
    (
        ("PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "NO_PROTOCOLS_AVAILABLE", "NO_CIPHERS"),
        "it offers no TLS version or cipher this workstation accepts (TLS 1.2 or later, BCP 195)",
    ),
    (
        ("UNEXPECTED_EOF", "EOF"),
        "it closed the connection during the handshake (it may require this workstation's "
        "certificate: atna.client_cert_file); else " + _NOT_TLS,
    ),
)


def _tls_words(exc: ssl.SSLError) -> str:
    """A failed handshake in words: OpenSSL's reason code mapped to what to check, never its
    own text ("[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)")."""
    reason = "EOF" if isinstance(exc, ssl.SSLEOFError) else str(exc.reason or exc)
    for codes, words in _TLS_REASONS:
        if any(code in reason.upper() for code in codes):
            return words
    return f"{_plain(reason)}; check atna.port, atna.ca_file and atna.client_cert_file"


def _plain(reason: str) -> str:
    """An OpenSSL reason or message without its code style and CPython's source location."""
    text = re.sub(r"\s*\(_ssl\.c:\d+\)|\[SSL: [A-Z0-9_]+\]\s*|_ssl\.c:\d+:\s*", "", reason)
    text = text.strip().rstrip(".")
    return text.replace("_", " ").lower() if " " not in text else text  # a bare code


def _why_untrusted(exc: ssl.SSLCertVerificationError) -> tuple[str, str]:
    """(a short code for the audit row, the sentence) for a refused server certificate."""
    code = getattr(exc, "verify_code", None)
    message = getattr(exc, "verify_message", None) or str(exc)
    message = _plain(message)
    if code == 62 or "hostname mismatch" in message.lower() or "ip address mismatch" in message:
        return "host_name_mismatch", (
            "its certificate is not issued for that host name (atna.host must be a name the "
            f"certificate lists; {message})"
        )
    if code in (18, 19, 20, 21, 2):
        return "untrusted_certificate", (
            "its certificate is not signed by the CA in atna.ca_file (a self-signed or foreign "
            f"certificate; {message})"
        )
    if code == 10:
        return "expired_certificate", f"its certificate has expired ({message})"
    return "certificate_refused", (
        f"its certificate was refused ({message}): check atna.ca_file and atna.host"
    )


class AtnaDestination:
    """The repository as a forwarding destination (:mod:`viewer.audit.forwarding`)."""

    name = "the ATNA audit repository"

    def __init__(
        self,
        section: AtnaSection,
        source: AtnaSource,
        outbox_path: Path,
        *,
        files: TlsFiles,
    ) -> None:
        self.section = section
        self.source = source
        self.outbox_path = outbox_path
        self.files = files
        self._sender: SyslogTlsSender | None = None
        self._trust_failure: AtnaTrustError | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> AtnaDestination:
        section = settings.values.atna
        source = AtnaSource(
            source_id=section.source_id or socket.gethostname(),
            enterprise_site_id=section.enterprise_site_id,
            app_name=section.app_name,
        )
        files = TlsFiles(
            ca_file=Path(section.ca_file),
            client_cert_file=Path(section.client_cert_file) if section.client_cert_file else None,
            client_key_file=Path(section.client_key_file) if section.client_key_file else None,
        )
        return cls(section, source, settings.atna_outbox_path, files=files)

    def encode(self, log_id: str, record: AuditRecord) -> bytes:
        return syslog_message(record, self.source, log_id=log_id, facility=self.section.facility)

    def send(self, items: list[OutboxItem]) -> None:
        if self._sender is None:
            try:
                context = tls_context(self.files)
            except AtnaTrustError as exc:
                self._trust_failure = exc
                raise
            self._sender = SyslogTlsSender(
                self.section.host,
                self.section.port,
                context,
                connect_timeout_s=self.section.connect_timeout_s,
                send_timeout_s=self.section.send_timeout_s,
            )
            self._sender.has_client_certificate = self.files.client_cert_file is not None
        try:
            self._sender.send([item.payload for item in items])
        except AtnaError as exc:
            if isinstance(exc, AtnaTrustError):
                self._trust_failure = exc
            if exc.delivered:
                raise PartlySentError(str(exc), delivered=exc.delivered) from exc
            raise
        self._trust_failure = None

    def alarm_event(self, previous_error: str | None) -> AuditEvent | None:
        """A ``node_authentication_failed`` row when this pass failed TLS authentication and
        the queue did not already stand on that same failure (one row when it starts, not one
        per retry; again when it changes or after it was fixed and recurs)."""
        failure = self._trust_failure
        if failure is None or str(failure) == previous_error:
            return None
        return AuditEvent(
            type=EventType.NODE_AUTHENTICATION_FAILED,
            outcome="failure",
            reason=str(failure),
            detail={
                "destination": f"{self.section.host}:{self.section.port}",
                "code": failure.code,
                "client_certificate": self.files.client_cert_file is not None,
            },
        )

    def close(self) -> None:
        if self._sender is not None:
            self._sender.close()


def forward_atna(
    settings: Settings,
    *,
    backoff: Backoff | None = None,
    now: bool = False,
    record: Recorder | None = None,
) -> PassResult:
    """One pass of ``bedside audit atna send``: queue the log's new rows, send what waits. A
    repository that is down or not trusted, and a local log that went backwards, are reported
    in ``error``; the rows wait in the outbox and nothing is lost."""
    gap = went_back(settings, settings.atna_outbox_path)
    result = forward_pass(
        settings, AtnaDestination.from_settings(settings), backoff=backoff, now=now, record=record
    )
    if gap is None:
        return result
    head, queued = gap
    alarm = (
        f"The local audit log now ends at row #{head}, but rows up to #{queued} were already "
        "sent to the ATNA repository: its tail was cut off or the file rolled back (the "
        "repository keeps the rows it received). Run `bedside audit verify` and tell IT"
    )
    return replace(result, error="; ".join(e for e in (alarm, result.error) if e))
