"""Fixtures for the audit tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.audit.atna_helpers import Pki, Rsyslog, make_pki
from tests.audit.pg_cluster import PgCluster, make_cluster
from viewer.audit import AuditLog
from viewer.config import Settings


@pytest.fixture
def log(settings: Settings) -> Iterator[AuditLog]:
    opened = AuditLog.open(settings)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One throwaway PostgreSQL server for the department audit store tests."""
    yield from make_cluster()


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    """A test CA with server and client certificates (and wrong ones) for the ATNA tests."""
    return make_pki(tmp_path / "pki")


@pytest.fixture
def rsyslog(tmp_path: Path, pki: Pki) -> Iterator[Rsyslog]:
    """A real rsyslogd with TLS on a free loopback port, started; stopped at the end."""
    server = Rsyslog(tmp_path / "rsyslog", pki)
    server.start()
    yield server
    server.stop()
