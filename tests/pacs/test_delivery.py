"""Delivery against a real Orthanc when things go wrong: each bad input gives one clear message
and a queued (not lost) result; a killed sender and an Orthanc stopped mid-send end with every
object stored exactly once; every send and failure is an audit row without raw identifiers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from tests.pacs.helpers import (
    pacs_site,
    secondary_capture,
    source_image,
    text_report,
    write_site,
)
from tests.pacs.orthanc import OrthancServer, TlsProxy, self_signed_pem, wait_for
from tests.servers import free_port
from tests.waits import WAIT_S
from viewer.audit import AuditLog
from viewer.config import Settings
from viewer.outbox import Backoff, Outbox
from viewer.pacs import query
from viewer.pacs.connection import PacsError, PacsTarget
from viewer.pacs.delivery import PacsDelivery

FAST = Backoff(first_s=0.05, factor=1.0, cap_s=0.05)


def _objects(seed: int, n: int = 2) -> tuple[Dataset, list[Dataset]]:
    source = source_image(seed=seed)
    objects = [text_report(source), secondary_capture(source)]
    for _ in range(n - 2):
        objects.append(secondary_capture(source))
    return source, objects


@pytest.fixture
def audit(settings: Settings) -> Iterator[AuditLog]:
    log = AuditLog.open(settings)
    yield log
    log.close()


def _delivery(settings: Settings, audit: AuditLog | None = None) -> PacsDelivery:
    return PacsDelivery(settings, audit, outbox=Outbox(settings.pacs_outbox_path, backoff=FAST))


def _all_due(delivery: PacsDelivery) -> None:
    """Wait until every waiting object's retry time has come. Each object's is its own failure
    time plus the fast backoff, so a wait for the earliest (or a fixed sleep) can leave later
    ones not yet due and one drain would skip them; under load the failures spread out."""
    waiting = delivery.status().pending
    assert waiting > 0

    def every_one_due() -> bool:
        return len(delivery.outbox.due(limit=waiting + 1)) >= waiting

    assert wait_for(every_one_due, timeout_s=WAIT_S), delivery.status()


def _assert_queued_not_lost(
    settings: Settings, objects: list[Dataset], expected: str, *, held: bool
) -> None:
    """One drain: every object failed with the same clear sentence, none lost."""
    with _delivery(settings) as delivery:
        assert delivery.queue(objects, reading_id="bad") == len(objects)
        result = delivery.drain()
        assert result.sent == 0
        assert (result.held, result.failed) == ((len(objects), 0) if held else (0, len(objects)))
        assert result.error is not None
        assert expected in result.error, result.error
        assert "Traceback" not in result.error and "\n" not in result.error
        status = delivery.status("bad")
        assert (status.held if held else status.pending) == len(objects)
        text = delivery.status_text()
        if held:
            assert text.startswith("Not sent: PACS refused the result (") and text.endswith(
                "IT can send it again (bedside pacs outbox retry)."
            )
        else:
            assert text.startswith("Waiting: PACS unreachable since ")
        assert all(item.last_error for item in delivery.outbox.waiting())


@pytest.mark.parametrize(
    ("transport", "expected"),
    [
        ("dimse", "Nothing accepts connections at 127.0.0.1:"),
        ("dicomweb", "cannot be reached (the upload (STOW-RS)): it is down, or the address"),
    ],
)
def test_an_unreachable_pacs_keeps_the_objects_pending(
    site_file: Path, transport: str, expected: str
) -> None:
    port = free_port()
    body = (
        "[pacs]\nenabled = true\n"
        f'transport = "{transport}"\n'
        f'dicomweb_url = "http://127.0.0.1:{port}/dicom-web"\n'
        f'host = "127.0.0.1"\nport = {port}\ncalled_aet = "ORTHANC"\nconnect_timeout_s = 2.0\n'
    )
    settings = write_site(site_file, body)
    _assert_queued_not_lost(settings, _objects(21)[1], expected, held=False)


def test_a_wrong_called_ae_title_is_named(own_orthanc: OrthancServer, site_file: Path) -> None:
    own_orthanc.check_called_aet = True
    own_orthanc.start()
    settings = write_site(
        site_file, pacs_site(own_orthanc, transport="dimse", called_aet="NOT_ORTHANC")
    )
    _assert_queued_not_lost(
        settings,
        _objects(22)[1],
        "refused the association (called AE title not recognised): check pacs.called_aet "
        "('NOT_ORTHANC')",
        held=False,
    )
    checks = query.test_connection(settings)
    assert checks[0].name == "C-ECHO" and not checks[0].ok
    assert "called AE title not recognised" in checks[0].message
    assert own_orthanc.sop_instance_uids() == []


def test_tls_to_a_plain_dicom_port_fails_the_handshake(
    orthanc: OrthancServer, site_file: Path
) -> None:
    settings = write_site(site_file, pacs_site(orthanc, transport="dimse", extra="tls = true\n"))
    _assert_queued_not_lost(
        settings, _objects(23)[1], "The TLS handshake with PACS at 127.0.0.1:", held=False
    )


def test_an_untrusted_server_certificate_is_refused_then_trusted_with_its_ca(
    own_orthanc: OrthancServer, site_file: Path
) -> None:
    own_orthanc.dicom_tls = True
    own_orthanc.start()
    assert own_orthanc.cert_pem is not None
    settings = write_site(
        site_file, pacs_site(own_orthanc, transport="dimse", extra="tls = true\n")
    )
    _source, objects = _objects(24)
    _assert_queued_not_lost(settings, objects, "is not trusted", held=False)
    assert own_orthanc.sop_instance_uids() == []
    # the same queue goes out once IT names the CA
    trusted = write_site(
        site_file,
        pacs_site(
            own_orthanc,
            transport="dimse",
            extra=f'tls = true\nca_file = "{own_orthanc.cert_pem}"\n',
        ),
    )
    with _delivery(trusted) as delivery:
        delivery.retry_now()
        assert delivery.drain().sent == len(objects)
    assert sorted(own_orthanc.sop_instance_uids()) == sorted(str(d.SOPInstanceUID) for d in objects)


def test_https_to_a_plain_http_port_is_a_tls_failure(
    orthanc: OrthancServer, site_file: Path
) -> None:
    url = orthanc.dicomweb_url.replace("http://", "https://")
    settings = write_site(site_file, pacs_site(orthanc, transport="dicomweb", url=url))
    _assert_queued_not_lost(
        settings, _objects(25)[1], "The TLS connection to PACS at https://127.0.0.1:", held=False
    )


REFUSE_ALL = 'function ReceivedInstanceFilter(dicom, origin, info)\n  error("refused")\nend\n'


@pytest.mark.parametrize(
    ("transport", "expected"),
    [
        ("dimse", "refused the object: PACS is out of resources (status 0xA700)"),
        ("dicomweb", "did not store the object"),
    ],
)
def test_a_rejected_object_is_held_not_lost(
    own_orthanc: OrthancServer, site_file: Path, audit: AuditLog, transport: str, expected: str
) -> None:
    own_orthanc.lua = REFUSE_ALL
    own_orthanc.start()
    settings = write_site(site_file, pacs_site(own_orthanc, transport=transport))
    _source, objects = _objects(26)
    _assert_queued_not_lost(settings, objects, expected, held=True)
    with _delivery(settings, audit) as delivery:
        assert delivery.drain().held == 0  # held: not retried on a timer
        assert delivery.retry_now() == len(objects)  # IT: bedside pacs outbox retry
        assert delivery.drain().held == len(objects)  # still refused, still kept
    rows = audit.records(types=("pacs_send_failed",))
    assert len(rows) == len(objects)
    assert all(r.outcome == "failure" and r.detail["held"] is True for r in rows)
    # the PACS takes them once it accepts them again
    own_orthanc.lua = None
    (own_orthanc.root / "filter.lua").unlink()
    own_orthanc.restart()
    with _delivery(settings, audit) as delivery:
        delivery.retry_now()
        assert delivery.drain().sent == len(objects)
    assert sorted(own_orthanc.sop_instance_uids()) == sorted(str(d.SOPInstanceUID) for d in objects)


def test_sends_are_audited_under_pseudonyms(
    orthanc: OrthancServer, site_file: Path, audit: AuditLog
) -> None:
    settings = write_site(site_file, pacs_site(orthanc, transport="both"))
    source, objects = _objects(27)
    with _delivery(settings, audit) as delivery:
        delivery.queue(objects, reading_id="r")
        assert delivery.drain().sent == 2 * len(objects)
    rows = audit.records(types=("pacs_sent",))
    assert sorted((r.detail["destination"], r.detail["object"]) for r in rows) == [
        ("dicomweb", "sc"),
        ("dicomweb", "sr"),
        ("dimse", "sc"),
        ("dimse", "sr"),
    ]
    raw = {source.PatientID, source.StudyInstanceUID, *(str(d.SOPInstanceUID) for d in objects)}
    for row in rows:
        assert row.patient_pseudonym and row.sop_pseudonym
        assert not raw & set(str(v) for v in row.as_dict().values())
    log_bytes = Path(settings.audit_db_path).read_bytes()
    assert not any(value.encode() in log_bytes for value in raw)


def test_objects_survive_an_orthanc_stopped_mid_send(
    own_orthanc: OrthancServer, site_file: Path
) -> None:
    """Orthanc dies (SIGKILL) after the second object; the rest wait; after it returns, every
    object is stored exactly once (none missing, none twice)."""
    own_orthanc.start()
    settings = write_site(site_file, pacs_site(own_orthanc, transport="both"))
    _source, objects = _objects(28, n=4)
    from viewer.pacs.delivery import _send_one

    sent: list[str] = []

    def send_then_die(destination: str, target: PacsTarget, payload: bytes) -> None:
        _send_one(destination, target, payload)  # the real transport
        sent.append(destination)
        if len(sent) == 2:
            own_orthanc.kill()

    delivery = PacsDelivery(
        settings,
        None,
        outbox=Outbox(settings.pacs_outbox_path, backoff=FAST),
        send_one=send_then_die,
    )
    with delivery:
        assert delivery.queue(objects, reading_id="r") == 2 * len(objects)
        first = delivery.drain()
        assert (first.sent, first.failed) == (2, 2 * len(objects) - 2)
        assert delivery.status_text().startswith("Waiting: PACS unreachable since ")
    own_orthanc.start()  # same storage: the two stored before the kill are still there
    with _delivery(settings) as delivery:
        _all_due(delivery)  # the retry times the outbox itself set, not a fixed sleep
        second = delivery.drain()
        assert (second.sent, second.failed) == (2 * len(objects) - 2, 0)
        assert delivery.status("r").sent == 2 * len(objects)
    uids = own_orthanc.sop_instance_uids()
    assert sorted(uids) == sorted(str(d.SOPInstanceUID) for d in objects)


CHILD = textwrap.dedent(
    """
    import signal, sys
    from viewer.config import load_settings
    from viewer.outbox import Outbox, Backoff
    from viewer.pacs import delivery as d

    done = []

    def paced(destination, target, payload):
        d._send_one(destination, target, payload)  # the real transport
        done.append(payload)
        print("sent", flush=True)
        if len(done) == 3:  # the parent kills us here: PACS has it, the outbox not yet
            signal.pause()  # held until the kill

    settings = load_settings()
    box = Outbox(settings.pacs_outbox_path)
    pacs = d.PacsDelivery(settings, None, outbox=box, send_one=paced)
    pacs.drain()
    print("done", flush=True)
    """
)


@pytest.mark.skipif(os.name != "posix", reason="kill -9 needs POSIX signals")
def test_objects_survive_a_kill_9_of_the_sender(orthanc: OrthancServer, site_file: Path) -> None:
    settings = write_site(site_file, pacs_site(orthanc, transport="both"))
    _source, objects = _objects(29, n=5)
    with PacsDelivery(settings) as delivery:
        assert delivery.queue(objects, reading_id="r") == 2 * len(objects)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True, env=env, cwd=root
    )
    assert child.stdout is not None
    try:
        lines = [child.stdout.readline().strip() for _ in range(3)]
        assert lines == ["sent"] * 3
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        child.stdout.close()
    with PacsDelivery(settings) as delivery:
        status = delivery.status("r")
        # killed mid-way: two marked sent, the third stored by PACS but not marked
        assert (status.sent, status.pending) == (2, 2 * len(objects) - 2)
        result = delivery.drain()  # no wait for the dead child's lease
        assert not result.busy and result.failed == 0
        assert delivery.status("r").sent == 2 * len(objects)
    uids = orthanc.sop_instance_uids()
    assert len(uids) == len(set(uids))
    assert sorted(uids) == sorted(str(d.SOPInstanceUID) for d in objects)


def test_basic_auth_from_a_secret_file_and_a_wrong_password(
    own_orthanc: OrthancServer, site_file: Path, tmp_path: Path, audit: AuditLog
) -> None:
    """The password is read from pacs.password_file; a wrong one is one sentence, the objects wait,
    and the secret appears in no message and no audit row."""
    own_orthanc.users = {"bedside": "right-horse-battery"}
    own_orthanc.start()
    secret = tmp_path / "pacs-secret"
    secret.write_text("wrong-password\n", encoding="utf-8")
    auth = f'auth = "basic"\nusername = "bedside"\npassword_file = "{secret}"\n'
    settings = write_site(site_file, pacs_site(own_orthanc, transport="dicomweb", extra=auth))
    _source, objects = _objects(30)
    with _delivery(settings, audit) as delivery:
        delivery.queue(objects, reading_id="r")
        result = delivery.drain()
        assert result.failed == len(objects)
        assert result.error is not None
        assert "refused the credentials for the upload (STOW-RS) (HTTP 401)" in result.error
    secret.write_text("right-horse-battery\n", encoding="utf-8")  # IT fixes the file
    checks = query.test_connection(settings)
    assert [(c.name, c.ok) for c in checks] == [("C-ECHO", True), ("QIDO-RS", True)]
    with _delivery(settings, audit) as delivery:
        _all_due(delivery)
        assert delivery.drain().sent == len(objects)
    assert sorted(own_orthanc.sop_instance_uids()) == sorted(str(d.SOPInstanceUID) for d in objects)
    log_bytes = Path(settings.audit_db_path).read_bytes()
    assert b"right-horse-battery" not in log_bytes and b"wrong-password" not in log_bytes
    assert all("password" not in str(r.as_dict()) for r in audit.records())


def test_https_with_an_untrusted_certificate_then_its_ca(
    orthanc: OrthancServer, site_file: Path, tmp_path: Path
) -> None:
    """DICOMweb over TLS: a certificate nobody vouches for is refused in words and the objects
    wait; with the CA in pacs.ca_file the same queue goes out over HTTPS."""
    proxy = TlsProxy(tmp_path / "tls", orthanc.http_port)
    try:
        url = f"{proxy.url}/dicom-web"
        settings = write_site(site_file, pacs_site(orthanc, transport="dicomweb", url=url))
        _source, objects = _objects(31)
        _assert_queued_not_lost(
            settings, objects, f"The certificate of PACS at {url} is not trusted", held=False
        )
        assert orthanc.sop_instance_uids() == []
        trusted = write_site(
            site_file,
            pacs_site(
                orthanc, transport="dicomweb", url=url, extra=f'ca_file = "{proxy.cert_pem}"\n'
            ),
        )
        checks = query.test_connection(trusted)
        assert [(c.name, c.ok) for c in checks] == [("C-ECHO", True), ("QIDO-RS", True)]
        with _delivery(trusted) as delivery:
            delivery.retry_now()
            assert delivery.drain().sent == len(objects)
    finally:
        proxy.close()
    assert sorted(orthanc.sop_instance_uids()) == sorted(str(d.SOPInstanceUID) for d in objects)


def test_an_object_without_uids_queues_nothing_of_the_reading(site_file: Path) -> None:
    settings = write_site(
        site_file, '[pacs]\nenabled = true\ndicomweb_url = "http://127.0.0.1:9/dicom-web"\n'
    )
    _source, objects = _objects(32)
    del objects[1].StudyInstanceUID
    with PacsDelivery(settings) as delivery:
        with pytest.raises(PacsError, match="no valid SOP Instance UID or Study Instance UID"):
            delivery.queue(objects, reading_id="r")
        with pytest.raises(PacsError, match="not a readable DICOM file"):
            delivery.queue([b"not dicom"], reading_id="r")
        assert delivery.status().pending == 0  # not even the good one: all or nothing


def test_mutual_tls_needs_the_client_certificate(
    own_orthanc: OrthancServer, site_file: Path, tmp_path: Path
) -> None:
    """A PACS that requires a client certificate refuses the handshake without one (a clear
    sentence, objects waiting) and accepts pacs.client_cert_file/client_key_file."""
    client_cert, client_key = self_signed_pem(tmp_path / "client")
    own_orthanc.dicom_tls = True
    own_orthanc.client_cert_pem = client_cert
    own_orthanc.start()
    trust = f'tls = true\nca_file = "{own_orthanc.cert_pem}"\n'
    settings = write_site(site_file, pacs_site(own_orthanc, transport="dimse", extra=trust))
    _source, objects = _objects(33)
    _assert_queued_not_lost(
        settings, objects, "refused this workstation's TLS certificate", held=False
    )
    with_cert = trust + f'client_cert_file = "{client_cert}"\nclient_key_file = "{client_key}"\n'
    settings = write_site(site_file, pacs_site(own_orthanc, transport="dimse", extra=with_cert))
    with _delivery(settings) as delivery:
        delivery.retry_now()
        assert delivery.drain().sent == len(objects)
    assert sorted(own_orthanc.sop_instance_uids()) == sorted(str(d.SOPInstanceUID) for d in objects)


def test_a_lasting_failure_is_recorded_once_per_object_not_per_retry(
    site_file: Path, audit: AuditLog
) -> None:
    port = free_port()
    settings = write_site(
        site_file,
        '[pacs]\nenabled = true\ntransport = "dimse"\nquery = "dimse"\n'
        f'host = "127.0.0.1"\nport = {port}\ncalled_aet = "ORTHANC"\n',
    )
    _source, objects = _objects(35)
    with _delivery(settings, audit) as delivery:
        delivery.queue(objects, reading_id="r")
        for _ in range(3):
            _all_due(delivery)
            assert delivery.drain().failed == len(objects)
    rows = audit.records(types=("pacs_send_failed",))
    assert len(rows) == len(objects)  # the first failure of each, not three each
    assert all("Nothing accepts connections" in str(r.reason) for r in rows)
    assert {r.detail["attempt"] for r in rows} == {1}
