"""A DICOMweb PACS that stops answering: a port whose kernel accepts the connection and where
nobody ever reads or answers. A cancel (the window closing) breaks the request off at once
instead of waiting out pacs.timeout_s; what was being sent stays in the outbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.pacs.helpers import (
    assert_stopped_drain_keeps_the_object,
    cancel_after,
    finished,
    source_image,
    write_site,
)
from viewer.config import Settings
from viewer.pacs import web
from viewer.pacs.connection import PacsCancelledError, PacsTarget
from viewer.pacs.delivery import encode_part10
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
    """The window closing while a STOW-RS waits on PACS: the drain ends, nothing is lost."""
    assert_stopped_drain_keeps_the_object(silent_web, seed=7)
