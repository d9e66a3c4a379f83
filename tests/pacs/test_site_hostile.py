"""Hostile ``[pacs]`` site files: an old key name holding something that is not a path is a
sentence naming the key the file holds (pydantic named only the new one, absent from the file);
the limits refuse 0, negative, huge, text, nan and inf with the key's name."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pacs.helpers import write_site
from viewer.config import PACS_RENAMED
from viewer.errors import ConfigError


@pytest.mark.parametrize(
    "value", ["5", "true", '["a.pem"]', "{ x = 1 }"], ids=["int", "bool", "list", "table"]
)
@pytest.mark.parametrize("old", sorted(PACS_RENAMED))
def test_an_old_name_that_is_not_a_path_names_the_key_written(
    site_file: Path, old: str, value: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        write_site(site_file, f"[pacs]\n{old} = {value}\n")
    assert f"pacs.{old} (the old name of pacs.{PACS_RENAMED[old]}) must be a path in quotes" in str(
        raised.value
    )


@pytest.mark.parametrize(
    "value", ["0", "-1", "1e99", '"10"', "99999999999999999999", "nan", "inf", "true"]
)
@pytest.mark.parametrize("key", ["max_results", "max_study_gb", "min_kb_per_timeout"])
def test_limits_out_of_range_are_refused_by_name(site_file: Path, key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=rf"pacs\.{key}"):
        write_site(site_file, f"[pacs]\n{key} = {value}\n")
