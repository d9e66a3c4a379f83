"""A damaged outbox under the forwarding status: a link loop was 'up to date' (the file seemed
absent), a time that is not a number a TypeError out of poll(); each is now 'not forwarding'
with the outbox's sentence (a FIFO: tests/test_outbox_hostile.py, in a child with a timeout)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.servers import free_port
from tests.test_outbox_hostile import damage_time
from viewer.config import Settings, load_settings
from viewer.session.forwarding_status import ForwardingStatus, state_text


@pytest.fixture
def central(site_file: Path) -> Settings:
    site_file.write_text(
        '[audit_central]\nenabled = true\nhost = "127.0.0.1"\n'
        f'port = {free_port()}\nsslmode = "disable"\nconnect_timeout_s = 2\n',
        encoding="utf-8",
    )
    return load_settings()


def _loop(path: Path) -> None:
    path.symlink_to(path)


def _bad_time(path: Path) -> None:
    damage_time(path, "central", "yesterday")


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (_loop, "Too many levels of symbolic links"),
        (_bad_time, "a time in it is not a number ('yesterday')"),
    ],
    ids=["link-loop", "time-not-a-number"],
)
def test_a_damaged_outbox_is_not_forwarding_with_its_sentence(
    central: Settings, make: Callable[[Path], None], words: str
) -> None:
    outbox = central.central_outbox_path
    outbox.parent.mkdir(parents=True, exist_ok=True)
    make(outbox)
    (state,) = ForwardingStatus(central).poll()
    assert state.kind == "stopped" and state.warning
    assert state.error == f"The outbox {outbox} cannot be read: {words}."
    assert state_text(state).startswith("Department audit store: not forwarding — The outbox ")
