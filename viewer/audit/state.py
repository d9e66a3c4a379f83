"""A small record, kept outside the log, that this installation's audit log exists.

A deleted or emptied ``audit.sqlite`` looks exactly like a first start, so without outside
evidence a fresh chain would begin at #1 and ``verify`` would call it intact. ``audit-state.json``
(beside the installation key, in the data folder) names the log (``meta.log_id``) and the highest
row count and head hash seen; it is rewritten atomically when the log is opened, checkpointed and
closed. It is evidence, not a security boundary: whoever deletes the log can delete this file
too, which is why signed checkpoints in printed reports remain the independent anchor. It only
stops the silent, accidental restart (a restore gone wrong, a sync tool, a full disk cleanup).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from viewer.config import Settings

STATE_FORMAT = "bedside-audit-state-v1"
STATE_NAME = "audit-state.json"


@dataclass(frozen=True)
class LogState:
    """What this installation last knew of its log (``damaged``: the file is unreadable)."""

    log_id: str
    rows: int
    head_hash: str
    time: str
    db_path: str
    damaged: bool = False


def state_path(settings: Settings) -> Path:
    """``<data dir>/audit-state.json`` (beside the installation key, not beside the log)."""
    return settings.installation_key_path.with_name(STATE_NAME)


def read_state(path: Path) -> LogState | None:
    """The recorded state; None when there is none. Never raises (a damaged file is evidence)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return LogState("", 0, "", "", "", damaged=True)
    try:
        raw = json.loads(text)
        if raw.get("format") != STATE_FORMAT:
            raise ValueError("format")
        return LogState(
            log_id=str(raw["log_id"]),
            rows=int(raw["rows"]),
            head_hash=str(raw["head_hash"]),
            time=str(raw["time"]),
            db_path=str(raw["db_path"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return LogState("", 0, "", "", "", damaged=True)


def write_state(path: Path, state: LogState) -> bool:
    """Replace the state file atomically (temporary file in the same folder, fsync, rename).

    Best effort: False when the folder is read-only or full (the log itself reports those).
    """
    data = {"format": STATE_FORMAT, **asdict(state)}
    data.pop("damaged", None)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data, indent=2) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        return False
    return True


def record_state(
    settings: Settings,
    log_id: str,
    rows: int,
    head_hash: str,
    time: str,
    *,
    new_log: bool = False,
) -> bool:
    """Record that log ``log_id`` has ``rows`` rows; never lowers the count for the same log.

    The record of *another* log at the same path is kept (verify reports the replacement) unless
    ``new_log`` (IT started a new log) or the site moved the log (``audit.db_path`` changed).
    """
    path = state_path(settings)
    old = read_state(path)
    db = str(settings.audit_db_path)
    if old is not None and not old.damaged and not new_log:
        if old.log_id != log_id and old.db_path == db:
            return False  # evidence of the replaced log stays until IT starts a new one
        if old.log_id == log_id and (
            old.rows > rows or (old.rows == rows and old.head_hash == head_hash)
        ):
            return True  # nothing new (or another process already saw more rows)
    return write_state(path, LogState(log_id, rows, head_hash, time, db))


def history_evidence(settings: Settings) -> tuple[str, LogState | None] | None:
    """Why we know this installation had an audit log before; None for a genuinely new one.

    Evidence: the state file, or (installations from before the state file existed) the
    installation key, which is created only when a checkpoint is signed into a log.
    """
    state = read_state(state_path(settings))
    if state is not None and state.damaged:
        return (f"its record of the log ({state_path(settings)}) exists but is damaged", state)
    if state is not None:
        return (
            f"this installation recorded {state.rows} row(s) in log {state.log_id} "
            f"(last seen {state.time[:19].replace('T', ' ')} UTC)",
            state,
        )
    if settings.installation_key_path.exists():
        return (
            "this installation has signed audit checkpoints before (its installation key "
            f"{settings.installation_key_path} exists)",
            None,
        )
    return None
