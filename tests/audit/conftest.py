"""Fixtures for the audit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
