"""Verification: is the log exactly what was written, and does it still hold what was certified?

This module only checks and reports (:func:`verify_log` reads an open :class:`AuditLog` and
writes nothing). :mod:`viewer.audit.verification` is the action the CLI and the audit window
run: it opens the installation's log, calls :func:`verify_log`, and records a ``verification``
row with the outcome.

Checks, cheapest first: SQLite's own ``quick_check``; the protective triggers are all present
(dropped triggers mean someone could edit rows); the whole schema (``sqlite_master``: tables,
indexes, triggers, views, names and SQL text) is exactly what Bedside creates (a planted
trigger can drop or rewrite rows as they are written); the rows are numbered exactly 1..N
(nothing below 1 or twice); every row's sequence number follows the
previous one (a gap is a deleted row); every row names the previous row's hash (insertions and
reorders break this); every row's hash matches its content (a changed field); corrections point
at earlier rows; and every checkpoint (given as files from earlier exports, stored in the log,
or recorded in ``report_exported`` rows) has a valid signature and matches the row it certifies
(a truncated tail or an older copy of the file has fewer rows than an earlier checkpoint).

Limits, stated so nobody over-reads a green result: the chain is unkeyed, so someone with write
access to the file who rewrites every hash after an edit (or appends well-formed rows at the
tail) is caught only by a checkpoint that covers those rows — which is why every export signs
one and prints it on paper. The installation key lives beside the log (mode 0600): it proves
which installation signed, not that its owner is honest; the checkpoints kept outside the
machine (printed reports, checkpoint files) are the independent anchor.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from viewer.audit.chain import ALL_COLUMNS, GENESIS_HASH, HASHED_COLUMNS, make_hasher
from viewer.audit.checkpoints import Checkpoint, InstallationKey
from viewer.audit.schema import TRIGGERS, expected_objects, stored_objects
from viewer.audit.state import LogState, read_state, state_path
from viewer.audit.store import cannot_read
from viewer.errors import AuditError
from viewer.keyprint import format_fingerprint

if TYPE_CHECKING:
    from viewer.audit.store import AuditLog

MAX_PROBLEMS = 50
NO_CHECKPOINT_NOTE = (
    "No checkpoint file was given: a truncated tail or an older copy of the log can only be "
    "detected against a checkpoint from an earlier report."
)
LIMITS_NOTE = (
    "What this check cannot prove on its own: a chain checked on this machine cannot show that "
    "rows were cut off its end (a truncated tail), that someone holding this installation's "
    "key rewrote the log and signed new checkpoints, or that the log file was rolled back "
    "together with its state file. Only a checkpoint kept elsewhere can: verify against the "
    "checkpoint file of an earlier report, kept away from this machine "
    "(bedside audit verify --checkpoint FILE)."
)
_PREV = HASHED_COLUMNS.index("prev_hash")
_CORRECTS = HASHED_COLUMNS.index("corrects")
_TYPE = HASHED_COLUMNS.index("type")
_DETAIL = HASHED_COLUMNS.index("detail_json")
_PKEY = HASHED_COLUMNS.index("pseudonym_key")


@dataclass(frozen=True)
class CheckpointCheck:
    """One checkpoint and whether the log still matches it."""

    source: str
    checkpoint: Checkpoint
    ok: bool
    message: str


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify_log`. ``first_bad_seq`` is the earliest row known to be wrong."""

    ok: bool
    db_path: str
    log_id: str
    rows: int
    head_hash: str
    first_bad_seq: int | None
    problems: tuple[str, ...]
    checkpoints: tuple[CheckpointCheck, ...] = ()
    triggers_ok: bool = True
    installation_key_fingerprint: str | None = None
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)
    limits: str = LIMITS_NOTE  # what no local check proves, and which check does

    def summary(self) -> str:
        """One or two sentences a person can act on."""
        cps = len(self.checkpoints)
        if self.ok:
            return (
                f"The audit log is intact: {self.rows} rows, chain verified, head hash "
                f"{self.head_hash[:16]}…, {cps} checkpoint(s) matched."
            )
        where = f" First bad row: #{self.first_bad_seq}." if self.first_bad_seq else ""
        return (
            f"THE AUDIT LOG FAILED VERIFICATION: {self.problems[0]}.{where} "
            f"({len(self.problems)} problem(s) in {self.rows} rows.)"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "db_path": self.db_path,
            "log_id": self.log_id,
            "rows": self.rows,
            "head_hash": self.head_hash,
            "first_bad_seq": self.first_bad_seq,
            "problems": list(self.problems),
            "triggers_ok": self.triggers_ok,
            "installation_key_fingerprint": self.installation_key_fingerprint,
            "checkpoints": [
                {
                    "source": c.source,
                    "ok": c.ok,
                    "message": c.message,
                    "count": c.checkpoint.count,
                    "head_hash": c.checkpoint.head_hash,
                    "time": c.checkpoint.time,
                    "key_fingerprint": c.checkpoint.key_fingerprint,
                }
                for c in self.checkpoints
            ],
            "notes": list(self.notes),
            "limits": self.limits,
            "seconds": round(self.seconds, 3),
            "summary": self.summary(),
        }


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.first_bad: int | None = None

    def add(self, message: str, seq: int | None = None) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(message)
        elif len(self.items) == MAX_PROBLEMS:
            self.items.append("(further problems not listed)")
        if seq is not None and (self.first_bad is None or seq < self.first_bad):
            self.first_bad = seq


def _embedded_checkpoints(conn: sqlite3.Connection) -> list[tuple[str, Checkpoint]]:
    out: list[tuple[str, Checkpoint]] = []
    try:
        rows = conn.execute(
            "SELECT id, log_id, count, head_hash, time, key_fingerprint, public_key_pem, "
            "signature FROM checkpoints ORDER BY id"
        ).fetchall()
    except sqlite3.Error:
        return out
    for row in rows:
        out.append((f"stored checkpoint {row[0]}", Checkpoint(*row[1:])))
    return out


def verify_log(
    log: AuditLog,
    checkpoints: Sequence[Checkpoint | tuple[str, Checkpoint]] = (),
    *,
    installation_key: InstallationKey | None = None,
    workers: int | None = None,
) -> VerifyResult:
    """Verify ``log`` against itself and the given checkpoints; never raises for tampering.

    ``workers`` > 1 scans row ranges in forked processes (see :func:`_scan_parts`); None picks
    automatically.
    """
    started = time.perf_counter()
    problems = _Problems()
    notes: list[str] = []
    state = _own_state(log)  # read before the rows: another writer only adds rows after it
    with log.lock:
        conn = log.connection()
        try:
            quick = conn.execute("PRAGMA quick_check").fetchall()
        except sqlite3.Error as exc:
            raise AuditError(cannot_read(log.path, exc)) from exc
        if [r[0] for r in quick] != ["ok"]:
            problems.add(f"the database file is damaged (SQLite quick_check: {quick[0][0]})")
        objects = stored_objects(conn)
        missing = [t for t in TRIGGERS if ("trigger", t) not in objects]
        if missing:
            problems.add(
                "the triggers that make the log append-only were removed from its schema "
                f"({', '.join(missing)}): rows may have been edited or deleted"
            )
        try:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.Error as exc:
            if "no such table" not in str(exc):
                raise AuditError(cannot_read(log.path, exc)) from exc
            meta = {}
            problems.add("the log's identity table (meta) was removed")
        altered = _check_schema(objects, str(meta.get("schema_version", "1")), problems)
        _check_sequence(conn, problems)
        log_id = str(meta.get("log_id", ""))
        if not log_id:
            problems.add("the log has no identity (meta.log_id is missing)")
        given = [c if isinstance(c, tuple) else ("checkpoint", c) for c in checkpoints]
        stored = _embedded_checkpoints(conn)

        max_seq = conn.execute("SELECT max(seq) FROM audit_log").fetchone()[0] or 0
        parts = _scan_parts(log, conn, max_seq, workers)
        stitched = _stitch(parts)
        for seq, message in stitched:
            problems.add(message, seq)
        recorded = [
            (f"checkpoint recorded in row #{seq}", _from_detail(detail))
            for part in parts
            for seq, detail in part.recorded
        ]
        rows = max_seq
        head = parts[-1].last[1] if parts and parts[-1].last else GENESIS_HASH
        first_use: dict[str, int] = {}
        for part in parts:
            for k, first in part.keys.items():
                first_use.setdefault(k, first)
        key_ids = sorted(first_use.items(), key=lambda item: item[1])
        current = log.pseudonym_key_id
        if current is not None and any(k != current for k, _ in key_ids):
            others = ", ".join(f"{k} (from row #{first})" for k, first in key_ids if k != current)
            notes.append(
                f"Some rows use another pseudonym secret ({others}) than this installation's "
                f"({current}): searches by patient ID cannot find them. If the site secret was "
                "lost or replaced, restore it from backup."
            )
        needed = {c.count for _, c in given + stored + recorded if 0 < c.count <= rows}
        if state is not None and 0 < state.rows <= rows:
            needed.add(state.rows)
        hash_at = {
            seq: h
            for seq, h in (
                conn.execute("SELECT seq, hash FROM audit_log WHERE seq = ?", (n,)).fetchone()
                or (n, "")
                for n in sorted(needed)
            )
        }

    if state is not None:
        _check_state(state, log, log_id, rows, hash_at, problems)

    key = installation_key
    if key is None and log.settings is not None and log.is_own:
        try:
            key = InstallationKey.load_public(log.settings.installation_key_path)
        except AuditError as exc:
            notes.append(str(exc))
    fp = key.fingerprint if key else None

    results: list[CheckpointCheck] = []
    good_counts: list[int] = []
    untrusted: set[int] = set()  # checks that say nothing about which row is bad
    checks: list[tuple[str, Checkpoint, bool]] = [(s, c, True) for s, c in given]
    checks += [(s, c, True) for s, c in stored]
    checks += [(s, c, False) for s, c in recorded if c.count >= 0]
    for source, cp, signed in checks:
        ok = True
        message = "matches the log"
        if signed and not cp.signature_valid():
            ok, message = False, "its signature is not valid (the checkpoint was altered or forged)"
            untrusted.add(len(results))
        elif signed and fp and cp.key_fingerprint != fp:
            ok = False
            message = (
                "it is signed by a key that is not this installation's "
                f"({format_fingerprint(cp.key_fingerprint)[:19]}…)"
            )
            untrusted.add(len(results))
        elif log_id and cp.log_id != log_id:
            ok, message = False, f"it belongs to another audit log ({cp.log_id})"
            untrusted.add(len(results))
        elif cp.count > rows:
            ok = False
            message = (
                f"it certifies {cp.count} rows but the log has only {rows}: rows "
                f"#{rows + 1}–#{cp.count} are missing (tail truncated, or an older copy of the log)"
            )
        elif cp.count > 0 and hash_at.get(cp.count) != cp.head_hash:
            ok = False
            message = (
                f"row #{cp.count} no longer has the hash it had at {cp.time}: rows up to "
                f"#{cp.count} were rewritten"
            )
        elif cp.count == 0 and cp.head_hash != GENESIS_HASH:
            ok, message = False, "it certifies an empty log with a non-empty head"
        results.append(CheckpointCheck(source, cp, ok, message))
        if ok:
            good_counts.append(cp.count)
    for index, check in enumerate(results):
        if check.ok:
            continue
        cp = check.checkpoint
        bad: int | None
        if index in untrusted:
            bad = None
        elif cp.count > rows:
            bad = rows + 1
        else:
            bad = max((c for c in good_counts if c < cp.count), default=0) + 1
        problems.add(f"{check.source} ({cp.time}, {cp.count} rows): {check.message}", bad)
    if fp is None and results:
        fps = sorted(
            {c.checkpoint.key_fingerprint for c in results if c.checkpoint.key_fingerprint}
        )
        notes.append(
            "Checkpoint signatures were checked with the public key embedded in each checkpoint "
            f"(fingerprint {', '.join(format_fingerprint(f) for f in fps)}); compare it with the "
            "fingerprint printed in the site's reports."
        )
    if not given:
        notes.append(NO_CHECKPOINT_NOTE)
    return VerifyResult(
        ok=not problems.items,
        db_path=str(log.path),
        log_id=log_id,
        rows=rows,
        head_hash=head,
        first_bad_seq=problems.first_bad,
        problems=tuple(problems.items),
        checkpoints=tuple(results),
        triggers_ok=not missing and not any(kind == "trigger" for kind, _ in altered),
        installation_key_fingerprint=fp,
        seconds=time.perf_counter() - started,
        notes=tuple(notes),
    )


_WHAT_IT_CAN_DO = {
    "trigger": "it runs on every write and can drop or change rows as they are written",
    "view": "it can stand in for a table",
    "table": "it is not part of an audit log",
    "index": "it is not part of an audit log",
}


def _shown(name: str) -> str:
    """A name from the file, printable (control characters escaped)."""
    return name if name.isprintable() else ascii(name)


def _check_schema(
    objects: dict[tuple[str, str], str | None], version: str, problems: _Problems
) -> list[tuple[str, str]]:
    """Compare the whole schema (tables, indexes, triggers, views: names and SQL text) with the
    one Bedside creates for ``version``; returns the (type, name) of everything not as created.

    Protective triggers that are simply missing are reported by the caller (``triggers_ok``).
    """
    try:
        expected = expected_objects(version)
    except KeyError:
        problems.add(
            f"the log says it has schema version {_shown(version)}, which this version of "
            "Bedside does not know, so its schema cannot be checked (use the Bedside version "
            "that wrote it, or a newer one)"
        )
        return []
    changed: list[tuple[str, str]] = []
    for (kind, name), sql in sorted(objects.items()):
        if (kind, name) not in expected:
            extra = f"an extra {kind} {_shown(name)}"
            problems.add(
                f"the log's database schema was changed: {extra} that Bedside did not create "
                f"({_WHAT_IT_CAN_DO.get(kind, 'it is not part of an audit log')})"
            )
            changed.append((kind, name))
        elif expected[(kind, name)] != sql:
            problems.add(
                f"the log's database schema was changed: {kind} {_shown(name)} is not as Bedside "
                "created it (its definition was altered)"
            )
            changed.append((kind, name))
    for kind, name in sorted(set(expected) - set(objects)):
        if kind == "trigger" and name in TRIGGERS:
            continue  # reported as removed protective triggers
        problems.add(f"the log's database schema was changed: {kind} {_shown(name)} is missing")
        changed.append((kind, name))
    return changed


def _check_sequence(conn: sqlite3.Connection, problems: _Problems) -> None:
    """Rows are numbered exactly 1..N: nothing below 1, nothing twice, nothing but integers.

    Gaps are found by the chain scan (which reads rows 1..max); a row numbered 0 or below
    (which a log without the ``seq >= 1`` CHECK accepts) or twice (a table rebuilt without its
    primary key) would otherwise be outside the chain and invisible to it.
    """
    try:
        below = conn.execute(
            "SELECT seq FROM audit_log WHERE seq < 1 ORDER BY seq LIMIT 6"
        ).fetchall()
        (n_below,) = conn.execute("SELECT count(*) FROM audit_log WHERE seq < 1").fetchone()
        twice = conn.execute(
            "SELECT seq, count(*) FROM audit_log GROUP BY seq HAVING count(*) > 1 "
            "ORDER BY seq LIMIT 6"
        ).fetchall()
        (not_int,) = conn.execute(
            "SELECT count(*) FROM audit_log WHERE typeof(seq) <> 'integer'"
        ).fetchone()
    except sqlite3.Error as exc:
        problems.add(f"the rows' sequence numbers cannot be read ({exc})")
        return
    if n_below:
        listed = ", ".join(f"#{r[0]}" for r in below[:5]) + (", …" if n_below > 5 else "")
        problems.add(
            f"{n_below} row(s) carry a sequence number below 1 ({listed}): rows are numbered "
            "from #1, so these were put into the file by hand, outside the chain"
        )
    for seq, count in twice[:5]:
        problems.add(
            f"sequence number #{seq} is used more than once ({count} rows): rows were "
            "inserted by hand",
            seq if isinstance(seq, int) and seq >= 1 else None,
        )
    if not_int:
        problems.add(
            f"{not_int} row(s) have a sequence number that is not a whole number: rows were "
            "put into the file by hand"
        )


def _own_state(log: AuditLog) -> LogState | None:
    """This installation's record of its log (only when ``log`` is that log)."""
    if log.settings is None or not log.is_own:
        return None
    state = read_state(state_path(log.settings))
    return None if state is None or state.damaged else state


def _same_file(recorded: str, log: AuditLog) -> bool:
    from pathlib import Path

    try:
        return Path(recorded).resolve() == log.path.resolve()
    except (OSError, RuntimeError):
        return False


def _check_state(
    state: LogState,
    log: AuditLog,
    log_id: str,
    rows: int,
    hash_at: dict[int, str],
    problems: _Problems,
) -> None:
    """A replaced or truncated log, caught against ``audit-state.json`` even without checkpoints.

    Unsigned evidence (see :mod:`viewer.audit.state`): it finds accidents and careless edits,
    the signed checkpoints find the rest.
    """
    seen = f"{state.time[:19].replace('T', ' ')} UTC"
    if state.db_path and not _same_file(state.db_path, log):
        return  # the site moved its log (audit.db_path): the record is of another file
    if state.log_id and log_id and state.log_id != log_id:
        problems.add(
            f"this installation's audit log is log {state.log_id} ({state.rows} rows at {seen}), "
            f"but this file is log {log_id}: the log file was replaced"
        )
    elif state.rows > rows:
        problems.add(
            f"this installation recorded {state.rows} rows at {seen} but the log has only "
            f"{rows}: rows #{rows + 1}–#{state.rows} are missing (tail truncated, or an older "
            "copy of the log was put back)",
            rows + 1,
        )
    elif state.rows > 0 and hash_at.get(state.rows) != state.head_hash:
        problems.add(
            f"row #{state.rows} no longer has the hash this installation recorded at {seen}: "
            f"rows up to #{state.rows} were rewritten"
        )


def _from_detail(detail_json: str) -> Checkpoint:
    """The (count, head) a report_exported row says it certified; signature checked elsewhere."""
    try:
        raw = json.loads(detail_json).get("checkpoint", {})
        return Checkpoint(
            log_id=str(raw.get("log_id", "")),
            count=int(raw.get("count", -1)),
            head_hash=str(raw.get("head_hash", "")),
            time=str(raw.get("time", "")),
            key_fingerprint=str(raw.get("key_fingerprint", "")),
            public_key_pem="",
            signature="",
        )
    except (ValueError, TypeError, AttributeError):
        return Checkpoint("", -1, "", "", "", "", "")


# ------------------------------------------------------------------------ scanning the chain

PARALLEL_MIN_ROWS = 20_000
_SCAN_SQL = (
    f"SELECT {', '.join(ALL_COLUMNS)} FROM audit_log "  # noqa: S608 - our own column names
    "WHERE seq BETWEEN ? AND ? ORDER BY seq"
)


@dataclass
class _Part:
    """What one scan of the row range [lo, hi] found."""

    count: int = 0
    first: tuple[int, str] | None = None  # (seq, prev_hash) of its first row
    last: tuple[int, str] | None = None  # (seq, hash) of its last row
    problems: list[tuple[int, str]] = field(default_factory=list)
    recorded: list[tuple[int, str]] = field(default_factory=list)  # report_exported details
    keys: dict[str, int] = field(default_factory=dict)  # pseudonym key id -> first row using it


def _scan(conn: sqlite3.Connection, lo: int, hi: int) -> _Part:
    """Check every row in [lo, hi]: its hash, its link to the row before it, its corrects."""
    hasher = make_hasher()
    part = _Part()
    problems = part.problems
    keys = part.keys
    expected = None
    prev = None
    cursor = conn.execute(_SCAN_SQL, (lo, hi))
    while True:
        batch = cursor.fetchmany(5000)
        if not batch:
            break
        for row in batch:
            seq = row[0]
            stored_hash = row[-1]
            if expected is None:
                part.first = (seq, row[_PREV])
            else:
                if seq != expected:
                    gap = f"#{expected}" if seq == expected + 1 else f"#{expected}–#{seq - 1}"
                    problems.append((expected, f"row {gap} is missing (deleted)"))
                if row[_PREV] != prev:
                    problems.append((seq, _NOT_FOLLOWING.format(seq=seq, before=seq - 1)))
            try:
                same = hasher(row[:-1]) == stored_hash
            except (TypeError, ValueError):  # a planted BLOB or infinity: not what was written
                same = False
            if not same:
                problems.append((seq, _CHANGED.format(seq=seq)))
            corrects = row[_CORRECTS]
            if corrects is not None and not (isinstance(corrects, int) and 1 <= corrects < seq):
                problems.append((seq, f"row #{seq} corrects row #{corrects}, which is not earlier"))
            if row[_TYPE] == "report_exported" and '"checkpoint"' in (row[_DETAIL] or ""):
                part.recorded.append((seq, row[_DETAIL]))
            if row[_PKEY] not in keys:
                keys[row[_PKEY]] = seq
            prev = stored_hash
            expected = seq + 1
            part.count += 1
            part.last = (seq, stored_hash)
    return part


_NOT_FOLLOWING = (
    "row #{seq} does not follow row #{before} (its previous-row hash does not match): a row "
    "was inserted, deleted or moved here"
)
_CHANGED = "row #{seq} was changed after it was written (its content no longer matches its hash)"


def _stitch(parts: Sequence[_Part]) -> list[tuple[int, str]]:
    """Problems inside each part plus those at the joins (and at the start of the chain)."""
    out: list[tuple[int, str]] = []
    last_seq, last_hash = 0, GENESIS_HASH
    for part in parts:
        if part.first is None or part.last is None:
            continue
        seq, prev = part.first
        if seq != last_seq + 1:
            gap = f"#{last_seq + 1}" if seq == last_seq + 2 else f"#{last_seq + 1}–#{seq - 1}"
            out.append((last_seq + 1, f"row {gap} is missing (deleted)"))
        if prev != last_hash:
            out.append((seq, _NOT_FOLLOWING.format(seq=seq, before=seq - 1)))
        out.extend(part.problems)
        last_seq, last_hash = part.last
    out.sort(key=lambda item: item[0])
    return out


def _scan_in_child(uri: str, lo: int, hi: int) -> _Part:
    conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    try:
        return _scan(conn, lo, hi)
    finally:
        conn.close()


def _scan_parts(
    log: AuditLog, conn: sqlite3.Connection, max_seq: int, workers: int | None
) -> list[_Part]:
    """Scan the whole chain, in parallel when that is safe and worth it.

    Verifying is CPU-bound (JSON encoding + SHA-256 per row, about 14 us). On Linux, from a
    process with a single thread (the CLI, not the GUI), large logs are split into row ranges
    scanned by forked worker processes, each with its own read-only connection; the joins
    between ranges are checked here. Elsewhere it runs in this thread.
    """
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if max_seq >= PARALLEL_MIN_ROWS else 1
    can_fork = sys.platform == "linux" and threading.active_count() == 1
    if workers <= 1 or max_seq < 2 or not can_fork:
        return [_scan(conn, 1, max_seq)] if max_seq else []
    uri = log.read_uri
    step = -(-max_seq // workers)
    ranges = [(lo, min(lo + step - 1, max_seq)) for lo in range(1, max_seq + 1, step)]
    ctx = multiprocessing.get_context("fork")
    try:
        with ctx.Pool(len(ranges)) as pool:
            return pool.starmap(_scan_in_child, [(uri, lo, hi) for lo, hi in ranges])
    except (OSError, sqlite3.Error):  # no processes left, or the copy cannot be opened twice
        return [_scan(conn, 1, max_seq)]
