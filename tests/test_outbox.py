"""The durable outbox: idempotent put, ordered and unordered drains, backoff, held items, one
drainer at a time, and nothing lost when the writing process is killed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from viewer.outbox import (
    Backoff,
    Outbox,
    OutboxError,
    OutboxItem,
    PartlySentError,
    PermanentSendError,
)


@pytest.fixture
def box(tmp_path: Path) -> Outbox:
    with Outbox(tmp_path / "out.sqlite", backoff=Backoff(first_s=10, factor=2, cap_s=60)) as ob:
        yield ob


def test_put_is_idempotent_on_key(box: Outbox) -> None:
    assert box.put("a", b"1", kind="sr") is True
    assert box.put("a", b"other", kind="sr") is False
    assert [(i.key, i.payload) for i in box.due()] == [("a", b"1")]
    assert box.state_of("a") == "pending" and box.state_of("zz") is None


def test_sent_items_are_not_resent_and_not_requeued(box: Outbox) -> None:
    box.put("a", b"1", now=0)
    seen: list[str] = []
    assert box.drain(lambda i: seen.append(i.key), ordered=False, now=lambda: 1).sent == 1
    assert box.drain(lambda i: seen.append(i.key), ordered=False, now=lambda: 2).sent == 0
    assert box.put("a", b"1") is False  # a retry after a crash cannot queue it again
    assert seen == ["a"] and box.state_of("a") == "sent"
    assert box.status().last_sent == 1


def _fail_on(keys: set[str], seen: list[str]) -> object:
    def send(item: OutboxItem) -> None:
        if item.key in keys:
            raise ConnectionError(f"refused {item.key}")
        seen.append(item.key)

    return send


def test_ordered_drain_stops_at_first_failure_and_keeps_order(box: Outbox) -> None:
    for k in "abc":
        box.put(k, k.encode(), now=0)
    seen: list[str] = []
    res = box.drain(_fail_on({"b"}, seen), ordered=True, now=lambda: 1)  # type: ignore[arg-type]
    assert (res.sent, res.failed, seen) == (1, 1, ["a"])
    assert res.error == "refused b"
    # c is due but must not overtake b while b waits for its backoff
    res = box.drain(lambda i: seen.append(i.key), ordered=True, now=lambda: 5)
    assert res.sent == 0 and seen == ["a"]
    res = box.drain(lambda i: seen.append(i.key), ordered=True, now=lambda: 12)
    assert res.sent == 2 and seen == ["a", "b", "c"]


def test_unordered_drain_skips_a_failing_item(box: Outbox) -> None:
    for k in "abc":
        box.put(k, k.encode(), now=0)
    seen: list[str] = []
    res = box.drain(_fail_on({"b"}, seen), ordered=False, now=lambda: 1)  # type: ignore[arg-type]
    assert (res.sent, res.failed, seen) == (2, 1, ["a", "c"])
    st = box.status()
    assert (st.pending, st.sent, st.failing_since, st.next_attempt) == (1, 2, 1, 11)
    assert st.last_error == "refused b"


def test_backoff_grows_to_its_cap(box: Outbox) -> None:
    box.put("a", b"", now=0)
    item = box.due(now=0)[0]
    times = [box.mark_failed(item.id, "down", now=100) for _ in range(6)]
    assert times == [110, 120, 140, 160, 160, 160]
    assert Backoff().delay(10_000) == Backoff().cap_s


def test_permanent_failure_is_held_not_lost_until_retried(box: Outbox) -> None:
    box.put("a", b"x", now=0)

    def reject(_item: OutboxItem) -> None:
        raise PermanentSendError("rejected by the receiver (status 0xA700)")

    res = box.drain(reject, ordered=False, now=lambda: 1)
    assert (res.held, res.sent) == (1, 0)
    assert box.due(now=10_000) == []  # not retried on a timer
    st = box.status()
    assert (st.held, st.waiting, st.last_error) == (
        1,
        1,
        "rejected by the receiver (status 0xA700)",
    )
    assert [i.key for i in box.waiting()] == ["a"]
    assert box.retry_now(now=2) == 1
    assert box.drain(lambda _i: None, ordered=False, now=lambda: 3).sent == 1


def test_one_drainer_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "out.sqlite"
    with Outbox(path) as first, Outbox(path) as second:
        first.put("a", b"", now=0)
        inner: list[object] = []

        def send(_item: OutboxItem) -> None:
            inner.append(second.drain(lambda _i: None, ordered=True, now=lambda: 1))

        first.drain(send, ordered=True, now=lambda: 1)
        assert len(inner) == 1 and inner[0].busy is True  # type: ignore[attr-defined]
        # after the first drainer finished, the lease is free again
        first.put("b", b"", now=0)
        assert second.drain(lambda _i: None, ordered=True, now=lambda: 2).sent == 1


def test_should_stop_and_limit(box: Outbox) -> None:
    for k in "abcd":
        box.put(k, b"", now=0)
    assert box.drain(lambda _i: None, ordered=False, limit=2, now=lambda: 1).sent == 2
    assert (
        box.drain(lambda _i: None, ordered=False, should_stop=lambda: True, now=lambda: 1).sent == 0
    )
    assert box.status().pending == 2


def test_not_an_outbox_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(OutboxError, match="cannot be opened"):
        Outbox(bad)
    with sqlite3.connect(tmp_path / "other.sqlite") as db:
        db.execute("CREATE TABLE items (x)")
    with pytest.raises(OutboxError):
        Outbox(tmp_path / "other.sqlite").put("a", b"")


@pytest.mark.skipif(os.name != "posix", reason="kill -9 needs POSIX signals")
def test_items_put_survive_a_kill_9(tmp_path: Path) -> None:
    """A child puts items and reports each; killed with SIGKILL mid-stream, every item it
    reported is in the file afterwards."""
    path = tmp_path / "out.sqlite"
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from viewer.outbox import Outbox
        box = Outbox(Path({str(path)!r}))
        for i in range(100000):
            box.put(f"k{{i}}", b"x" * 100)
            print(i, flush=True)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    last = -1
    for line in child.stdout:
        last = int(line)
        if last >= 200:
            break
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    child.stdout.close()
    with Outbox(path) as box:
        assert all(box.contains(f"k{i}") for i in range(last + 1))
        assert box.status().pending >= last + 1


def test_put_many_is_one_ordered_idempotent_batch(box: Outbox) -> None:
    assert box.last_key("row") is None
    assert box.put_many([("w:1", b"a"), ("w:2", b"b")], kind="row") == 2
    assert box.put_many([("w:2", b"b"), ("w:3", b"c")], kind="row") == 1
    box.put("other", b"x", kind="atna")
    assert box.last_key("row") == "w:3" and box.last_key("atna") == "other"
    assert [i.key for i in box.waiting()] == ["w:1", "w:2", "w:3", "other"]


def test_drain_batches_sends_in_order_and_retries_a_failed_batch_whole(box: Outbox) -> None:
    box.put_many([(f"k{n}", b"p") for n in range(7)], now=0)
    batches: list[list[str]] = []
    fail = {"on": True}

    def send(items: list[OutboxItem]) -> None:
        if fail["on"] and items[0].key == "k3":
            raise ConnectionError("network cut")
        batches.append([i.key for i in items])

    first = box.drain_batches(send, batch_size=3, now=lambda: 1)
    assert (first.sent, first.failed, first.error) == (3, 1, "network cut")
    assert batches == [["k0", "k1", "k2"]]
    assert box.drain_batches(send, batch_size=3, now=lambda: 2).sent == 0  # backoff: not due
    fail["on"] = False
    again = box.drain_batches(send, batch_size=3, now=lambda: 100)
    assert again.sent == 4 and batches[1:] == [["k3", "k4", "k5"], ["k6"]]
    assert box.status().pending == 0 and box.status().sent == 7


def test_drain_batches_holds_the_named_item_and_sends_those_before_it(box: Outbox) -> None:
    box.put_many([(f"k{n}", b"p") for n in range(5)], now=0)
    delivered: list[str] = []

    def send(items: list[OutboxItem]) -> None:
        if any(i.key == "k2" for i in items):
            raise PermanentSendError("k2 conflicts", key="k2")
        delivered.extend(i.key for i in items)

    result = box.drain_batches(send, batch_size=10, now=lambda: 1)
    assert (result.sent, result.held) == (2, 1) and delivered == ["k0", "k1"]
    assert box.state_of("k2") == "held" and box.state_of("k3") == "pending"
    assert box.status().last_error == "k2 conflicts"


def test_drain_batches_keeps_what_a_partly_sent_batch_confirmed(box: Outbox) -> None:
    """A sender that confirms part of a batch before the link breaks (a syslog repository takes
    a batch one TLS record at a time): the confirmed items are sent, never sent again, and the
    rest wait in order behind the first unconfirmed one."""
    box.put_many([(f"k{n}", b"p") for n in range(6)], now=0)
    seen: list[list[str]] = []
    fail = {"on": True}

    def send(items: list[OutboxItem]) -> None:
        seen.append([i.key for i in items])
        if fail["on"]:
            raise PartlySentError("cut after two", delivered=2)

    first = box.drain_batches(send, batch_size=4, now=lambda: 1)
    assert (first.sent, first.failed, first.error) == (2, 1, "cut after two")
    assert [box.state_of(f"k{n}") for n in range(6)] == ["sent"] * 2 + ["pending"] * 4
    fail["on"] = False
    again = box.drain_batches(send, batch_size=4, now=lambda: 100)
    assert again.sent == 4 and seen[1:] == [["k2", "k3", "k4", "k5"]]


def test_a_partly_sent_claim_never_marks_the_whole_batch_sent(box: Outbox) -> None:
    """A sender claiming as many (or more) than it was given still failed: the batch's last item
    stays queued, so a failure can never lose anything."""
    box.put_many([(f"k{n}", b"p") for n in range(3)], now=0)

    def send(items: list[OutboxItem]) -> None:
        raise PartlySentError("confused", delivered=len(items) + 5)

    result = box.drain_batches(send, batch_size=3, now=lambda: 1)
    assert (result.sent, result.failed) == (2, 1)
    assert box.state_of("k2") == "pending"


def test_status_of_one_kind(box: Outbox) -> None:
    """One reading's objects (a kind) have their own counts and times, apart from the rest."""
    box.put("a", b"1", kind="reading-1", now=10)
    box.put("b", b"2", kind="reading-1", now=10)
    box.put("c", b"3", kind="reading-2", now=10)

    def send(item: OutboxItem) -> None:
        if item.key == "b":
            raise PermanentSendError("refused")
        if item.key == "c":
            raise OSError("down")

    box.drain(send, ordered=False, now=lambda: 20)
    one = box.status("reading-1")
    assert (one.sent, one.held, one.pending, one.last_sent) == (1, 1, 0, 20)
    assert one.last_error == "refused"
    two = box.status("reading-2")
    assert (two.sent, two.pending, two.failing_since, two.last_sent) == (0, 1, 20, None)
    assert two.last_error == "down"
    nothing = box.status("nothing")
    assert (nothing.pending, nothing.sent, nothing.last_error, nothing.last_sent) == (
        0,
        0,
        None,
        None,
    )
    assert (box.status().sent, box.status().held, box.status().pending) == (1, 1, 1)


@pytest.mark.skipif(os.name != "posix", reason="kill -9 needs POSIX signals")
def test_the_lease_of_a_killed_drainer_is_taken_over_at_once(tmp_path: Path) -> None:
    """A drainer killed mid-send (kill -9) does not block the next one for LEASE_S; a living
    drainer still does."""
    path = tmp_path / "out.sqlite"
    with Outbox(path) as box:
        box.put("a", b"1")
    code = textwrap.dedent(
        f"""
        import signal
        from pathlib import Path
        from viewer.outbox import Outbox
        box = Outbox(Path({str(path)!r}))
        def send(item):
            print("sending", flush=True)
            signal.pause()  # holds the lease until the parent kills it
        box.drain(send, ordered=False)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "sending"
        with Outbox(path) as box:
            assert box.drain(lambda _i: None, ordered=False).busy is True  # alive: its lease
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        child.stdout.close()
    with Outbox(path) as box:
        result = box.drain(lambda _i: None, ordered=False)
        assert (result.busy, result.sent) == (False, 1)


def test_an_unordered_drain_ends_even_when_retries_come_due_during_it(tmp_path: Path) -> None:
    """A failing item whose backoff is shorter than the drain is not retried in a loop: each
    item is tried once per drain."""
    with Outbox(tmp_path / "out.sqlite", backoff=Backoff(first_s=0.0, cap_s=0.0)) as box:
        for key in ("a", "b", "c"):
            box.put(key, b"", now=0)
        tried: list[str] = []

        def send(item: OutboxItem) -> None:
            tried.append(item.key)
            if item.key != "b":
                raise OSError("down")

        result = box.drain(send, ordered=False, now=lambda: 1)
        assert (result.sent, result.failed) == (1, 2)
        assert sorted(tried) == ["a", "b", "c"]
        assert box.drain(send, ordered=False, now=lambda: 2).failed == 2  # due again next drain
