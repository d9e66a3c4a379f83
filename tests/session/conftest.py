"""Fixtures for the session's tests: an open audit log on the test's own data dir."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from viewer.audit import AuditLog
from viewer.config import Settings


@pytest.fixture
def log(settings: Settings) -> Iterator[AuditLog]:
    with AuditLog.open(settings) as opened:
        yield opened
