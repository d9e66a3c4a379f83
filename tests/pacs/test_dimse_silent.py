"""A PACS that stops answering: a DIMSE peer of the test's own that accepts the association and
then never answers (pynetdicom handlers that block), or a socket that accepts and says nothing.
Cancelling (the window closing) aborts the association at once instead of waiting out
pacs.timeout_s, and a silent peer is told apart from a real A-ASSOCIATE-RJ."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pynetdicom import AE

from tests.pacs.helpers import (
    assert_stopped_drain_keeps_the_object,
    cancel_after,
    dimse_site,
    finished,
    hung_scp,
    source_image,
    write_site,
)
from viewer.config import Settings
from viewer.pacs import dimse
from viewer.pacs.connection import PacsCancelledError, PacsError, PacsTarget
from viewer.pacs.delivery import encode_part10
from viewer.pacs.dimse import VERIFICATION
from viewer.pacs.query import retrieve, search

# far beyond any wait in these tests: a test that reached it has hung on the PACS
HUNG_S = 60


def _site(site_file: Path, port: int, *, connect_timeout_s: float = HUNG_S) -> Settings:
    return write_site(
        site_file, dimse_site(port, connect_timeout_s=connect_timeout_s, timeout_s=HUNG_S)
    )


@pytest.fixture
def hung_pacs() -> Iterator[int]:
    with hung_scp(HUNG_S) as (port, _reached):
        yield port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose kernel completes the TCP handshake and where nobody ever reads."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        yield int(silent.getsockname()[1])


def _requestor_threads() -> list[threading.Thread]:
    """pynetdicom's association and DUL threads: not daemons, they keep the process alive.
    (By class: other non-daemon threads of the test process, such as a thread pool an earlier
    test started, are not the association's.)"""
    from pynetdicom.association import Association
    from pynetdicom.dul import DULServiceProvider

    return [
        t
        for t in threading.enumerate()
        if t.is_alive() and not t.daemon and isinstance(t, Association | DULServiceProvider)
    ]


@pytest.mark.parametrize("what", ["find", "get", "store", "echo"])
def test_a_cancel_aborts_an_association_the_pacs_stopped_answering(
    site_file: Path, tmp_path: Path, hung_pacs: int, what: str
) -> None:
    settings = _site(site_file, hung_pacs)
    target = PacsTarget.from_settings(settings)
    cancel = cancel_after(0.3)
    dest = tmp_path / "study"
    source = encode_part10(source_image(seed=4))
    work: dict[str, Callable[[], object]] = {
        "find": lambda: search(settings, patient_id="X", cancel=cancel),
        "get": lambda: retrieve(settings, "1.2.3", dest, cancel=cancel),
        "store": lambda: dimse.store(target, [source], cancel=cancel),
        "echo": lambda: dimse.echo(target, cancel=cancel),
    }
    exc = finished(work[what])
    assert isinstance(exc, PacsCancelledError), exc
    assert "was cancelled" in str(exc)
    assert not list(dest.glob("*")) if dest.exists() else True
    assert _requestor_threads() == []


def test_a_cancel_aborts_an_association_request_nobody_answers(
    site_file: Path, silent_port: int
) -> None:
    """The association request itself waits pacs.connect_timeout_s for an answer."""
    settings = _site(site_file, silent_port)
    exc = finished(lambda: search(settings, patient_id="X", cancel=cancel_after(0.3)))
    assert isinstance(exc, PacsCancelledError), exc
    assert _requestor_threads() == []


def test_a_drain_told_to_stop_leaves_the_object_pending(site_file: Path, hung_pacs: int) -> None:
    """The window closing while a C-STORE waits on PACS: the drain ends, nothing is lost."""
    assert_stopped_drain_keeps_the_object(_site(site_file, hung_pacs), seed=5)


def test_a_silent_peer_is_not_blamed_on_the_ae_titles(site_file: Path, silent_port: int) -> None:
    """No A-ASSOCIATE-AC or -RJ within the timeout: the port or the network, not the AE title
    (it was reported as a possible AE-title refusal)."""
    settings = _site(site_file, silent_port, connect_timeout_s=0.5)
    with pytest.raises(PacsError) as caught:
        dimse.echo(PacsTarget.from_settings(settings))
    text = str(caught.value)
    assert text == (
        f"PACS at 127.0.0.1:{silent_port} accepted the connection but gave no answer to the "
        "association request within 0.5 s: the service on that port is not answering DICOM "
        "(is pacs.port the PACS's DICOM port?), or a firewall or proxy holds the connection."
    )
    assert "AE title" not in text


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ('called_aet = "WRONG"', "called AE title not recognised): check pacs.called_aet"),
        ('calling_aet = "STRANGER"', "calling AE title not recognised): PACS does not know"),
    ],
)
def test_a_real_rejection_names_its_reason(site_file: Path, setting: str, said: str) -> None:
    """An A-ASSOCIATE-RJ (PS3.8 9.3.4) names the AE title it did not recognise."""
    ae = AE(ae_title="PACS")
    ae.require_called_aet = True
    ae.require_calling_aet = ["BEDSIDE"]
    ae.add_supported_context(VERIFICATION)
    server = ae.start_server(("127.0.0.1", 0), block=False)
    assert server is not None
    try:
        key, _, value = setting.partition(" = ")
        names = {key: value.strip('"')}
        settings = write_site(site_file, dimse_site(int(server.server_address[1]), **names))
        with pytest.raises(PacsError, match="refused the association") as caught:
            dimse.echo(PacsTarget.from_settings(settings))
    finally:
        server.shutdown()
    assert said in str(caught.value)


@pytest.fixture
def hasty_rejecter() -> Iterator[int]:
    """A peer that answers every connection with an A-ASSOCIATE-RJ (PS3.8 9.3.4: permanent,
    by the service user, called AE title not recognised) and closes at once, as Orthanc does:
    pynetdicom then finds the socket closed before it reads the rejection."""
    rejection = bytes([0x03, 0, 0, 0, 0, 4, 0, 0x01, 0x01, 0x07])
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(rejection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_a_rejection_sent_with_the_close_still_names_its_reason(
    site_file: Path, hasty_rejecter: int
) -> None:
    settings = _site(site_file, hasty_rejecter, connect_timeout_s=2)
    for _ in range(5):  # the race goes either way: each time the same sentence
        with pytest.raises(PacsError) as caught:
            dimse.echo(PacsTarget.from_settings(settings))
        assert str(caught.value) == (
            f"PACS at 127.0.0.1:{hasty_rejecter} refused the association (called AE title not "
            "recognised): check pacs.called_aet ('PACS')."
        )


def test_a_tls_handshake_nobody_answers_is_a_sentence(site_file: Path, silent_port: int) -> None:
    """pacs.tls on a port that accepts and says nothing: CPython's "_ssl.c:989: The handshake
    operation timed out" was quoted."""
    settings = write_site(
        site_file, dimse_site(silent_port, connect_timeout_s=1, extra="tls = true\n")
    )
    with pytest.raises(PacsError) as caught:
        dimse.echo(PacsTarget.from_settings(settings))
    assert str(caught.value) == (
        f"PACS at 127.0.0.1:{silent_port} accepted the connection but did not complete the TLS "
        "handshake within 1 s: is it a DICOM TLS port, and is pacs.tls right (or does a "
        "firewall or proxy hold the connection)?"
    )
