"""DIMSE settings a new site gets wrong: every one is one sentence, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pacs.helpers import write_site
from viewer.pacs import dimse
from viewer.pacs.connection import PacsError, PacsTarget
from viewer.pacs.query import search


@pytest.mark.parametrize(
    "host", ["no-such-host.invalid", "a\\u0000b", "x" * 64 + ".example", "bad host name"]
)
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
