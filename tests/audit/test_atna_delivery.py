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


def _sender(pki: Pki, port: int) -> SyslogTlsSender:
    files = TlsFiles(pki.ca, pki.client_cert, pki.client_key)
    return SyslogTlsSender("localhost", port, tls_context(files), send_timeout_s=5)


def test_records_hold_whole_messages_in_order_within_one_tls_record() -> None:
    messages = [MESSAGE + str(n).encode() for n in range(12)] + [b"y" * (RECORD_BYTES + 10)]
    cut = records(messages)
    assert sum(count for _, count in cut) == len(messages)
    assert b"".join(chunk for chunk, _ in cut) == b"".join(frame(m) for m in messages)
    assert all(len(chunk) <= RECORD_BYTES for chunk, count in cut[:-1])
    assert cut[-1][1] == 1  # a message larger than a record travels alone
    assert [m for chunk, _ in cut for m in unframe(chunk)] == messages  # no message is split


def test_a_repository_that_reads_a_record_and_closes_has_it(pki: Pki) -> None:
    """The repository reads a record and closes cleanly right away (as rsyslog does when it
    stops): the record counts as delivered and is not sent again. (It was counted as lost, and
    sent twice, when the close was read before the acknowledgement: TLS answers a close_notify,
    and that answer is never acknowledged.)"""
    batch = [MESSAGE + str(n).encode() for n in range(10)]
    assert len(records(batch)) == 2
    server = OneShotServer(pki, records_to_read=2)
    sender = _sender(pki, server.port)
    sender.send(batch)
    server.join()
    sender.close()
    assert unframe(bytes(server.received)) == batch


def test_a_new_connection_closed_after_its_first_record_took_nothing(pki: Pki) -> None:
    """With TLS 1.3 a repository that refuses this workstation's certificate says so only after
    the client's first record, and its TLS layer may swallow that record unread before closing
    cleanly: on a new connection a close is not a delivery (nothing may be lost)."""
    server = OneShotServer(pki, records_to_read=1)
    sender = _sender(pki, server.port)
    with pytest.raises(AtnaError, match="closed the connection") as caught:
        sender.send([MESSAGE, MESSAGE])
    server.join()
    sender.close()
    assert caught.value.delivered == 0


def test_a_batch_cut_after_its_first_record_counts_only_that_record(pki: Pki) -> None:
    """The repository takes the first record, then goes away with the second unread: the
    failure says how many messages were delivered, so only the rest are sent again."""
    batch = [MESSAGE + str(n).encode() for n in range(12)]
    first_count = records(batch)[0][1]
    server = OneShotServer(pki, records_to_read=1, leave_unread=True)
    sender = _sender(pki, server.port)
    with pytest.raises(AtnaError, match="ATNA repository") as caught:
        sender.send(batch)
    server.join()
    sender.close()
    assert 0 < first_count < len(batch)
    assert caught.value.delivered == first_count
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
