"""Crash suite: a writer killed with SIGKILL at random moments loses no committed decision."""

from __future__ import annotations

import random
import signal

import pytest

from tests.audit.helpers import child
from viewer.audit import AuditLog, verify_log
from viewer.config import Settings


def run_kills(settings: Settings, kills: int, seed: int) -> int:
    """Kill a writer ``kills`` times; after each, every reported commit is present and the chain
    verifies. Returns the number of committed rows."""
    rng = random.Random(seed)
    reported: dict[int, str] = {}
    for n in range(kills):
        proc = child("crash")
        assert proc.stdout is not None
        wanted = rng.randint(0, 12)  # 0: killed while opening the log
        for _ in range(wanted):
            line = proc.stdout.readline()
            if not line:
                break
            seq, digest = line.split()
            reported[int(seq)] = digest
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate(timeout=60)
        for line in rest.splitlines():  # committed and printed just before the kill
            seq, digest = line.split()
            reported[int(seq)] = digest
        assert proc.returncode == -signal.SIGKILL
        with AuditLog.open(settings) as log:
            result = verify_log(log)
            assert result.ok, f"seed {seed}, kill {n}: {result.problems}"
            missing = [s for s, h in reported.items() if (r := log.get(s)) is None or r.hash != h]
            assert not missing, f"seed {seed}, kill {n}: committed rows lost: {missing}"
    return len(reported)


def test_thirty_kills_lose_nothing(settings: Settings) -> None:
    assert run_kills(settings, 30, seed=6) > 30


@pytest.mark.slow
def test_two_hundred_kills_lose_nothing(settings: Settings) -> None:
    assert run_kills(settings, 200, seed=2026) > 200


def test_two_processes_thousand_each(settings: Settings) -> None:
    procs = [child("bulk", "1000", tag) for tag in ("A", "B")]
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert out.strip() == "done 1000", err
    with AuditLog.open(settings) as log:
        result = verify_log(log)
        assert result.ok, result.problems
        assert result.rows == 2000
        records = log.records()
        seen = sorted((r.detail["tag"], r.detail["i"]) for r in records)
        # Both started on an empty data dir: they must have agreed on one site secret.
        assert {r.pseudonym_key for r in records} == {log.records()[0].pseudonym_key}
        assert records[0].patient_pseudonym == log.pseudonym(
            "patient", records[0].detail["tag"] + "-" + str(records[0].detail["i"])
        )
        assert seen == sorted((t, i) for t in ("A", "B") for i in range(1000))
