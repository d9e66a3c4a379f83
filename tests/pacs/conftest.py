"""Fixtures for the PACS tests: one real Orthanc for the whole session (emptied before each test
that asks for it), skipped with a clear reason when Orthanc is not installed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pacs.orthanc import OrthancServer, missing_reason


def orthanc_or_skip() -> None:
    reason = missing_reason()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def orthanc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    """A real Orthanc shared by the session (starting one takes about a second)."""
    orthanc_or_skip()
    server = OrthancServer(tmp_path_factory.mktemp("orthanc"))
    server.start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def orthanc(orthanc_server: OrthancServer) -> OrthancServer:
    """The session's Orthanc, running and empty."""
    if not orthanc_server.running:
        orthanc_server.start()
    orthanc_server.clear()
    return orthanc_server


@pytest.fixture
def own_orthanc(tmp_path: Path) -> Iterator[OrthancServer]:
    """An Orthanc of the test's own (not started): for tests that stop, kill or reconfigure it."""
    orthanc_or_skip()
    server = OrthancServer(tmp_path / "orthanc")
    try:
        yield server
    finally:
        server.remove()
