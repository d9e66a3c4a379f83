"""PACS against a REAL Orthanc behind TLS when ``pacs.ca_file`` can be changed by other accounts:
whoever can write it picks the server Bedside takes for PACS, so no connection uses it
(``viewer.paths.ca_file_problem``): the objects wait (not held), each failure is an audit row,
the PACS line says why instead of "unreachable", the connection test refuses in the same words,
and once IT fixes the permissions the same queue goes out."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pacs.helpers import pacs_site, secondary_capture, source_image, text_report, write_site
from tests.pacs.orthanc import OrthancServer, TlsProxy
from viewer.audit import AuditLog
from viewer.outbox import Backoff, Outbox
from viewer.pacs import query
from viewer.pacs.connection import PacsNotConfiguredError, PacsTarget
from viewer.pacs.delivery import PacsDelivery
from viewer.paths import ca_file_problem

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file mode bits are POSIX")


@pytest.fixture
def proxy(orthanc: OrthancServer, tmp_path: Path) -> Iterator[TlsProxy]:
    """HTTPS in front of the session's Orthanc (its self-signed certificate is the CA)."""
    server = TlsProxy(tmp_path / "tls", orthanc.http_port)
    yield server
    server.close()


def test_a_ca_file_others_can_change_is_refused_and_the_objects_wait_for_the_fix(
    orthanc: OrthancServer, proxy: TlsProxy, site_file: Path
) -> None:
    ca = proxy.cert_pem
    settings = write_site(
        site_file,
        pacs_site(
            orthanc,
            transport="dicomweb",
            url=f"{proxy.url}/dicom-web",
            extra=f'tls = true\nca_file = "{ca}"\n',
        ),
    )
    ca.chmod(0o666)
    sentence = ca_file_problem(ca, "pacs.ca_file")
    assert sentence is not None and "is writable by other users" in sentence
    source = source_image(seed=41)
    objects = [text_report(source), secondary_capture(source)]
    uids = sorted(str(d.SOPInstanceUID) for d in objects)
    with (
        AuditLog.open(settings) as audit,
        PacsDelivery(
            settings, audit, outbox=Outbox(settings.pacs_outbox_path, backoff=Backoff(first_s=0))
        ) as delivery,
    ):
        assert delivery.queue(objects, reading_id="r1") == 2
        result = delivery.drain()
        assert (result.sent, result.held, result.error) == (0, 0, sentence)
        assert delivery.status("r1").pending == 2  # waiting, not held: no retry by IT needed
        state = delivery.state("r1")
        assert (state.kind, state.waiting, state.error) == ("blocked", 2, sentence)
        assert delivery.status_text(reading_id="r1") == (
            f"Not sent to PACS (2 waiting): {sentence} They are kept and go out once this is fixed."
        )
        failed = audit.records(types=("pacs_send_failed",))
        assert failed and {row.reason for row in failed} == {sentence}
        # DIMSE over TLS and the settings' connection test refuse it in the same words
        with pytest.raises(PacsNotConfiguredError) as dimse:
            PacsTarget.from_settings(settings).ssl_context()
        assert str(dimse.value) == sentence
        checks = query.test_connection(settings)
        assert [(c.name, c.ok, c.message) for c in checks] == [
            ("C-ECHO", False, sentence),
            ("QIDO-RS", False, sentence),
        ]
        assert orthanc.sop_instance_uids() == []

        ca.chmod(0o644)
        assert delivery.state("r1").kind == "waiting"  # the last failure, no longer blocked
        assert delivery.drain().sent == 2
        assert delivery.state("r1").kind == "sent"
    assert sorted(orthanc.sop_instance_uids()) == uids


@pytest.mark.parametrize(
    ("tls", "url", "refused"),
    [
        (False, "http://127.0.0.1:8042/dicom-web", False),
        (True, "http://127.0.0.1:8042/dicom-web", True),
        (False, "https://127.0.0.1:8042/dicom-web", True),
    ],
    ids=["no-tls-anywhere", "dimse-tls", "https-dicomweb"],
)
def test_a_ca_file_no_connection_uses_does_not_block_sending(
    tmp_path: Path, tls: bool, url: str, refused: bool
) -> None:
    """DIMSE without TLS and an http:// DICOMweb address never read pacs.ca_file: a writable
    one there must not stop results going to PACS nor take the blame on the PACS line (site
    check still reports it)."""
    from viewer.config import PacsSection

    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    ca.chmod(0o666)
    section = PacsSection(
        enabled=True, host="127.0.0.1", called_aet="PACS", dicomweb_url=url, tls=tls,
        ca_file=str(ca),
    )  # fmt: skip
    problem = PacsTarget(section).ca_file_problem()
    assert (problem == ca_file_problem(ca, "pacs.ca_file")) if refused else problem == ""
