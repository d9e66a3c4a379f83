"""What a PACS may send at most is a [pacs] setting (it was a constant in the code): the same
defaults, bounds refused at load in IT's words, and a lower value taking effect against a
C-FIND SCP of the test's own (the C-GET, WADO-RS and C-FIND caps: test_dimse_hostile.py and
test_web_hostile.py set them in the site file the same way)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pacs.helpers import c_find_scp, dimse_site, raw_answer, write_site
from viewer.config import PacsSection
from viewer.errors import ConfigError
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
    answers = [
        raw_answer(
            StudyInstanceUID=("UI", f"1.2.{day}".encode()), StudyDate=("DA", b"202601%02d" % day)
        )
        for day in range(1, 11)
    ]
    with c_find_scp(answers) as port:
        yield port


def test_max_results_keeps_the_newest(site_file: Path, ten_studies: int) -> None:
    settings = write_site(site_file, dimse_site(ten_studies, extra="max_results = 3\n"))
    hits = search(settings, patient_id="X")
    assert [h.study_uid for h in hits] == ["1.2.10", "1.2.9", "1.2.8"]
