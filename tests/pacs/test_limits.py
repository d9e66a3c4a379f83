"""What a PACS may send at most is a [pacs] setting (it was a constant in the code): the same
defaults, bounds refused at load in IT's words, and a lower value taking effect against a
C-FIND SCP of the test's own (the C-GET, WADO-RS and C-FIND caps: test_dimse_hostile.py and
test_web_hostile.py set them in the site file the same way)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pynetdicom import AE, evt

from tests.pacs.helpers import write_site
from viewer.config import PacsSection
from viewer.errors import ConfigError
from viewer.pacs.dimse import STUDY_ROOT_FIND
from viewer.pacs.query import search

DEFAULTS = {
    "max_results": 500,
    "max_search_answers": 10_000,
    "max_search_mb": 32,
    "max_study_instances": 2000,
    "max_study_gb": 8.0,
    "max_instance_mb": 1024,
    "min_kb_per_timeout": 64,
}


def test_the_defaults_are_the_former_constants() -> None:
    section = PacsSection()
    assert {key: getattr(section, key) for key in DEFAULTS} == DEFAULTS


@pytest.mark.parametrize("key", sorted(DEFAULTS))
@pytest.mark.parametrize("value", ["0", "-1", "10000000", '"many"'])
def test_a_limit_out_of_bounds_is_refused_naming_the_key(
    site_file: Path, key: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=rf"key 'pacs\.{key}'"):
        write_site(site_file, f"[pacs]\n{key} = {value}\n")


@pytest.fixture
def ten_studies() -> Iterator[int]:
    """A C-FIND SCP answering with ten studies, one a day."""

    def on_find(_event: Any) -> Iterator[tuple[int, Dataset | None]]:
        for day in range(1, 11):
            ds = Dataset()
            ds.QueryRetrieveLevel = "STUDY"
            ds.StudyInstanceUID = f"1.2.{day}"
            ds.StudyDate = f"202601{day:02d}"
            yield 0xFF00, ds
        yield 0x0000, None

    ae = AE(ae_title="PACS")
    ae.add_supported_context(STUDY_ROOT_FIND)
    server = ae.start_server(
        ("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_FIND, on_find)]
    )
    assert server is not None
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()


def test_max_results_keeps_the_newest(site_file: Path, ten_studies: int) -> None:
    settings = write_site(
        site_file,
        "[pacs]\nenabled = true\n"
        f'transport = "dimse"\nquery = "dimse"\nhost = "127.0.0.1"\nport = {ten_studies}\n'
        'called_aet = "PACS"\nconnect_timeout_s = 5\ntimeout_s = 10\nmax_results = 3\n',
    )
    hits = search(settings, patient_id="X")
    assert [h.study_uid for h in hits] == ["1.2.10", "1.2.9", "1.2.8"]
