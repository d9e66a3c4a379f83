"""The one ceiling every test waits under for a real condition (a worker's result, a server's
answer, a layout pass).

A wait returns as soon as its condition holds, so a generous ceiling costs nothing on a fast
machine; a short one fails on a loaded CI machine (2 cores shared by several jobs): pytest-qt's
default is 5 s, and several waits of 2 to 60 s timed out there. Never a fixed sleep instead.
"""

from __future__ import annotations

__all__ = ["WAIT_MS", "WAIT_S"]

WAIT_MS = 120_000  # the torch import plus a bundle load under CI load fit well inside it
WAIT_S = WAIT_MS / 1000
