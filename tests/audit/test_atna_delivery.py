"""When an ATNA record counts as delivered (RFC 5425 has no acknowledgement of its own), against
a real TLS server written here: it reads what it is told to, then closes cleanly or with data
unread. The rsyslog suite (test_atna_rsyslog.py) shows the same against the real repository."""

from __future__ import annotations

import select
import socket
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.audit.atna_helpers import Pki, make_pki, unframe
from tests.waits import WAIT_S
from viewer.audit.atna_transport import (
    RECORD_BYTES,
    AtnaError,
    SyslogTlsSender,
    TlsFiles,
    frame,
    records,
    tls_context,
)

MESSAGE = b"<13>1 2026-01-01T00:00:00Z ws bedside - IHE+RFC-3881 - " + b"x" * 3000


@dataclass
class OneShotServer:
    """Accepts one TLS connection, reads ``records_to_read`` TLS records, then closes: cleanly
    (a FIN, nothing left unread) or, with ``leave_unread``, once more data has arrived
    that it never reads (Linux then resets the connection)."""

    pki: Pki
    records_to_read: int
    leave_unread: bool = False
    keep_open: threading.Event | None = None  # stay connected until it is set
    received: bytearray = field(default_factory=bytearray)
    port: int = 0

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(self.pki.server_cert), str(self.pki.server_key))
        self._listener.settimeout(10)
        raw, _ = self._listener.accept()
        conn = ctx.wrap_socket(raw, server_side=True)
        conn.settimeout(10)
        for _ in range(self.records_to_read):
            self.received += conn.recv(65536)  # one TLS record per read
        if self.keep_open is not None:
            self.keep_open.wait(10)
        if self.leave_unread:
            select.select([conn], [], [], 10)  # the next record has arrived, unread
            conn.close()
            return
        conn.close()  # a FIN and no reset: everything sent was read (rsyslog sends no close_notify)

    def join(self) -> None:
        self._thread.join(10)
        self._listener.close()


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki")


def _sender(pki: Pki, port: int, *, hold_s: float = 0.2) -> SyslogTlsSender:
    files = TlsFiles(pki.ca, pki.client_cert, pki.client_key)
    return SyslogTlsSender("localhost", port, tls_context(files), send_timeout_s=5, hold_s=hold_s)


def test_records_hold_whole_messages_in_order_within_one_tls_record() -> None:
    messages = [MESSAGE + str(n).encode() for n in range(12)] + [b"y" * (RECORD_BYTES + 10)]
    cut = records(messages)
    assert sum(count for _, count in cut) == len(messages)
    assert b"".join(chunk for chunk, _ in cut) == b"".join(frame(m) for m in messages)
    assert all(len(chunk) <= RECORD_BYTES for chunk, count in cut[:-1])
    assert cut[-1][1] == 1  # a message larger than a record travels alone
    assert [m for chunk, _ in cut for m in unframe(chunk)] == messages  # no message is split


def test_a_batch_is_delivered_once_the_connection_stays_up_for_the_hold(pki: Pki) -> None:
    batch = [MESSAGE + str(n).encode() for n in range(10)]
    assert len(records(batch)) == 2
    stay = threading.Event()
    server = OneShotServer(pki, records_to_read=2, keep_open=stay)
    sender = _sender(pki, server.port)
    try:
        sender.send(batch)  # returns: delivered
    finally:
        stay.set()
        server.join()
        sender.close()
    assert unframe(bytes(server.received)) == batch


def test_a_close_within_the_hold_sends_the_batch_again(pki: Pki) -> None:
    """The repository reads the batch and closes at once (as rsyslog does when it stops, or,
    having swallowed the record in its TLS layer, when it refuses the client certificate): the
    batch is not counted delivered and goes again (it may arrive twice, never be lost). The
    close was once read before the acknowledgement, and TLS's answer to it, never
    acknowledged, made a record read and closed on look unacknowledged."""
    batch = [MESSAGE + str(n).encode() for n in range(10)]
    server = OneShotServer(pki, records_to_read=2)
    # the close comes within any hold, however late the loaded server thread runs: the hold
    # ends at the close (0.2 s once passed before the thread had closed: the batch counted sent)
    sender = _sender(pki, server.port, hold_s=WAIT_S)
    with pytest.raises(AtnaError, match=rf"closed the connection within {WAIT_S:g} s") as caught:
        sender.send(batch)
    server.join()
    sender.close()
    assert caught.value.delivered == 0
    assert unframe(bytes(server.received)) == batch  # it had them: the repeat


def test_a_new_connection_closed_after_its_first_record_took_nothing(pki: Pki) -> None:
    server = OneShotServer(pki, records_to_read=1)
    sender = _sender(pki, server.port, hold_s=WAIT_S)  # the close ends it (see above)
    with pytest.raises(AtnaError, match="closed the connection") as caught:
        sender.send([MESSAGE, MESSAGE])
    server.join()
    sender.close()
    assert caught.value.delivered == 0
    assert "may not have taken it" in str(caught.value)


@pytest.mark.parametrize("hold_s", [0.0, 1.0], ids=["no-hold", "hold"])
def test_a_batch_cut_after_its_first_record(pki: Pki, hold_s: float) -> None:
    """The repository takes the first record, then goes away with the second unread: without a
    hold the first record counts as delivered (acknowledged before the failure); with one,
    acknowledged too recently, it is sent again with the rest."""
    batch = [MESSAGE + str(n).encode() for n in range(12)]
    first_count = records(batch)[0][1]
    server = OneShotServer(pki, records_to_read=1, leave_unread=True)
    sender = _sender(pki, server.port, hold_s=hold_s)
    with pytest.raises(AtnaError, match="ATNA repository") as caught:
        sender.send(batch)
    server.join()
    sender.close()
    assert 0 < first_count < len(batch)
    assert caught.value.delivered == (first_count if hold_s == 0 else 0)
    assert unframe(bytes(server.received)) == batch[:first_count]


@pytest.mark.parametrize(
    ("batch", "words"),
    [
        ([MESSAGE] * 2000, "did not acknowledge"),  # each record waits for its acknowledgement
        ([MESSAGE * 3500], "took nothing for 1 s"),  # one 10 MB message: the write blocks
    ],
    ids=["records", "one-large-message"],
)
def test_a_repository_that_stops_reading_is_a_sentence_and_keeps_the_rest(
    pki: Pki, batch: list[bytes], words: str
) -> None:
    """A repository that accepts and then takes nothing (hung, or a firewall holding the
    connection): once its buffers are full the send times out with a sentence naming the
    repository, never CPython's or OpenSSL's words, and the unconfirmed messages stay queued."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(pki.server_cert), str(pki.server_key))
    held: list[ssl.SSLSocket] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(10)
        raw, _ = listener.accept()
        held.append(ctx.wrap_socket(raw, server_side=True))
        stop.wait(30)  # takes nothing more

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    files = TlsFiles(pki.ca, pki.client_cert, pki.client_key)
    sender = SyslogTlsSender(
        "localhost", listener.getsockname()[1], tls_context(files), send_timeout_s=1
    )
    try:
        with pytest.raises(AtnaError) as caught:
            sender.send(batch)
    finally:
        stop.set()
        thread.join(10)
        sender.close()
        for conn in held:
            conn.close()
        listener.close()
    text = str(caught.value)
    assert "ATNA repository localhost" in text and "stays queued" in text and words in text
    assert "_ssl" not in text and "timed out" not in text
    assert caught.value.delivered < len(batch)
