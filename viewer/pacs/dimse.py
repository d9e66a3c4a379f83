"""DIMSE with pynetdicom: C-ECHO (PS3.7 9.1.5), C-STORE (9.1.1), Study Root C-FIND (PS3.4
C.6.2) and C-GET (PS3.4 C.4.3: the instances come back over the same association, so the
workstation opens no inbound port, unlike C-MOVE), optionally over TLS (PS3.15 B.1).

Every failure is a :class:`~viewer.pacs.connection.PacsError` whose text says what happened: the
association was refused (and why: the called AE title is not recognised, ...), nothing listens,
the TLS handshake failed; a C-STORE failure status (PS3.4 B.2.3: 0xA7xx out of resources, 0xA9xx
data set does not match, 0xCxxx cannot understand) is a :class:`PacsRejectedError`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from io import BytesIO
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from viewer.pacs.connection import (
    PacsCancelledError,
    PacsError,
    PacsRejectedError,
    PacsTarget,
    check_study_size,
    describe_connect_failure,
    min_bytes_per_window,
    write_instance,
)

__all__ = ["echo", "find_studies", "get_study", "store"]

VERIFICATION = UID("1.2.840.10008.1.1")
STUDY_ROOT_FIND = UID("1.2.840.10008.5.1.4.1.2.2.1")
STUDY_ROOT_GET = UID("1.2.840.10008.5.1.4.1.2.2.3")

# What a chest X-ray study held in PACS may contain (PS3.4 B.5), including what Bedside itself
# sends back: CR, DX (presentation and processing), secondary captures, SR, GSPS, key objects.
RETRIEVE_SOP_CLASSES = (
    "1.2.840.10008.5.1.4.1.1.1",  # Computed Radiography Image Storage
    "1.2.840.10008.5.1.4.1.1.1.1",  # Digital X-Ray Image Storage - For Presentation
    "1.2.840.10008.5.1.4.1.1.1.1.1",  # Digital X-Ray Image Storage - For Processing
    "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture Image Storage
    "1.2.840.10008.5.1.4.1.1.7.2",  # Multi-frame Grayscale Byte SC
    "1.2.840.10008.5.1.4.1.1.7.4",  # Multi-frame True Color SC
    "1.2.840.10008.5.1.4.1.1.88.11",  # Basic Text SR
    "1.2.840.10008.5.1.4.1.1.88.22",  # Enhanced SR
    "1.2.840.10008.5.1.4.1.1.88.33",  # Comprehensive SR
    "1.2.840.10008.5.1.4.1.1.88.59",  # Key Object Selection
    "1.2.840.10008.5.1.4.1.1.11.1",  # Grayscale Softcopy Presentation State
    "1.2.840.10008.5.1.4.1.1.2",  # CT Image Storage
)

# Compressed pixel data is kept as PACS holds it: the same reader decodes it as it would a file.
RETRIEVE_TRANSFER_SYNTAXES = (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    "1.2.840.10008.1.2.1.99",  # Deflated Explicit VR Little Endian
    "1.2.840.10008.1.2.4.50",  # JPEG Baseline
    "1.2.840.10008.1.2.4.70",  # JPEG Lossless SV1
    "1.2.840.10008.1.2.4.80",  # JPEG-LS Lossless
    "1.2.840.10008.1.2.4.90",  # JPEG 2000 Lossless
    "1.2.840.10008.1.2.4.91",  # JPEG 2000
    "1.2.840.10008.1.2.5",  # RLE Lossless
)

# PS3.4 B.2.3 / C.4.3.1.4: statuses a person can act on
_STORE_FAILURES = {
    0xA700: "PACS is out of resources",
    0xA900: "the object does not match its SOP class",
    0xC000: "PACS cannot understand the object",
    0x0117: "the SOP Instance UID is invalid",
    0x0122: "PACS does not support this kind of object",
    0x0124: "PACS refused the object (not authorised)",
    0x0211: "the Message ID is not recognised",
    0x0212: "the object's SOP class is not the one negotiated",
}
_WARNINGS = frozenset({0xB000, 0xB006, 0xB007, 0x0107, 0x0116})


class _Watch:
    """One association as pynetdicom's events show it, and its abort when the caller cancels.

    pynetdicom waits for each answer on a queue with ``pacs.timeout_s`` as the limit and does
    not look up when the association is aborted, and its DUL thread is not a daemon: a PACS that
    accepted the association and then said nothing held the search, the retrieval or the send
    (and the process, after the window closed) that long. So a daemon thread polls ``cancel``
    and, once it is true, aborts the association (A-ABORT, PS3.8 7.3.1) and wakes the waiting
    thread with what each queue's reader takes for "nothing came"."""

    POLL_S = 0.05

    def __init__(self, cancel: Callable[[], bool] | None) -> None:
        self.cancel = cancel
        self.connected_at: float | None = None  # EVT_CONN_OPEN: the TCP (and TLS) link is up
        self.ended_at: float | None = None  # the association request returned
        self.answered = False  # EVT_ACSE_RECV: an A-ASSOCIATE-AC/RJ, A-ABORT or A-P-ABORT came
        self.cancelled = False
        self._done = threading.Event()

    def handlers(self) -> list[tuple[Any, Callable[[Any], None]]]:
        from pynetdicom import evt

        return [(evt.EVT_CONN_OPEN, self._opened), (evt.EVT_ACSE_RECV, self._received)]

    def _opened(self, _event: Any) -> None:
        self.connected_at = time.monotonic()

    def waited_s(self) -> float:
        """How long the association request waited for an answer once connected (0: never
        connected)."""
        if self.connected_at is None or self.ended_at is None:
            return 0.0
        return self.ended_at - self.connected_at

    def _received(self, _event: Any) -> None:
        self.answered = True

    def attach(self, assoc: Any) -> None:
        """Called with the association before it is requested (``_create_socket``)."""
        if self.cancel is not None:
            threading.Thread(
                target=self._watch, args=(assoc, self.cancel), name="pacs-abort", daemon=True
            ).start()

    def _watch(self, assoc: Any, cancel: Callable[[], bool]) -> None:
        while not self._done.wait(self.POLL_S):
            if cancel():
                self.cancelled = True
                _drop_late_primitives(assoc)
                assoc.abort()
                assoc.dul.to_user_queue.put(None)  # the association request's wait
                assoc.dimse.msg_queue.put((None, None))  # a DIMSE answer's wait
                return

    def close(self) -> None:
        self._done.set()


def _drop_late_primitives(assoc: Any) -> None:
    """After our A-ABORT the association waits for the transport to close (PS3.8 9.2, Sta13),
    where a request this side had already under way (a C-STORE sub-operation's answer during a
    C-GET, Evt9) is not a valid event: pynetdicom raises it in its DUL thread, an uncaught
    exception on stderr. The association is over, so such a request is dropped; any other
    invalid event is raised as before."""
    from pynetdicom.fsm import InvalidEventError

    machine = assoc.dul.state_machine
    act = machine.do_action

    def do_action(event: str) -> None:
        try:
            act(event)
        except InvalidEventError:
            if machine.current_state != "Sta13":
                raise

    machine.do_action = do_action


def _cancelled(target: PacsTarget) -> PacsCancelledError:
    return PacsCancelledError(
        f"The exchange with PACS at {target.dimse_address} was cancelled before PACS answered."
    )


def _ae(target: PacsTarget) -> Any:
    from pynetdicom import AE
    from pynetdicom.transport import AssociationSocket

    class ClosingSocket(AssociationSocket):
        """pynetdicom 3.0.4 skips ``close()`` when ``shutdown()`` raises, which it does for a
        socket that never connected or whose TLS peer sent an alert: each failed association
        leaked its socket. Close it whatever shutdown says."""

        def _shutdown_socket(self) -> None:
            sock = self.socket
            if sock is None:
                return
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    class ClosingAE(AE):
        on_association: Callable[[Any], None] | None = None

        def _create_socket(self, assoc: Any, address: Any, tls_args: Any) -> Any:
            if self.on_association is not None:
                self.on_association(assoc)
            sock = ClosingSocket(assoc, address=address)
            sock.tls_args = tls_args
            return sock

    s = target.section
    ae = ClosingAE(ae_title=s.calling_aet)
    ae.connection_timeout = s.connect_timeout_s
    ae.acse_timeout = s.connect_timeout_s
    ae.dimse_timeout = s.timeout_s
    ae.network_timeout = s.timeout_s
    return ae


@contextlib.contextmanager
def _association(
    target: PacsTarget,
    ae: Any,
    *,
    cancel: Callable[[], bool] | None = None,
    ext_neg: list[Any] | None = None,
    **handlers: Any,
) -> Iterator[Any]:
    """An established association to the site's PACS, released (or aborted) on exit; aborted
    at once when ``cancel()`` turns true (:class:`_Watch`), which raises
    :class:`PacsCancelledError`."""
    target.require_dimse()
    s = target.section
    context = target.ssl_context() if s.tls else None
    tls_args = (context, s.host) if context is not None else None
    if cancel is not None and cancel():
        raise _cancelled(target)
    watch = _Watch(cancel)
    ae.on_association = watch.attach
    try:
        assoc = _request(target, ae, tls_args, ext_neg, [*handlers.values(), *watch.handlers()])
        watch.ended_at = time.monotonic()
        if watch.cancelled:
            raise _cancelled(target)
        if not assoc.is_established:
            raise PacsError(_refusal(target, assoc, context, watch))
        try:
            yield assoc
        except BaseException as exc:
            assoc.abort()
            if watch.cancelled and not isinstance(exc, PacsCancelledError):
                raise _cancelled(target) from exc
            raise
        if watch.cancelled:  # an answer missing because of the abort is not an answer
            raise _cancelled(target)
        assoc.release()
    finally:
        watch.close()


def _request(
    target: PacsTarget, ae: Any, tls_args: Any, ext_neg: list[Any] | None, handlers: list[Any]
) -> Any:
    s = target.section
    # pynetdicom logs a refusal at ERROR under its own logger (with a NullHandler: nothing is
    # printed unless the app configures logging); the PacsError raised says it in words
    try:
        assoc = ae.associate(
            s.host,
            s.port,
            ae_title=s.called_aet,
            tls_args=tls_args,
            ext_neg=ext_neg,
            evt_handlers=handlers,
        )
    except (socket.gaierror, ValueError) as exc:
        # pynetdicom resolves the host name itself and lets the lookup's failure through
        # (socket.gaierror for an unknown name, ValueError for a NUL or an over-long label)
        raise PacsError(
            f"The PACS host name {s.host!r} is not known (check pacs.host and the DNS)."
        ) from exc
    except OSError as exc:
        raise PacsError(
            f"PACS at {s.host}:{s.port} cannot be reached: {exc.strerror or exc}."
        ) from exc
    return assoc


def _unread_rejection(assoc: Any) -> Any:
    """An A-ASSOCIATE-RJ pynetdicom never read: it looks at the socket before it reads the
    answer, so a PACS that rejects and closes at once (Orthanc does) leaves the rejection, and
    its reason, in the queue while the association looks merely ended."""
    from pynetdicom.pdu_primitives import A_ASSOCIATE

    for item in list(assoc.dul.to_user_queue.queue):
        if isinstance(item, A_ASSOCIATE) and item.result in (0x01, 0x02):
            return item
    return None


def _refusal(target: PacsTarget, assoc: Any, context: Any, watch: _Watch) -> str:
    s = target.section
    unread = None if assoc.is_rejected else _unread_rejection(assoc)
    if assoc.is_rejected or unread is not None:
        primitive = unread or assoc.acceptor.primitive
        reason = str(primitive.reason_str) if primitive is not None else "no reason given"
        hint = ""
        if "Called AE" in reason:
            hint = f": check pacs.called_aet ({s.called_aet!r})"
        elif "Calling AE" in reason:
            hint = f": PACS does not know this workstation's AE title {s.calling_aet!r}"
        reason = reason[:1].lower() + reason[1:]  # "called AE title not recognised"
        return f"PACS at {s.host}:{s.port} refused the association ({reason}){hint}."
    if watch.waited_s() >= s.connect_timeout_s * 0.9 and not watch.answered:
        # neither A-ASSOCIATE-AC nor -RJ nor an abort (PS3.8 9.3.2-9.3.4) within the ACSE
        # timeout: nothing was said about the AE titles, so they are not blamed
        return (
            f"PACS at {s.host}:{s.port} accepted the connection but gave no answer to the "
            f"association request within {s.connect_timeout_s:g} s: the service on that port "
            "is not answering DICOM (is pacs.port the PACS's DICOM port?), or a firewall or "
            "proxy holds the connection."
        )
    diagnosis = describe_connect_failure(
        s.host,
        s.port,
        context=context,
        timeout_s=min(s.connect_timeout_s, 5.0),
        after_handshake=True,
    )
    if diagnosis is not None:
        return diagnosis
    return (
        f"PACS at {s.host}:{s.port} accepted the connection but ended the association: it may "
        f"not accept AE title {s.calling_aet!r} or the services offered."
    )


def echo(target: PacsTarget, *, cancel: Callable[[], bool] | None = None) -> float:
    """C-ECHO; returns the seconds the round trip took."""
    ae = _ae(target)
    ae.add_requested_context(VERIFICATION)
    started = time.monotonic()
    with _association(target, ae, cancel=cancel) as assoc:
        status = assoc.send_c_echo()
    if not status or getattr(status, "Status", None) != 0x0000:
        raise PacsError(f"PACS at {target.dimse_address} did not answer the echo (C-ECHO).")
    return time.monotonic() - started


def _read(part10: bytes) -> Dataset:
    return dcmread(BytesIO(part10), force=False)


def store(
    target: PacsTarget, objects: Sequence[bytes], *, cancel: Callable[[], bool] | None = None
) -> None:
    """C-STORE each Part-10 object over one association. A refused object raises
    :class:`PacsRejectedError`; the ones before it were stored."""
    datasets = [_read(part10) for part10 in objects]
    ae = _ae(target)
    offered: set[tuple[str, str]] = set()
    for ds in datasets:
        sop_class = str(ds.SOPClassUID)
        syntaxes = {str(ds.file_meta.TransferSyntaxUID), ExplicitVRLittleEndian}
        for syntax in sorted(syntaxes):
            if (sop_class, syntax) not in offered:
                offered.add((sop_class, syntax))
                ae.add_requested_context(sop_class, syntax)
    with _association(target, ae, cancel=cancel) as assoc:
        for ds in datasets:
            if not any(cx.abstract_syntax == ds.SOPClassUID for cx in assoc.accepted_contexts):
                raise PacsRejectedError(
                    f"PACS at {target.dimse_address} does not accept "
                    f"{ds.SOPClassUID.name} objects (presentation context refused)."
                )
            status = assoc.send_c_store(ds)
            if not status or not hasattr(status, "Status"):
                raise PacsError(
                    f"PACS at {target.dimse_address} did not answer the C-STORE in time."
                )
            code = int(status.Status)
            if code != 0x0000 and code not in _WARNINGS:
                raise PacsRejectedError(_store_failure(target, code))


def _store_failure(target: PacsTarget, code: int) -> str:
    meaning = _STORE_FAILURES.get(code) or _STORE_FAILURES.get(code & 0xFF00)
    if meaning is None and code & 0xF000 == 0xC000:
        meaning = _STORE_FAILURES[0xC000]
    text = meaning or "PACS refused the object"
    return f"PACS at {target.dimse_address} refused the object: {text} (status 0x{code:04X})."


def find_studies(
    target: PacsTarget, query: Dataset, *, cancel: Callable[[], bool] | None = None
) -> list[Dataset]:
    """Study Root C-FIND at STUDY level; ``query`` holds the keys to match and to return. At
    most ``pacs.max_search_answers`` answers: a PACS that ignores the search's criteria, or
    answers without end, must not fill the memory."""
    ae = _ae(target)
    ae.add_requested_context(STUDY_ROOT_FIND)
    query.QueryRetrieveLevel = "STUDY"
    found: list[Dataset] = []
    pending = 0
    # the whole answer within pacs.timeout_s: pynetdicom's timeouts are per message, so a PACS
    # sending a pending status every few seconds (with or without a study) never tripped them
    deadline = time.monotonic() + target.section.timeout_s
    most = target.section.max_search_answers
    with _association(target, ae, cancel=cancel) as assoc:
        for status, identifier in assoc.send_c_find(query, STUDY_ROOT_FIND):
            code = int(getattr(status, "Status", -1))
            if time.monotonic() > deadline:
                raise PacsError(
                    f"PACS at {target.dimse_address} did not finish its answer to the search "
                    f"(C-FIND) within {target.section.timeout_s:g} s."
                )
            if code in (0xFF00, 0xFF01):
                pending += 1
                if identifier is not None:
                    found.append(identifier)
                if pending > most:  # the association is aborted on the way out
                    raise PacsError(
                        f"PACS at {target.dimse_address} answered the search with more than "
                        f"{most:,} studies (pacs.max_search_answers): give narrower criteria."
                    )
            elif code != 0x0000:
                raise PacsError(_find_failure(target, status))
    return found


def _find_failure(target: PacsTarget, status: Dataset) -> str:
    if not status or not hasattr(status, "Status"):
        return f"PACS at {target.dimse_address} did not answer the search (C-FIND) in time."
    return (
        f"PACS at {target.dimse_address} could not run the search (C-FIND status "
        f"0x{int(status.Status):04X})."
    )


def get_study(
    target: PacsTarget,
    study_uid: str,
    dest_dir: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> list[Path]:
    """C-GET every instance of one study into ``dest_dir`` as ``<SOPInstanceUID>.dcm``, written
    as PACS sent them (file meta + data set, bytes unchanged). Returns the files written."""
    from pynetdicom import build_role, evt

    ae = _ae(target)
    ae.add_requested_context(STUDY_ROOT_GET)
    roles = []
    # one presentation context per transfer syntax (12 x 9 + 1 of the 128 allowed): PACS then
    # sends each instance in the syntax it holds instead of transcoding to the first accepted
    for sop_class in RETRIEVE_SOP_CLASSES:
        for syntax in RETRIEVE_TRANSFER_SYNTAXES:
            ae.add_requested_context(sop_class, syntax)
        roles.append(build_role(sop_class, scp_role=True))
    dest_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    received = [0]  # bytes written, for check_study_size
    too_large: list[PacsError] = []  # raised on this thread: pynetdicom's handler cannot stop

    def on_store(event: Any) -> int:
        data = event.encoded_dataset()
        received[0] += len(data)
        try:
            check_study_size(target.section, len(written) + 1, received[0])
        except PacsError as exc:
            too_large.append(exc)
            return 0xA700
        try:
            path = write_instance(
                dest_dir, str(event.request.AffectedSOPInstanceUID), lambda out: out.write(data)
            )
        except (OSError, PacsError):
            return 0xA700  # out of resources: PACS reports the sub-operation as failed
        written.append(path)
        return 0x0000

    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = study_uid
    failed = 0
    window_s, min_bytes = target.section.timeout_s, min_bytes_per_window(target.section)
    window_start, window_bytes = time.monotonic(), 0
    with _association(
        target, ae, cancel=cancel, ext_neg=roles, store=(evt.EVT_C_STORE, on_store)
    ) as assoc:
        for status, _identifier in assoc.send_c_get(query, STUDY_ROOT_GET):
            if cancel is not None and cancel():
                raise PacsCancelledError("The retrieval was cancelled.")
            if too_large:
                raise too_large[0]
            if time.monotonic() - window_start >= window_s:
                if received[0] - window_bytes < min_bytes:
                    raise PacsError(
                        f"PACS at {target.dimse_address} sent the study too slowly (less than "
                        f"{min_bytes // 1024} KB in {window_s:g} s, pacs.min_kb_per_timeout); "
                        "the retrieval was stopped."
                    )
                window_start, window_bytes = time.monotonic(), received[0]
            if not status or not hasattr(status, "Status"):
                raise PacsError(
                    f"PACS at {target.dimse_address} stopped answering the retrieval (C-GET)."
                )
            code = int(status.Status)
            remaining = int(getattr(status, "NumberOfRemainingSuboperations", 0) or 0)
            failed = int(getattr(status, "NumberOfFailedSuboperations", 0) or 0)
            if progress is not None:
                progress(len(written), len(written) + remaining)
            if code not in (0x0000, 0xFF00, 0xB000):
                raise PacsError(
                    f"PACS at {target.dimse_address} could not send the study (C-GET status "
                    f"0x{code:04X}): is the Study Instance UID right?"
                )
    if too_large:
        raise too_large[0]
    if failed:
        raise PacsError(
            f"{failed} instance(s) of the study could not be retrieved over C-GET: PACS may "
            "hold a kind of object this workstation does not accept."
        )
    return written
