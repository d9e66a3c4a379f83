"""The one hook forwarders use (AuditLog.add_listener) and the feed from the log into an outbox."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tests.audit.helpers import decision
from viewer.audit import AuditEvent, AuditLog, AuditRecord
from viewer.audit.forwarding import feed, row_key, watermark
from viewer.outbox import Outbox


def test_listener_gets_committed_rows_and_cannot_undo_the_append(log: AuditLog) -> None:
    seen: list[list[int]] = []

    def listener(records: Sequence[AuditRecord]) -> None:
        seen.append([r.seq for r in records])
        raise RuntimeError("a broken forwarder")

    log.add_listener(listener)
    log.append_all([decision(1), decision(2)])
    log.append(AuditEvent(type="app_start"))
    assert seen == [[1, 2], [3]]
    assert log.count() == 3  # the listener's exception changed nothing
    log.remove_listener(listener)
    log.append(AuditEvent(type="app_stop"))
    assert seen == [[1, 2], [3]]


def test_feed_queues_each_row_once_in_order_after_the_watermark(
    log: AuditLog, tmp_path: Path
) -> None:
    for i in range(5):
        log.append(decision(i))
    with Outbox(tmp_path / "out.sqlite") as box:
        assert feed(log, box, lambda r: r.hash.encode(), batch=2) == 5
        assert feed(log, box, lambda r: r.hash.encode()) == 0
        log.append(AuditEvent(type="app_stop"))
        assert feed(log, box, lambda r: r.hash.encode()) == 1
        assert watermark(box, log.log_id) == 6
        keys = [item.key for item in box.waiting()]
        assert keys == [row_key(log.log_id, seq) for seq in range(1, 7)]
        assert next(item.payload for item in box.waiting()) == log.get(1).hash.encode()  # type: ignore[union-attr]
