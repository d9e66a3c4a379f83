"""``OutboxReader``: an outbox's status read without writing to it, while a drainer holds the
write lock (the window polls it; issue 18's forwarding status)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from viewer.outbox import (
    Backoff,
    Outbox,
    OutboxError,
    OutboxReader,
    OutboxStatus,
    PermanentSendError,
)


def read_status(path: Path, kind: str | None = None, **kw: float) -> OutboxStatus:
    with OutboxReader(path, **kw) as reader:
        return reader.status(kind)


def test_no_file_is_a_sentence_and_no_file_is_made(tmp_path: Path) -> None:
    path = tmp_path / "never" / "out.sqlite"
    with pytest.raises(OutboxError, match=r"The outbox .*out\.sqlite cannot be read"):
        read_status(path)
    assert not path.exists()
    assert not path.parent.exists()


def test_it_reads_what_the_outbox_itself_reports(tmp_path: Path) -> None:
    path = tmp_path / "out.sqlite"
    with Outbox(path, backoff=Backoff(first_s=30)) as box:
        for i in range(5):
            box.put(f"k{i}", b"x", kind="log-a", now=1000.0 + i)
        box.put("other", b"y", kind="log-b", now=1001.0)

        def send(item: object) -> None:
            key = getattr(item, "key", "")
            if key == "k2":
                raise PermanentSendError("refused: bad row")
            if key == "k3":
                raise ConnectionError("store down")

        box.drain(send, ordered=False, now=lambda: 2000.0)
        for kind in (None, "log-a", "log-b"):
            assert read_status(path, kind) == box.status(kind)
        got = read_status(path)
    assert got is not None
    assert (got.pending, got.held, got.sent) == (1, 1, 4)
    assert got.last_error == "store down"
    assert got.failing_since == 2000.0
    assert got.oldest_pending == 1002.0


def test_a_drainer_holding_the_write_lock_does_not_block_it(tmp_path: Path) -> None:
    path = tmp_path / "out.sqlite"
    with Outbox(path) as box:
        box.put("a", b"1")
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE items SET attempts = 7")
        # no busy wait allowed: a reader that needed a lock would fail at once ("database is
        # locked"); a WAL reader sees the last commit
        status = read_status(path, busy_timeout_s=0.0)
        assert status is not None
        assert status.pending == 1
        writer.execute("COMMIT")
    finally:
        writer.close()


def test_a_file_that_is_not_an_outbox_is_a_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(OutboxError, match=r"The outbox .*bad\.sqlite cannot be read"):
        read_status(bad)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE unrelated (x)")
    with pytest.raises(OutboxError, match="cannot be read: no such table"):
        read_status(other)


def test_a_reader_sees_one_moment_and_the_newest_key(tmp_path: Path) -> None:
    path = tmp_path / "out.sqlite"
    with Outbox(path) as box:
        box.put_many([("log:1", b"a"), ("log:2", b"b")], kind="log")
        with OutboxReader(path) as reader:
            assert reader.last_key("log") == "log:2" == box.last_key("log")
            assert reader.last_key("other") is None
            box.put("log:3", b"c", kind="log")  # committed after the reader's first read
            assert reader.last_key("log") == "log:2"
            assert reader.status().pending == 2
        with OutboxReader(path) as reader:
            assert reader.last_key("log") == "log:3"


def test_the_last_send_is_found_through_an_index_not_by_visiting_every_sent_row(
    tmp_path: Path,
) -> None:
    """A year of forwarding holds hundreds of thousands of rows sent; the window looks every
    10 s (bench/bench_forwarding_status.py: 108 ms a look at 50,000 rows without it, 17 with)."""
    path = tmp_path / "out.sqlite"
    with Outbox(path) as box:
        box.put_many([(f"k{i}", b"x") for i in range(3)])
        box.drain_batches(lambda items: None)
    with sqlite3.connect(path) as db:
        plan = db.execute(
            "EXPLAIN QUERY PLAN SELECT max(sent_at) FROM items WHERE state = 'sent' "
            "AND (? IS NULL OR kind = ?)",
            (None, None),
        ).fetchall()
    assert "items_sent" in str(plan)
    assert read_status(path).last_sent is not None
