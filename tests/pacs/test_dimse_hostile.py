"""DIMSE settings a new site gets wrong and what a misbehaving PACS answers a C-FIND with (a
C-FIND SCP of the test's own): every one is one sentence or a bounded answer, never a traceback."""

from __future__ import annotations

import contextlib
import copy
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE, evt

from tests.pacs.helpers import c_find_scp, raw_answer, source_image, write_site
from viewer.errors import ConfigError
from viewer.pacs import dimse
from viewer.pacs.connection import PacsError, PacsTarget
from viewer.pacs.dimse import STUDY_ROOT_GET
from viewer.pacs.query import retrieve, search


@pytest.mark.parametrize("host", ["no-such-host.invalid", "x" * 64 + ".example", "a..b"])
def test_a_host_name_that_does_not_resolve_is_one_sentence(site_file: Path, host: str) -> None:
    settings = write_site(
        site_file,
        "[pacs]\nenabled = true\n"
        f'transport = "dimse"\nquery = "dimse"\nhost = "{host}"\ncalled_aet = "PACS"\n'
        "connect_timeout_s = 2\ntimeout_s = 2\n",
    )
    with pytest.raises(PacsError, match=r"^The PACS host name .* is not known \(check pacs"):
        dimse.echo(PacsTarget.from_settings(settings))
    with pytest.raises(PacsError, match=r"is not known"):
        search(settings, patient_id="X")


@pytest.fixture
def find_scp() -> Iterator[Callable[[list[Dataset]], int]]:
    """``find_scp(answers)``: the port of a C-FIND SCP answering with ``answers``."""
    with contextlib.ExitStack() as stack:
        yield lambda answers: stack.enter_context(c_find_scp(answers))


def test_absurd_values_in_a_c_find_answer_do_not_lose_the_search(
    site_file: Path, find_scp: Callable[[list[Dataset]], int]
) -> None:
    answers = [
        raw_answer(
            StudyInstanceUID=("UI", b"1.2.3\x00"),
            NumberOfStudyRelatedInstances=("IS", b"abc "),
            ModalitiesInStudy=("CS", b"CR\\" + b"X" * 40),
            PatientName=("PN", b"\xff\xfe" * 600),
        ),
        raw_answer(
            StudyInstanceUID=("UI", b"1.2.4\x00"), NumberOfStudyRelatedInstances=("IS", b"12\\13 ")
        ),
        raw_answer(
            StudyInstanceUID=("UI", b"1.2.5\x00"),
            NumberOfStudyRelatedInstances=("IS", b"99999999999 "),
        ),
        raw_answer(
            StudyInstanceUID=("UI", b"1.2.6\x00"), NumberOfStudyRelatedInstances=("IS", b"-5")
        ),
        raw_answer(
            StudyInstanceUID=("UI", b"../x\x00"), NumberOfStudyRelatedInstances=("IS", b"3 ")
        ),
    ]
    port = find_scp(answers)
    settings = write_site(
        site_file,
        "[pacs]\nenabled = true\n"
        f'transport = "dimse"\nquery = "dimse"\nhost = "127.0.0.1"\nport = {port}\n'
        'called_aet = "PACS"\nconnect_timeout_s = 5\ntimeout_s = 5\n',
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom says what it thinks of the values: fine here
        hits = search(settings, patient_id="X")
    assert {h.study_uid: h.instances for h in hits} == {
        "1.2.3": None,
        "1.2.4": None,
        "1.2.5": None,
        "1.2.6": None,
    }
    first = next(h for h in hits if h.study_uid == "1.2.3")
    assert first.modalities == ("CR",)
    assert len(first.patient_name) <= 256


def test_a_c_find_without_end_is_stopped(
    site_file: Path, find_scp: Callable[[list[Dataset]], int]
) -> None:
    port = find_scp([raw_answer(StudyInstanceUID=("UI", f"1.2.{i}".encode())) for i in range(50)])
    settings = write_site(
        site_file,
        "[pacs]\nenabled = true\n"
        f'transport = "dimse"\nquery = "dimse"\nhost = "127.0.0.1"\nport = {port}\n'
        'called_aet = "PACS"\nconnect_timeout_s = 5\ntimeout_s = 5\nmax_search_answers = 20\n',
    )
    with pytest.raises(PacsError, match=r"more than 20 studies \(pacs.max_search_answers\): give"):
        search(settings, patient_id="X")


@pytest.mark.parametrize(
    ("section", "extra"),
    [
        ("pacs", ""),
        ("audit_central", 'sslmode = "require"\n'),
        ("atna", 'ca_file = "/etc/ssl/certs/ca-certificates.crt"\n'),
    ],
)
@pytest.mark.parametrize("host", ["a\\u0000b", "bad host", "x dbname=postgres", "h\\u001b[2J"])
def test_a_host_no_network_name_has_is_refused_at_load(
    site_file: Path, section: str, extra: str, host: str
) -> None:
    """A NUL, a space, a libpq option or an escape reached pynetdicom (a traceback), libpq and
    the terminal (`audit central status` printed the raw escape)."""
    with pytest.raises(ConfigError, match=rf"key '{section}\.host': String should match"):
        write_site(site_file, f'[{section}]\nenabled = true\nhost = "{host}"\n{extra}')


@contextlib.contextmanager
def _get_scp(
    site_file: Path, count: int, *, delay_s: float = 0.0, extra: str = "", timeout_s: int = 1
) -> Iterator[tuple[Any, Any]]:
    """A C-GET SCP of the test's own sending ``count`` valid instances, ``delay_s`` apart; yields
    (settings, source); ``extra``: more [pacs] lines; ``timeout_s``: also the window of the
    slow-answer guard (pacs.min_kb_per_timeout per timeout_s)."""
    source = source_image(seed=9)
    source.Rows = source.Columns = 4  # small instances: a trickle of them is a few KB a second
    source.PixelData = bytes(4 * 4 * (source.BitsAllocated // 8))

    def on_get(event: Any) -> Iterator[Any]:
        yield count
        for i in range(count):
            time.sleep(delay_s)
            ds = copy.deepcopy(source)
            ds.SOPInstanceUID = f"1.2.826.0.1.3680043.10.1398.9.{i + 1}"
            yield 0xFF00, ds

    ae = AE(ae_title="PACS")
    ae.add_supported_context(STUDY_ROOT_GET)
    ae.add_supported_context(
        source.SOPClassUID, [ExplicitVRLittleEndian], scu_role=True, scp_role=True
    )
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_GET, on_get)])
    assert server is not None
    try:
        settings = write_site(
            site_file,
            "[pacs]\nenabled = true\n"
            f'transport = "dimse"\nquery = "dimse"\nhost = "127.0.0.1"\n'
            f'port = {server.server_address[1]}\ncalled_aet = "PACS"\n'
            f"connect_timeout_s = 5\ntimeout_s = {timeout_s}\n{extra}",
        )
        yield settings, source
    finally:
        server.shutdown()


def test_a_c_get_without_end_stops_at_the_study_limit(site_file: Path, tmp_path: Path) -> None:
    """Twenty valid instances where the limit is five: the retrieval stops in words and keeps
    nothing (an endless one filled the disk)."""
    dest = tmp_path / "study"
    with (
        # a window far above what a loaded machine takes for five 4 x 4 instances (a few KB):
        # with 1 s, a slow start tripped the slow-answer guard before the count limit
        _get_scp(site_file, 20, extra="max_study_instances = 5\n", timeout_s=60) as (
            settings,
            source,
        ),
        pytest.raises(PacsError, match="more than 5 instances or 8 GB for one study"),
    ):
        retrieve(settings, source.StudyInstanceUID, dest)
    assert list(dest.iterdir()) == []


def test_a_c_get_that_trickles_instances_is_stopped(site_file: Path, tmp_path: Path) -> None:
    """A small instance every 0.3 s answers each message in time (no per-message timeout trips)
    but brings less than 64 KB a second: stopped in words, nothing kept."""
    dest = tmp_path / "study"
    started = time.monotonic()
    with (
        _get_scp(site_file, 2000, delay_s=0.3) as (settings, source),
        pytest.raises(PacsError, match=r"too slowly \(less than 64 KB in 1 s, pacs.min_kb_per"),
    ):
        retrieve(settings, source.StudyInstanceUID, dest)
    assert time.monotonic() - started < 30
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize("with_study", [True, False], ids=["studies", "no-study-pendings"])
def test_a_c_find_that_trickles_without_end_stops_at_the_timeout(
    site_file: Path, find_scp: Callable[[list[Dataset]], int], with_study: bool
) -> None:
    """One pending answer every 0.2 s never trips pynetdicom's per-message timeouts."""

    class Trickle(list[Dataset]):
        def __iter__(self) -> Iterator[Dataset]:
            for i in range(3000):  # 10 minutes, should nothing stop it
                time.sleep(0.2)
                yield (
                    raw_answer(StudyInstanceUID=("UI", f"1.2.{i}".encode()))
                    if with_study
                    else raw_answer()
                )

    port = find_scp(Trickle())
    settings = write_site(
        site_file,
        "[pacs]\nenabled = true\n"
        f'transport = "dimse"\nquery = "dimse"\nhost = "127.0.0.1"\nport = {port}\n'
        'called_aet = "PACS"\nconnect_timeout_s = 5\ntimeout_s = 2\n',
    )
    started = time.monotonic()
    with pytest.raises(PacsError, match=r"did not finish its answer to the search \(C-FIND\)"):
        search(settings, patient_id="X")
    assert time.monotonic() - started < 30
