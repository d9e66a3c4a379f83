"""A DICOMweb PACS that stops answering: a port whose kernel accepts the connection and where
nobody ever reads or answers. A cancel (the window closing) breaks the request off at once
instead of waiting out pacs.timeout_s; what was being sent stays in the outbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.pacs.helpers import cancel_after, finished, source_image, write_site
from viewer.config import Settings
from viewer.pacs import web
from viewer.pacs.connection import PacsCancelledError, PacsTarget
from viewer.pacs.delivery import PacsDelivery, encode_part10
from viewer.pacs.query import retrieve, search

HUNG_S = 60


@pytest.fixture
def silent_web(site_file: Path) -> Iterator[Settings]:
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        yield write_site(
            site_file,
            "[pacs]\nenabled = true\n"
            f'dicomweb_url = "http://127.0.0.1:{silent.getsockname()[1]}/dicom-web"\n'
            f"connect_timeout_s = {HUNG_S}\ntimeout_s = {HUNG_S}\n",
        )


@pytest.mark.parametrize("what", ["search", "retrieve", "store"])
def test_a_cancel_breaks_off_a_request_the_pacs_never_answers(
    silent_web: Settings, tmp_path: Path, what: str
) -> None:
    cancel = cancel_after(0.3)
    dest = tmp_path / "study"
    target = PacsTarget.from_settings(silent_web)
    payload = encode_part10(source_image(seed=6))
    work: dict[str, Callable[[], object]] = {
        "search": lambda: search(silent_web, patient_id="X", cancel=cancel),
        "retrieve": lambda: retrieve(silent_web, "1.2.3", dest, cancel=cancel),
        "store": lambda: web.store(target, [payload], cancel=cancel),
    }
    exc = finished(work[what])
    assert isinstance(exc, PacsCancelledError), exc
    assert "was cancelled" in str(exc)
    assert not dest.exists() or not list(dest.iterdir())


def test_a_drain_told_to_stop_leaves_the_object_pending(silent_web: Settings) -> None:
    with PacsDelivery(silent_web) as delivery:
        assert delivery.queue([source_image(seed=7)], reading_id="r1") == 1
        stop = cancel_after(0.3)
        assert finished(lambda: delivery.drain(should_stop=stop)) is None
        status = delivery.status("r1")
    assert (status.pending, status.sent) == (1, 0)
    assert "was cancelled" in (status.last_error or "")
