"""Results on their way to PACS: Part-10 objects queued in the durable outbox
(``DATA_DIR/pacs-outbox.sqlite``, :mod:`viewer.outbox`) and sent by STOW-RS and/or C-STORE.

- **never lost**: an object is on disk before :meth:`PacsDelivery.queue` returns; it is marked
  sent only after PACS acknowledged it; a kill -9 or a PACS that stops mid-send leaves it pending
  and it goes out on the next drain, after this process or the next one starts;
- **never duplicated**: the key is ``<destination>:<SOPInstanceUID>``, so queueing the same
  reading again adds nothing, and PACS stores a resend after a crash under the same UID (both
  STOW-RS and C-STORE replace an instance with the same SOP Instance UID, PS3.4 B.4.1);
- **a refusal is held, not dropped**: a C-STORE failure status or a STOW-RS 409 keeps the object
  in the outbox (``held``), shown in the status line and ``bedside pacs outbox list``, sent again
  only when IT asks (``bedside pacs outbox retry``);
- **recorded**: each send (``pacs_sent``) and each failure (``pacs_send_failed``: when it starts,
  when its reason changes, when PACS refuses; not every retry of the same failure) is an audit
  row under the object's pseudonymised patient, study and SOP Instance UIDs, never the raw ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from io import BytesIO
from typing import Any, Protocol

from pydicom import dcmread
from pydicom.dataset import Dataset

from viewer.audit.events import AuditEvent, EventType
from viewer.config import Settings
from viewer.errors import AuditError
from viewer.outbox import DrainResult, Outbox, OutboxItem, OutboxStatus, PermanentSendError
from viewer.pacs.connection import PacsError, PacsRejectedError, PacsTarget, is_uid
from viewer.pacs.state import PacsState, pacs_state, state_text

__all__ = ["AuditSink", "DeliveryStatus", "PacsDelivery", "encode_part10"]

DESTINATIONS = ("dicomweb", "dimse")

# SOP classes by what the site chooses to send (pacs.send); anything else is reported as "other"
_KIND_OF_CLASS = {
    "1.2.840.10008.5.1.4.1.1.88.11": "sr",
    "1.2.840.10008.5.1.4.1.1.88.22": "sr",
    "1.2.840.10008.5.1.4.1.1.88.33": "sr",
    "1.2.840.10008.5.1.4.1.1.88.34": "sr",
    "1.2.840.10008.5.1.4.1.1.7": "sc",
    "1.2.840.10008.5.1.4.1.1.7.2": "sc",
    "1.2.840.10008.5.1.4.1.1.7.4": "sc",
    "1.2.840.10008.5.1.4.1.1.11.1": "gsps",
}


class AuditSink(Protocol):
    """What delivery needs of an audit writer (``viewer.audit.AuditLog``): one row, identifiers
    raw (the log stores only their pseudonyms)."""

    def append(self, event: AuditEvent) -> object: ...


# what ``status`` answers: counts (of one reading's objects, or of the whole outbox) and times
DeliveryStatus = OutboxStatus


def encode_part10(ds: Dataset) -> bytes:
    """A dataset as a Part-10 file (PS3.10 7.1: preamble, DICM, file meta)."""
    out = BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def _header(payload: bytes) -> Dataset:
    return dcmread(BytesIO(payload), stop_before_pixels=True, specific_tags=None)


class PacsDelivery:
    """The site's PACS delivery over its outbox (see the module docstring).

    ``audit_sink`` None records nothing (a caller that records the outcome itself)."""

    def __init__(
        self,
        settings: Settings,
        audit_sink: AuditSink | None = None,
        *,
        outbox: Outbox | None = None,
        send_one: Callable[[str, PacsTarget, bytes], None] | None = None,
    ) -> None:
        self.settings = settings
        self.enabled = settings.values.pacs.enabled
        self.target = PacsTarget.from_settings(settings, require_enabled=False)
        self.audit = audit_sink
        self.outbox = outbox if outbox is not None else Outbox(settings.pacs_outbox_path)
        self._send_one = send_one or self._send_cancellable
        self._should_stop: Callable[[], bool] | None = None  # the drain's, for the transport

    def close(self) -> None:
        self.outbox.close()

    def __enter__(self) -> PacsDelivery:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- queueing ------------------------------------------------------------------------------

    def queue(self, datasets: Sequence[Dataset | bytes], *, reading_id: str) -> int:
        """Queue each object for each of the site's send transports; returns how many were new
        (0 when all of them were queued before: a resend of the same reading)."""
        if not self.enabled:
            PacsTarget.from_settings(self.settings)  # raises the "PACS is off" message
        items: list[tuple[str, bytes]] = []
        for ds in datasets:
            payload = ds if isinstance(ds, bytes) else encode_part10(ds)
            try:
                header = _header(payload)
            except Exception as exc:  # pydicom raises several kinds on a damaged file
                raise PacsError("An object for PACS is not a readable DICOM file.") from exc
            sop_uid = str(header.get("SOPInstanceUID", ""))
            if not is_uid(sop_uid) or not is_uid(str(header.get("StudyInstanceUID", ""))):
                raise PacsError(
                    "An object for PACS has no valid SOP Instance UID or Study Instance UID; "
                    "PACS could not file it, so nothing of this reading was queued."
                )
            for destination in self.target.send_transports:
                items.append((f"{destination}:{sop_uid}", payload))
        # one transaction: a reading's objects are queued together or not at all
        return self.outbox.put_many(items, kind=reading_id)

    # -- sending -------------------------------------------------------------------------------

    def drain(
        self, should_stop: Callable[[], bool] | None = None, *, limit: int | None = None
    ) -> DrainResult:
        """Send what is due (unordered: a refused object does not hold back the others)."""
        if not self.enabled:
            return DrainResult(sent=0, failed=0, held=0, error=None)
        self._should_stop = should_stop
        try:
            return self.outbox.drain(
                self._send, ordered=False, should_stop=should_stop, limit=limit
            )
        finally:
            self._should_stop = None

    def _send_cancellable(self, destination: str, target: PacsTarget, payload: bytes) -> None:
        """The real transport, aborted when the drain is told to stop (the window closing while
        PACS says nothing): the object stays pending."""
        _send_one(destination, target, payload, cancel=self._should_stop)

    def _send(self, item: OutboxItem) -> None:
        destination, _, _uid = item.key.partition(":")
        if destination not in DESTINATIONS:
            raise PermanentSendError(f"Unknown PACS destination {destination!r} in the outbox.")
        try:
            self._send_one(destination, self.target, item.payload)
        except PacsRejectedError as exc:
            self._record(item, destination, error=str(exc), held=True)
            raise PermanentSendError(str(exc)) from exc
        except PacsError as exc:
            # recorded when the failure starts or its reason changes, not at every retry: a PACS
            # down for a day would otherwise write a row per object every 15 minutes
            if item.attempts == 0 or str(exc) != item.last_error:
                self._record(item, destination, error=str(exc), held=False)
            raise
        except Exception as exc:  # an object that cannot even be read is a refusal, kept
            message = f"The queued object cannot be sent: {type(exc).__name__}."
            self._record(item, destination, error=message, held=True)
            raise PermanentSendError(message) from exc
        self._record(item, destination, error=None, held=False)

    def _record(self, item: OutboxItem, destination: str, *, error: str | None, held: bool) -> None:
        if self.audit is None:
            return
        detail: dict[str, Any] = {"destination": destination, "attempt": item.attempts + 1}
        event = AuditEvent(type=EventType.PACS_SENT, detail=detail)
        if error is not None:
            event.type, event.outcome, event.reason = EventType.PACS_SEND_FAILED, "failure", error
            detail["held"] = held
        try:
            header = _header(item.payload)
        except Exception:  # the row is written anyway, without identifiers
            detail["object"] = "unreadable"
        else:
            detail["object"] = _KIND_OF_CLASS.get(str(header.get("SOPClassUID", "")), "other")
            event.patient_id = str(header.get("PatientID", "")) or None
            event.study_uid = str(header.get("StudyInstanceUID", "")) or None
            event.series_uid = str(header.get("SeriesInstanceUID", "")) or None
            event.sop_uid = str(header.get("SOPInstanceUID", "")) or None
            event.accession = str(header.get("AccessionNumber", "")) or None
        try:
            self.audit.append(event)
        except AuditError:
            # the send itself stands (PACS has the object); a log that cannot be written says
            # so wherever the log is used, and the next row tries again
            return

    def retry_now(self) -> int:
        """Every waiting object (held ones too) due now; returns how many."""
        return self.outbox.retry_now()

    # -- what a person sees --------------------------------------------------------------------

    def status(self, reading_id: str | None = None) -> DeliveryStatus:
        """Counts and times of one reading's objects, or of the whole outbox."""
        return self.outbox.status(reading_id)

    def state(self, reading_id: str | None = None) -> PacsState:
        """What the PACS line shows of one reading's objects, or of the whole outbox: the
        outbox's counts, and whether this workstation refuses to connect now (its CA file)."""
        return pacs_state(self.status(reading_id), blocked=self.target.ca_file_problem())

    def status_text(self, *, reading_id: str | None = None) -> str:
        """The window's PACS line in English (:func:`viewer.pacs.state.state_text`): "Sent to
        PACS 12:04", "Waiting: PACS unreachable since 11:58", "Not sent: PACS refused the
        result (...)", or "" when PACS is off or nothing was ever queued."""
        if not self.enabled:
            return ""
        return state_text(self.state(reading_id))


def _send_one(
    destination: str,
    target: PacsTarget,
    payload: bytes,
    *,
    cancel: Callable[[], bool] | None = None,
) -> None:
    """One object over one transport (a new connection each time: objects are few per reading
    and a long-lived association would outlive network changes)."""
    if destination == "dicomweb":
        from viewer.pacs import web

        web.store(target, [payload], cancel=cancel)
    else:
        from viewer.pacs import dimse

        dimse.store(target, [payload], cancel=cancel)


def wait_until_sent(
    delivery: PacsDelivery, reading_id: str, *, timeout_s: float, interval_s: float = 0.2
) -> DeliveryStatus:
    """Drain until this reading's objects are all sent or held, or ``timeout_s`` passes, or the
    next retry is after it (the CLI's ``pacs send``); returns the reading's status."""
    deadline = time.monotonic() + timeout_s
    while True:
        delivery.drain()
        st = delivery.status(reading_id)
        left = deadline - time.monotonic()
        if st.pending == 0 or left <= 0:
            return st
        wait = interval_s
        if st.next_attempt is not None:
            wait = max(interval_s, st.next_attempt - time.time())
        if wait > left:
            return st
        time.sleep(wait)
