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


@pytest.mark.parametrize(
    "url",
    [
        "http://host:99999999/dicom-web",
        "http://[::1/dicom-web",
        "http://\\u001b[31mpacs/dicom-web",
        "http://pacs/dicom web",
        "http:///dicom-web",
    ],
    ids=["port-out-of-range", "open-bracket", "escape", "space", "no-host"],
)
def test_a_dicomweb_address_no_request_can_use_is_refused_at_load(
    site_file: Path, url: str
) -> None:
    """'site check' said OK and 'pacs echo' failed with urllib's 'Invalid IPv6 URL' or the
    class name 'InvalidURL': the address is read as RFC 3986 asks (host, port 0-65535, no
    space or control character) when the site file is."""
    with pytest.raises(ConfigError) as raised:
        write_site(site_file, f'[pacs]\ndicomweb_url = "{url}"\n')
    said = str(raised.value)
    assert "pacs.dicomweb_url" in said and "Value error" not in said, said
    assert "\x1b" not in said and "InvalidURL" not in said and "Invalid IPv6 URL" not in said, said
