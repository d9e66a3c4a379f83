"""Fixtures for the audit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from viewer.audit import AuditLog
from viewer.config import Settings


@pytest.fixture
def log(settings: Settings) -> Iterator[AuditLog]:
    opened = AuditLog.open(settings)
    yield opened
    opened.close()
