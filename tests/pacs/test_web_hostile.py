"""What a hostile or broken DICOMweb server may answer, from a small HTTP server of the test's
own on loopback (answers Orthanc never gives): every one is one sentence (a PacsError), within
the configured timeouts, with bounded memory, and nothing half-written is left behind."""

from __future__ import annotations

import http.server
import json
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.pacs.helpers import source_image, write_site
from viewer.config import load_settings
from viewer.pacs import web
from viewer.pacs.connection import PacsRejectedError, PacsTarget
from viewer.pacs.delivery import encode_part10
from viewer.pacs.query import PacsError, retrieve, search

Answer = Callable[[http.server.BaseHTTPRequestHandler], None]


class _Server(http.server.ThreadingHTTPServer):
    # server_close() joins the handlers, so none outlives the test holding its socket
    daemon_threads = False
    block_on_close = True
    answer: Answer
    stop = threading.Event()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        try:
            self.server.answer(self)
        except OSError:  # the client gave up: what the test wants
            return

    do_POST = do_GET  # noqa: N815  # http.server finds handlers by this name


@pytest.fixture
def hostile(site_file: Path) -> Iterator[Callable[[Answer], None]]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.stop = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def serve(answer: Answer) -> None:
        server.answer = answer
        write_site(
            site_file,
            "[pacs]\nenabled = true\n"
            f'dicomweb_url = "http://127.0.0.1:{server.server_address[1]}/dicom-web"\n'
            "timeout_s = 2\nconnect_timeout_s = 2\n",
        )

    try:
        yield serve
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _limit(site_file: Path, line: str) -> None:
    """One of the [pacs] limits set lower in the site file (the [pacs] section is its last)."""
    site_file.write_text(site_file.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")


def _head(h: http.server.BaseHTTPRequestHandler, content_type: str, length: int | None) -> None:
    h.send_response(200)
    h.send_header("Connection", "close")  # one answer per connection: the handler ends with it
    h.close_connection = True
    h.send_header("Content-Type", content_type)
    if length is not None:
        h.send_header("Content-Length", str(length))
    h.end_headers()


def _json(body: bytes) -> Answer:
    def answer(h: http.server.BaseHTTPRequestHandler) -> None:
        _head(h, "application/dicom+json", len(body))
        h.wfile.write(body)

    return answer


def _multipart(part: bytes) -> Answer:
    body = b"--B\r\nContent-Type: application/dicom\r\n\r\n" + part + b"\r\n--B--\r\n"

    def answer(h: http.server.BaseHTTPRequestHandler) -> None:
        _head(h, 'multipart/related; type="application/dicom"; boundary=B', len(body))
        h.wfile.write(body)

    return answer


def _drip(content_type: str, first: bytes) -> Answer:
    """A byte a quarter second: each read is answered well within the read timeout."""

    def answer(h: http.server.BaseHTTPRequestHandler) -> None:
        _head(h, content_type, None)
        h.wfile.write(first)
        for _ in range(400):
            h.wfile.write(b" ")
            h.wfile.flush()
            if h.server.stop.wait(0.25):  # type: ignore[attr-defined]
                return

    return answer


def _endless(content_type: str, first: bytes, filler: bytes) -> Answer:
    def answer(h: http.server.BaseHTTPRequestHandler) -> None:
        _head(h, content_type, None)
        h.wfile.write(first)
        block = filler * (2**20 // len(filler))
        for _ in range(4096):  # 4 GB at most, should the client never stop
            h.wfile.write(block)

    return answer


def _html(h: http.server.BaseHTTPRequestHandler) -> None:
    _head(h, "text/html", 4)
    h.wfile.write(b"<p/>")


_STUDY = {"0020000D": {"vr": "UI", "Value": ["1.2.3"]}}
_DEEP = b"[" + b'{"00400275":{"vr":"SQ","Value":[' * 5000 + b"{}" + b"]}}" * 5000 + b"]"


@pytest.mark.parametrize(
    "answer",
    [
        _json(b"<html>not json</html>"),
        _json(_DEEP),
        _json(json.dumps({"a": 1}).encode()),
        _drip("application/dicom+json", b"["),
        _endless("application/dicom+json", b"[", json.dumps(_STUDY).encode() + b","),
    ],
    ids=["not-json", "nested-5000-deep", "not-dicom-json", "trickle", "endless"],
)
def test_a_hostile_search_answer_is_one_sentence_in_time(
    hostile: Callable[[Answer], None], answer: Answer
) -> None:
    hostile(answer)

    started = time.monotonic()
    with pytest.raises(PacsError, match=r"^PACS at http://127\.0\.0\.1:\d+/dicom-web "):
        search(load_settings(demo=False), patient_id="X")
    assert time.monotonic() - started < 30  # the timeout is 2 s; a hang would be endless


@pytest.mark.parametrize(
    "answer",
    [
        _multipart(b"this is not DICOM at all" * 10),
        _multipart(b"DICM"),
        _html,  # not multipart at all
        _drip('multipart/related; type="application/dicom"; boundary=B', b"--B\r\n\r\n"),
    ],
    ids=["not-dicom", "cut-short", "not-multipart", "trickle"],
)
def test_a_hostile_retrieval_is_one_sentence_and_leaves_nothing(
    hostile: Callable[[Answer], None], answer: Answer, tmp_path: Path
) -> None:
    hostile(answer)

    dest = tmp_path / "study"
    started = time.monotonic()
    with pytest.raises(PacsError, match=r"^PACS at http://127\.0\.0\.1:\d+/dicom-web "):
        retrieve(load_settings(demo=False), "1.2.3", dest)
    assert time.monotonic() - started < 30
    assert list(dest.iterdir()) == []


def test_an_endless_instance_stops_at_the_limit(
    hostile: Callable[[Answer], None], tmp_path: Path, site_file: Path
) -> None:
    hostile(_endless('multipart/related; type="application/dicom"; boundary=B', b"--B\r\n", b"x"))
    _limit(site_file, "max_instance_mb = 8")

    dest = tmp_path / "study"
    with pytest.raises(PacsError, match="of more than 8 MB: refused"):
        retrieve(load_settings(demo=False), "1.2.3", dest)
    assert list(dest.iterdir()) == []


def test_absurd_values_in_a_qido_answer_are_dropped_not_shown(
    hostile: Callable[[Answer], None],
) -> None:
    study = {
        "0020000D": {"vr": "UI", "Value": ["1.2.3"]},
        "00201208": {"vr": "IS", "Value": [1e308]},
        "00080061": {"vr": "CS", "Value": ["DX", 5, {"a": 1}, "Y" * 40]},
        "00081030": {"vr": "LO", "Value": ["D" * 100_000]},
    }
    hostile(_json(json.dumps([study]).encode()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom says what it thinks of the values: fine here
        (hit,) = search(load_settings(demo=False), patient_id="X")
    assert (hit.instances, hit.modalities, len(hit.description)) == (None, ("DX",), 256)


@pytest.mark.parametrize(
    ("auth", "username", "secret"),
    [
        ("basic", "bob", "pass\u30d1S3cret"),  # not Latin-1: requests raised UnicodeEncodeError
        ("basic", "bob:x", "S3cret"),  # RFC 7617: no colon in the user-id
        ("bearer", "", "tok\u30d1S3cret"),
        ("bearer", "", "tok S3cret"),
        ("bearer", "", "tok\x7fS3cret"),
    ],
)
def test_a_credential_no_http_header_can_carry_is_one_sentence_without_it(
    hostile: Callable[[Answer], None],
    site_file: Path,
    tmp_path: Path,
    auth: str,
    username: str,
    secret: str,
) -> None:
    hostile(_json(b"[]"))
    secret_file = tmp_path / "secret"
    secret_file.write_text(secret + "\n", encoding="utf-8")
    site_file.write_text(
        site_file.read_text(encoding="utf-8")
        + f'auth = "{auth}"\nusername = "{username}"\npassword_file = "{secret_file}"\n',
        encoding="utf-8",
    )
    with pytest.raises(PacsError, match="Authorization header cannot carry") as caught:
        search(load_settings(demo=False), patient_id="X")
    assert "S3cret" not in str(caught.value)


def _stow_answer(code: int, body: bytes) -> Answer:
    def answer(h: http.server.BaseHTTPRequestHandler) -> None:
        h.rfile.read(int(h.headers.get("Content-Length", 0)))
        h.send_response(code)
        h.send_header("Connection", "close")
        h.close_connection = True
        h.send_header("Content-Type", "application/dicom+json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return answer


_FAILED = "00081198"
_REASON = "00081197"


@pytest.mark.parametrize(
    ("body", "reasons"),
    [
        (b'{"00081198":{"vr":"SQ","Value":[' * 5000 + b"]}}" * 5000, "HTTP 409"),
        (
            json.dumps(
                {_FAILED: {"Value": [{_REASON: {"Value": [10**30]}}, 5, None, {_REASON: 7}]}}
            ).encode(),
            "refused",
        ),
        (
            json.dumps({_FAILED: {"Value": [{_REASON: {"Value": [0xA700]}}] * 1000}}).encode(),
            "PACS is out of resources (0xA700)",
        ),
        (json.dumps({_FAILED: [1, 2]}).encode(), "HTTP 409"),
    ],
    ids=["nested-5000-deep", "absurd-codes", "1000-items", "not-an-element"],
)
def test_a_hostile_stow_refusal_is_one_short_sentence(
    hostile: Callable[[Answer], None], body: bytes, reasons: str
) -> None:
    hostile(_stow_answer(409, body))
    target = PacsTarget.from_settings(load_settings(demo=False))
    source = source_image(seed=5)
    with pytest.raises(PacsRejectedError) as caught:
        web.store(target, [encode_part10(source)])
    assert str(caught.value).endswith(f"refused the object: {reasons}.")


def test_a_study_without_end_stops_at_the_study_limit(
    hostile: Callable[[Answer], None], tmp_path: Path, site_file: Path
) -> None:
    """A PACS streaming valid instances without end filled the disk."""
    source = source_image(seed=9)
    parts = []
    for i in range(20):
        source.SOPInstanceUID = f"1.2.826.0.1.3680043.10.1398.9.{i + 1}"
        parts.append(encode_part10(source))
    body = (
        b"".join(
            b"--B\r\nContent-Type: application/dicom\r\n\r\n" + part + b"\r\n" for part in parts
        )
        + b"--B--\r\n"
    )

    def answer(h: http.server.BaseHTTPRequestHandler) -> None:
        _head(h, 'multipart/related; type="application/dicom"; boundary=B', len(body))
        h.wfile.write(body)

    hostile(answer)
    _limit(site_file, "max_study_instances = 5")
    dest = tmp_path / "study"
    with pytest.raises(PacsError, match="more than 5 instances or 8 GB for one study"):
        retrieve(load_settings(demo=False), "1.2.3", dest)
    assert list(dest.iterdir()) == []
