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
    ("make", "sentence"),
    [
        # looked up before it is opened (viewer.paths.stat_setting, as the settings' paths)
        (_loop, "The outbox ({}) is a symbolic link loop."),
        (_bad_time, "The outbox {} cannot be read: a time in it is not a number ('yesterday')."),
    ],
    ids=["link-loop", "time-not-a-number"],
)
def test_a_damaged_outbox_is_not_forwarding_with_its_sentence(
    central: Settings, make: Callable[[Path], None], sentence: str
) -> None:
    outbox = central.central_outbox_path
    outbox.parent.mkdir(parents=True, exist_ok=True)
    make(outbox)
    (state,) = ForwardingStatus(central).poll()
    assert state.kind == "stopped" and state.warning
    assert state.error == sentence.format(outbox)
    assert state_text(state).startswith("Department audit store: not forwarding — The outbox ")


def test_an_audit_log_that_is_a_link_loop_is_not_up_to_date(central: Settings) -> None:
    """Path.exists answered False for a loop: no log, nothing queued, 'up to date'."""
    log = central.audit_db_path
    log.parent.mkdir(parents=True, exist_ok=True)
    _loop(log)
    (state,) = ForwardingStatus(central).poll()
    assert state.kind == "stopped" and state.warning
    assert state.error == f"The audit log ({log}) is a symbolic link loop."
