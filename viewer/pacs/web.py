"""DICOMweb with dicomweb-client over one ``requests`` session: STOW-RS (PS3.18 10.5), QIDO-RS
(10.6) and WADO-RS (10.4), with the site's authentication (HTTP basic, RFC 7617, or a bearer
token, RFC 6750, read from a file), CA bundle and client certificate.

Retries are the outbox's (with backoff across restarts), so the client's own are off. A STOW
answered 409 Conflict or 4xx with a Failed SOP Sequence (0008,1198) is PACS refusing the object:
:class:`~viewer.pacs.connection.PacsRejectedError`; 5xx, timeouts and unreachable hosts are
plain :class:`~viewer.pacs.connection.PacsError`, retried later. 401/403 is a configuration
problem (wrong credentials), kept pending too, since fixing the secret file makes it go through.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO

import requests
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from requests.adapters import HTTPAdapter

from viewer.config import PacsSection
from viewer.pacs.connection import (
    PacsCancelledError,
    PacsError,
    PacsNotConfiguredError,
    PacsRejectedError,
    PacsTarget,
    check_study_size,
    min_bytes_per_window,
    write_instance,
)

__all__ = ["client", "retrieve_study", "search_studies", "store"]

_FAILED_SOP_SEQUENCE = "00081198"
_FAILURE_REASON = "00081197"
# PS3.18 Table 10.5.3-1 / PS3.4 B.2.3 failure reasons a person can act on
_REASONS = {
    0x0110: "processing failure",
    0x0122: "PACS does not support this kind of object",
    0x0124: "not authorised",
    0xA700: "PACS is out of resources",
    0xA900: "the object does not match its SOP class",
    0xC000: "PACS cannot understand the object",
    0xC122: "the referenced transfer syntax is not supported",
}


# what a decoder raises on an answer that is not what DICOMweb promises (not JSON, JSON nested
# thousands deep, multipart without its parts, a part that is not DICOM)
_NOT_DICOMWEB = (
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    RecursionError,
    EOFError,
    struct.error,
    InvalidDicomError,
)


class _AnswerTooLarge(requests.exceptions.RequestException):
    """The answer passed its byte limit."""


class _AnswerStalled(requests.exceptions.RequestException):
    """The answer did not arrive in time as a whole (a trickle that dodges the read timeout)."""


class _Bounded:
    """``response.raw`` with limits: at most ``limit`` bytes (since :meth:`next_part`), and
    either the whole answer within ``deadline_s`` (a search) or at least ``min_bytes`` in every
    ``window_s`` (a retrieval). A watchdog shuts the socket down when time runs out, since a
    blocked read is woken by nothing else."""

    def __init__(
        self,
        raw: Any,
        *,
        limit: int,
        deadline_s: float | None,
        window_s: float,
        min_bytes: int,
    ) -> None:
        self._raw = raw
        self._limit = limit
        self._min_bytes = min_bytes
        self._part = 0
        self._received = 0
        self._stalled = False
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._deadline_s = deadline_s
        self._window_s = window_s
        threading.Thread(target=self._watch, name="pacs-answer-watchdog", daemon=True).start()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    @property
    def received(self) -> int:
        """Bytes of the answer so far."""
        return self._received

    def next_part(self) -> None:
        self._part = 0

    def _watch(self) -> None:
        started, seen = time.monotonic(), 0
        while not self._done.wait(min(self._window_s, 1.0)):
            now = time.monotonic()
            if self._deadline_s is not None:
                late = now - started > self._deadline_s
            elif now - started >= self._window_s:
                late, seen, started = (
                    self._received - seen < self._min_bytes,
                    self._received,
                    now,
                )
            else:
                late = False
            if late:
                with self._lock:
                    if self._done.is_set():
                        return
                    self._stalled = True
                    self._shutdown()
                return

    def _shutdown(self) -> None:
        # the connection's socket, or (once http.client let go of it: an answer that ends when
        # the connection closes) the one under the response's file
        sock = getattr(getattr(self._raw, "_connection", None), "sock", None)
        if sock is None:
            fp = getattr(getattr(self._raw, "_fp", None), "fp", None)
            sock = getattr(getattr(fp, "raw", None), "_sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                return

    def _count(self, chunk: bytes) -> bytes:
        self._received += len(chunk)
        self._part += len(chunk)
        if self._part > self._limit:
            self.close()
            raise _AnswerTooLarge(f"more than {self._limit // 2**20} MB")
        return chunk

    def _check(self) -> None:
        if self._stalled:
            self.close()
            raise _AnswerStalled

    def stream(self, amt: int | None = None, decode_content: bool | None = None) -> Iterator[bytes]:
        try:
            for chunk in self._raw.stream(amt, decode_content=decode_content):
                self._check()
                yield self._count(chunk)
        except Exception:
            self._check()  # a read the watchdog broke off: say why
            self.close()
            raise
        self._check()  # or the answer just ended there
        self.release()

    def read(self, amt: int | None = None, **kwargs: Any) -> bytes:
        try:
            data = self._raw.read(amt, **kwargs)
        except Exception:
            self._check()
            raise
        self._check()
        if not data:
            self.release()
        return self._count(data)

    def close(self) -> None:
        self.release()
        self._raw.close()

    def release(self) -> None:
        with self._lock:
            self._done.set()


def _pools(live: set[socket.socket]) -> dict[str, Any]:
    """urllib3 connection pools whose connections put each socket they open in ``live``, so
    :meth:`_BoundedAnswers.abort` can break off a request blocked on a silent PACS."""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class Tracked(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            live.add(sock)
            return sock

    class TrackedTls(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            live.add(sock)
            return sock

    class Pool(HTTPConnectionPool):
        ConnectionCls = Tracked

    class TlsPool(HTTPSConnectionPool):
        ConnectionCls = TrackedTls

    return {"http": Pool, "https": TlsPool}


class _BoundedAnswers(HTTPAdapter):
    """Every answer through :class:`_Bounded`; with a CA bundle, HTTPS trusting exactly it.
    ``Session.verify`` alone is not enough: requests lets $REQUESTS_CA_BUNDLE /
    $CURL_CA_BUNDLE override it for every request (psf/requests#3829), so a workstation with
    either set would ignore pacs.ca_file."""

    def __init__(self, section: PacsSection, *, timeout_s: float) -> None:
        self._live: set[socket.socket] = set()  # before HTTPAdapter makes its pools
        super().__init__()
        self._section = section
        self._ca_bundle = section.ca_file
        self._timeout_s = timeout_s
        self.current: _Bounded | None = None
        self._answers: list[_Bounded] = []  # this session's (one operation's) answers

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pools(self._live)

    def abort(self) -> None:
        """Break off every request of this adapter at once (the window closing): a blocked
        read or write fails, which nothing else wakes before pacs.timeout_s."""
        for sock in list(self._live):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def send(self, request: Any, *args: Any, **kwargs: Any) -> requests.Response:
        if self._ca_bundle:
            # checked at each request: requests reads the file when it connects
            kwargs["verify"] = PacsTarget(self._section).trusted_ca_file()
        response = super().send(request, *args, **kwargs)
        # a search answer (pacs.max_results studies of a few fields) is far below
        # pacs.max_search_mb; dicomweb-client holds one retrieved instance (a chest image is
        # tens of MB) in memory, so pacs.max_instance_mb bounds that
        streamed = bool(kwargs.get("stream"))
        s = self._section
        self.current = _Bounded(
            response.raw,
            limit=(s.max_instance_mb if streamed else s.max_search_mb) * 2**20,
            deadline_s=None if streamed else self._timeout_s,
            window_s=self._timeout_s,
            min_bytes=min_bytes_per_window(s),
        )
        response.raw = self.current
        self._answers.append(self.current)
        return response

    def close(self) -> None:
        """The operation is over: an answer broken off half-read (a refusal, a limit, a cancel)
        still holds its connection, which urllib3's pools do not know of; closed here rather
        than at garbage collection (where it was a ResourceWarning, raised in whichever test
        ran then)."""
        for answer in self._answers:
            with contextlib.suppress(Exception):
                answer.close()
        self._answers.clear()
        super().close()
        for sock in list(self._live):
            with contextlib.suppress(OSError):
                sock.close()
        self._live.clear()


def _session(target: PacsTarget, timeout_s: float) -> requests.Session:
    s = target.section
    session = requests.Session()
    if s.ca_file:
        session.verify = target.trusted_ca_file()
    adapter = _BoundedAnswers(s, timeout_s=timeout_s)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    if s.client_cert_file:
        session.cert = (s.client_cert_file, s.client_key_file)
    if s.auth == "basic":
        session.auth = (s.username, _header_safe(target.secret(), _BASIC, "password"))
        _header_safe(s.username, _BASIC_USER, "user name")
    elif s.auth == "bearer":
        token = _header_safe(target.secret(), _BEARER, "bearer token")
        session.headers["Authorization"] = f"Bearer {token}"
    return session


# RFC 6750 2.1 b64token; RFC 7617 2: what requests can send (Latin-1, no control characters),
# the user-id without a colon
_BEARER = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_BASIC = re.compile(r"[\x20-\x7e\xa0-\xff]+")
_BASIC_USER = re.compile(r"[\x20-\x39\x3b-\x7e\xa0-\xff]+")


def _header_safe(value: str, allowed: re.Pattern[str], what: str) -> str:
    """A credential that can go into the Authorization header as it is; otherwise one sentence
    that does not repeat it (requests raised UnicodeEncodeError or InvalidHeader mid-request)."""
    if allowed.fullmatch(value) is None:
        raise PacsNotConfiguredError(
            f"The PACS {what} (pacs.password_file, pacs.username) holds characters an HTTP "
            "Authorization header cannot carry: a bearer token is letters, digits and -._~+/ "
            "(RFC 6750), a basic-auth user name and password printable Latin-1 on one line, the "
            "user name without a colon (RFC 7617)."
        )
    return value


def client(target: PacsTarget, *, timeout_s: float | None = None) -> Any:
    """A ``dicomweb_client.DICOMwebClient`` for the site's URL (retries off: the outbox's)."""
    from dicomweb_client import DICOMwebClient

    target.require_dicomweb()
    s = target.section
    read = s.timeout_s if timeout_s is None else timeout_s
    connect = s.connect_timeout_s if timeout_s is None else min(s.connect_timeout_s, timeout_s)
    try:
        web = DICOMwebClient(
            target.dicomweb_url, session=_session(target, read), timeout=(connect, read)
        )
    except ValueError as exc:
        raise PacsError(
            f"pacs.dicomweb_url {target.dicomweb_url!r} is not a usable address ({exc})."
        ) from exc
    web.set_http_retry_params(retry=False)
    return web


@contextmanager
def _opened(
    target: PacsTarget,
    *,
    timeout_s: float | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Iterator[Any]:
    """:func:`client` whose connections are closed afterwards, also when an answer was broken
    off half-read (it would hold its socket until garbage collection); broken off at once when
    ``cancel()`` turns true (a daemon thread polls it), which raises
    :class:`PacsCancelledError`."""
    if cancel is not None and cancel():
        raise PacsCancelledError(f"The exchange with {_where(target)} was cancelled.")
    web = client(target, timeout_s=timeout_s)
    done, cancelled = threading.Event(), threading.Event()

    def watch(check: Callable[[], bool]) -> None:
        while not done.wait(0.05):
            if check():
                cancelled.set()
                for adapter in web._session.adapters.values():
                    if isinstance(adapter, _BoundedAnswers):
                        adapter.abort()
                return

    if cancel is not None:
        threading.Thread(target=watch, args=(cancel,), name="pacs-abort", daemon=True).start()
    try:
        yield web
    except BaseException as exc:
        if cancelled.is_set() and not isinstance(exc, PacsCancelledError):
            raise PacsCancelledError(
                f"The exchange with {_where(target)} was cancelled before PACS answered."
            ) from exc
        raise
    finally:
        done.set()
        web._session.close()


def _where(target: PacsTarget) -> str:
    return f"PACS at {target.dicomweb_url}"


@contextmanager
def _http(target: PacsTarget, what: str, *, not_found: str | None = None) -> Iterator[None]:
    """Turn whatever ``requests`` raises into one sentence about ``what`` (``not_found``: the
    sentence for a 404, when it means the thing asked for rather than a wrong address)."""
    where = _where(target)
    try:
        yield
    except requests.exceptions.SSLError as exc:
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text:
            raise PacsError(
                f"The certificate of {where} is not trusted: give its CA in pacs.ca_file."
            ) from exc
        raise PacsError(
            f"The TLS connection to {where} failed during {what}: is the address right "
            "(https:// for a TLS port)?"
        ) from exc
    except PacsError:
        raise
    except _AnswerTooLarge as exc:
        raise PacsError(f"{where} sent an answer to {what} of {exc}: refused.") from exc
    except _AnswerStalled as exc:
        raise PacsError(f"{where} did not send its answer to {what} in time.") from exc
    except requests.exceptions.ConnectTimeout as exc:
        raise PacsError(f"{where} did not answer within the connect timeout ({what}).") from exc
    except requests.exceptions.ReadTimeout as exc:
        raise PacsError(f"{where} accepted {what} but did not answer in time.") from exc
    except requests.exceptions.ConnectionError as exc:
        raise PacsError(
            f"{where} cannot be reached ({what}): it is down, or the address is wrong."
        ) from exc
    except requests.exceptions.HTTPError as exc:
        response = exc.response
        code = response.status_code if response is not None else 0
        if code in (401, 403):
            raise PacsError(
                f"{where} refused the credentials for {what} (HTTP {code}): check pacs.auth, "
                "pacs.username and the secret file."
            ) from exc
        if code == 404 and not_found is not None:
            raise PacsError(f"{where} {not_found} (HTTP 404).") from exc
        if code == 404:
            raise PacsError(
                f"{where} has no DICOMweb service at that address (HTTP 404 for {what}): "
                "check pacs.dicomweb_url."
            ) from exc
        raise PacsError(f"{where} answered HTTP {code} to {what}.") from exc
    except requests.exceptions.RequestException as exc:
        raise PacsError(f"{where} could not complete {what}: {type(exc).__name__}.") from exc
    except _NOT_DICOMWEB as exc:
        raise PacsError(
            f"{where} sent an answer to {what} that is not DICOM ({type(exc).__name__})."
        ) from exc


def _json_value(element_holder: object, tag: str) -> list[Any]:
    """The "Value" list of ``tag`` in a DICOM JSON object (PS3.18 F.2), [] when it is not one."""
    element = element_holder.get(tag) if isinstance(element_holder, dict) else None
    value = element.get("Value") if isinstance(element, dict) else None
    return value if isinstance(value, list) else []


def _failed_reasons(response: requests.Response | None) -> list[str]:
    """The Failure Reasons (0008,1197) of a STOW-RS response's Failed SOP Sequence, each once,
    at most five: a PACS's answer is read defensively (nested without end, codes beyond the
    16-bit status of PS3.7 C.4, thousands of items)."""
    if response is None:
        return []
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return []
    items = _json_value(body, _FAILED_SOP_SEQUENCE)
    reasons: list[str] = []
    for item in items:
        values = _json_value(item, _FAILURE_REASON)
        first = values[0] if values else None
        code = first if isinstance(first, int) and 0 <= first <= 0xFFFF else None
        text = _REASONS.get(code if code is not None else -1, "refused")
        reason = f"{text} (0x{code:04X})" if code is not None else text
        if reason not in reasons:
            reasons.append(reason)
    return reasons[:5]


def store(
    target: PacsTarget, objects: Sequence[bytes], *, cancel: Callable[[], bool] | None = None
) -> None:
    """STOW-RS of Part-10 objects in one request. A 409 or 4xx naming failed instances (or 400
    bad request) is :class:`PacsRejectedError`; every instance stored on 200 or 202."""
    datasets = [dcmread(BytesIO(part10)) for part10 in objects]
    try:
        with _opened(target, cancel=cancel) as web, _http(target, "the upload (STOW-RS)"):
            answer = web.store_instances(datasets)
    except PacsCancelledError:
        raise
    except PacsError as exc:
        cause = exc.__cause__
        response = getattr(cause, "response", None)
        code = response.status_code if response is not None else 0
        reasons = _failed_reasons(response)
        if code in (400, 409, 413, 415) or (reasons and 400 <= code < 500):
            detail = "; ".join(reasons) or f"HTTP {code}"
            raise PacsRejectedError(f"{_where(target)} refused the object: {detail}.") from exc
        raise
    # PS3.18 10.5.3: the Referenced SOP Sequence lists what was stored. An object missing from
    # it was not stored, even on 200 (Orthanc answers so when a filter refuses an instance).
    failed = list(getattr(answer, "FailedSOPSequence", []) or []) if answer is not None else []
    stored = {
        str(item.get("ReferencedSOPInstanceUID", ""))
        for item in (getattr(answer, "ReferencedSOPSequence", []) or [])
    }
    missing = [ds for ds in datasets if str(ds.SOPInstanceUID) not in stored]
    if failed or missing:
        count = max(len(failed), len(missing))
        noun = "object" if count == 1 else f"{count} objects"
        raise PacsRejectedError(
            f"{_where(target)} did not store the {noun} (its answer lists "
            f"{'it' if count == 1 else 'them'} as failed or not stored)."
        )


def search_studies(
    target: PacsTarget,
    filters: dict[str, str],
    *,
    fields: Sequence[str] = (),
    limit: int | None = None,
    timeout_s: float | None = None,
    cancel: Callable[[], bool] | None = None,
) -> list[Dataset]:
    """QIDO-RS at study level; each answer as a pydicom Dataset (PS3.18 F.2 DICOM JSON)."""
    with (
        _opened(target, timeout_s=timeout_s, cancel=cancel) as web,
        _http(target, "the search (QIDO-RS)"),
    ):
        found = web.search_for_studies(
            search_filters=filters or None, fields=list(fields) or None, limit=limit
        )
    out = []
    for item in found:
        try:
            out.append(Dataset.from_json(json.dumps(item)))
        except _NOT_DICOMWEB as exc:
            raise PacsError(
                f"{_where(target)} sent a search answer that is not DICOM JSON."
            ) from exc
    return out


def _save(ds: Dataset, out: BinaryIO) -> None:
    ds.save_as(out, enforce_file_format=True)


def retrieve_study(
    target: PacsTarget,
    study_uid: str,
    dest_dir: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> list[Path]:
    """WADO-RS of one study into ``dest_dir``, each instance as ``<SOPInstanceUID>.dcm`` in the
    transfer syntax PACS holds it in (``transfer-syntax=*``: nothing re-compressed)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with (
        _opened(target, cancel=cancel) as web,
        _http(target, "the retrieval (WADO-RS)", not_found="has no study with this UID"),
    ):
        for ds in web.iter_study(study_uid, media_types=(("application/dicom", "*"),)):
            if cancel is not None and cancel():
                raise PacsCancelledError("The retrieval was cancelled.")
            path = write_instance(dest_dir, str(ds.get("SOPInstanceUID", "")), partial(_save, ds))
            bounded = web._session.get_adapter(target.dicomweb_url).current
            written.append(path)
            if bounded is not None:
                check_study_size(target.section, len(written), bounded.received)
                bounded.next_part()  # pacs.max_instance_mb is per instance
            if progress is not None:
                progress(len(written), 0)
    return written
