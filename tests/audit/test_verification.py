"""verify_and_record: one path for the CLI and the audit window, recorded when it can be."""

from __future__ import annotations

import pytest

from viewer.audit import AuditEvent, AuditLog, EventType
from viewer.audit.verification import verify_and_record
from viewer.config import Settings
from viewer.errors import AuditError, AuditWriteError


def _log_with_rows(settings: Settings, n: int = 3) -> None:
    with AuditLog.open(settings) as log:
        for _ in range(n):
            log.append(AuditEvent(type=EventType.IMAGE_OPENED))


def test_verification_is_recorded(settings: Settings) -> None:
    _log_with_rows(settings)
    outcome = verify_and_record(settings, source="gui")
    assert outcome.result.ok and outcome.recorded and outcome.warning is None
    with AuditLog.open(settings) as log:
        last = log.records()[-1]
    assert last.type == "verification" and '"source":"gui"' in last.detail_json.replace(" ", "")


def test_unwritable_log_is_verified_read_only_and_says_so(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _log_with_rows(settings)

    def refuse(*args: object, **kwargs: object) -> AuditLog:
        raise AuditWriteError("the data folder is read-only")

    monkeypatch.setattr(AuditLog, "open", classmethod(lambda cls, *a, **k: refuse()))
    outcome = verify_and_record(settings, source="cli")
    assert outcome.result.ok and outcome.result.rows == 3
    assert outcome.recorded is False
    assert outcome.warning is not None and "NOT recorded" in outcome.warning


def test_no_log_yet_is_a_clear_error(settings: Settings) -> None:
    with pytest.raises(AuditError, match="no audit log"):
        verify_and_record(settings, source="gui")
