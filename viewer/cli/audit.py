"""``bedside audit verify|show|export|init``: the same core functions the audit window uses (the
department audit store's commands are in :mod:`viewer.cli.audit_central`).

Read-only logs (a read-only data folder, a copy on a CD or a write-protected USB stick):
- ``verify`` and ``show`` open the log read-only (SQLite ``mode=ro``; when the folder is
  read-only and no ``-wal`` file holds unmerged rows, ``immutable=1``). ``verify`` of this
  installation's own log then says on stderr (and ``"recorded": false`` in --json) that the
  verification could not be recorded in the log.
- A log copied while a writer had it open has a non-empty ``-wal``; on read-only media that
  only works when its ``-shm`` file was copied too and is readable. Otherwise the command
  refuses with a message: copy the log with its ``-wal`` to a writable folder and use
  ``verify --db COPY``.
- ``export`` refuses (nothing is written): every report carries a checkpoint signed into the
  log and is itself recorded there, and a report whose checkpoint is in no log could not be
  checked later. Export from a writable copy of the data folder (BEDSIDE_DATA_DIR) instead.

``show`` verifies the chain first: rows from a log that fails verification are printed with a
warning (stderr, and ``"verified": false`` in --json) and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from viewer.audit.checkpoints import Checkpoint
from viewer.audit.events import AuditRecord, EventType
from viewer.audit.export import FORMATS, export_report
from viewer.audit.identity import current_user
from viewer.audit.query import Filters, to_time_text
from viewer.audit.state import history_evidence
from viewer.audit.store import AuditLog
from viewer.audit.verification import verify_and_record
from viewer.audit.verify import VerifyResult, verify_log
from viewer.cli import audit_atna, audit_central
from viewer.config import Settings
from viewer.errors import AuditError, printable, printable_json
from viewer.inference.postprocess import score_threshold_text
from viewer.keyprint import format_fingerprint


def _parse_date(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a date (use YYYY-MM-DD or YYYY-MM-DDTHH:MM, UTC)"
        ) from None
    try:
        to_time_text(value)  # a time zone can push it past year 1..9999
    except AuditError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _date_arg(text: str) -> datetime:
    """``--from``: a date (its first instant) or a date-time, UTC unless a zone is given."""
    return _parse_date(text)


def _end_arg(text: str) -> datetime | date | None:
    """``--to``: a date includes that whole day (the bound is the next midnight, exclusive);
    a date-time is an exclusive bound. ``9999-12-31`` means no upper bound (None)."""
    value = _parse_date(text)
    if len(text) == 10:
        try:
            return value.date() + timedelta(days=1)
        except OverflowError:
            return None
    return value


def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--from",
        dest="start",
        type=_date_arg,
        metavar="DATE",
        help="first day (UTC, YYYY-MM-DD or ISO date-time)",
    )
    p.add_argument(
        "--to",
        dest="end",
        type=_end_arg,
        metavar="DATE",
        help="last day, inclusive (UTC, YYYY-MM-DD), or an exclusive ISO date-time",
    )
    p.add_argument("--user", help="OS account, or part of the printed name")
    p.add_argument("--model", help="model id, or 'id version'")
    p.add_argument("--patient-id", help="a real Patient ID: matched by its pseudonym")
    p.add_argument(
        "--type",
        dest="types",
        action="append",
        choices=[e.value for e in EventType],
        help="only these event types (repeatable)",
    )


def filters_from_args(args: argparse.Namespace) -> Filters:
    """The parsed filters (dates were checked and converted by argparse)."""
    return Filters(
        start=args.start,
        end=args.end,
        user=args.user,
        model=args.model,
        patient_id=args.patient_id,
        types=tuple(args.types) if args.types else None,
    )


def _no_log(settings: Settings) -> AuditError:
    return AuditError(f"There is no audit log at {settings.audit_db_path} yet.")


def _open_for_reading(settings: Settings) -> AuditLog:
    """This installation's log, read-only (browsing needs no write access: read-only media)."""
    if not settings.audit_db_path.exists() and history_evidence(settings) is None:
        raise _no_log(settings)
    return AuditLog.open_readonly(settings.audit_db_path, settings=settings)


def _print_verify(result: VerifyResult) -> None:
    print(result.summary())
    if not result.ok:
        for problem in result.problems:
            print(f"  - {problem}")
    for check in result.checkpoints:
        cp = check.checkpoint
        mark = "ok " if check.ok else "BAD"
        print(f"  [{mark}] {check.source}: {cp.count} rows at {cp.time}: {check.message}")
    if result.installation_key_fingerprint:
        print(f"  installation key: {format_fingerprint(result.installation_key_fingerprint)}")
    for note in result.notes:
        print(f"  note: {note}")
    print(f"  limits: {result.limits}")


def cmd_verify(args: argparse.Namespace) -> int:
    """Verify and record the verification; a log that cannot be written (read-only media) is
    verified read-only and the result says it was not recorded."""
    settings: Settings = args.settings
    if args.central:
        return audit_central.cmd_verify_central(args)
    own = args.db is None or Path(args.db).resolve() == settings.audit_db_path.resolve()
    recorded: bool | None = None
    if own:
        outcome = verify_and_record(
            settings, [Path(p) for p in args.checkpoint or []], source="cli"
        )
        result, recorded = outcome.result, outcome.recorded
        if outcome.warning:
            print(f"bedside: warning: {outcome.warning}", file=sys.stderr)
    else:
        checkpoints = [
            (f"checkpoint file {p}", Checkpoint.read(Path(p))) for p in args.checkpoint or []
        ]
        with AuditLog.open_readonly(Path(args.db), settings=settings) as log:
            result = verify_log(log, checkpoints)
    if args.json:
        out = result.as_dict()
        out["recorded"] = recorded
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        _print_verify(result)
    return 0 if result.ok else 1


def _row_text(rec: AuditRecord) -> str:
    who = rec.user_name or rec.user_os
    parts = [f"#{rec.seq:<6}", rec.time[:19].replace("T", " "), f"{rec.type:<18}"]
    if rec.outcome != "success":
        parts.append("FAILURE")
    parts.append(who + (f" ({rec.user_role})" if rec.user_role else ""))
    if rec.meaning:
        parts.append(rec.meaning.upper() + (f" #{rec.corrects}" if rec.corrects else ""))
    if rec.model_id:
        parts.append(rec.model)
    if rec.score is not None:
        if rec.threshold is not None:
            parts.append("score {}/{}".format(*score_threshold_text(rec.score, rec.threshold)))
        else:
            parts.append(f"score {rec.score:.3f}")
    if rec.ai_finding or rec.clinician_finding:
        parts.append(f"AI: {rec.ai_finding or '-'} -> {rec.clinician_finding or '-'}")
    if rec.reason:
        parts.append(f'"{rec.reason}"')
    return printable("  ".join(parts))  # reasons, names and ids are file text


def cmd_show(args: argparse.Namespace) -> int:
    """List rows, read-only, after verifying the chain: rows from a log that fails verification
    come with a warning (stderr, and ``"verified": false`` in --json) and exit status 1."""
    if args.limit < 0:
        raise AuditError("--limit must be 0 (all) or a positive number of records.")
    with _open_for_reading(args.settings) as log:
        records = log.records(filters_from_args(args))
        result = verify_log(log)
    if args.limit:
        records = records[-args.limit :]
    warning = ""
    if not result.ok:
        where = f" (first bad row #{result.first_bad_seq})" if result.first_bad_seq else ""
        warning = (
            f"WARNING: THE AUDIT LOG FAILED VERIFICATION{where}: {result.problems[0]}. The rows "
            "below may have been altered; run `bedside audit verify` for details."
        )
        print(f"bedside: {warning}", file=sys.stderr)
    if args.json:
        out = {
            "verified": result.ok,
            "first_bad_seq": result.first_bad_seq,
            "problems": list(result.problems),
            "rows_in_log": result.rows,
            "records": [r.as_dict() for r in records],
        }
        print(printable_json(json.dumps(out, indent=2, ensure_ascii=False)))
    else:
        if warning:
            print(warning)
        for rec in records:
            print(_row_text(rec))
        state = "chain verified" if result.ok else "CHAIN NOT VERIFIED"
        print(f"({len(records)} records; times are UTC; {state})")
        if warning:
            print(warning)
    return 0 if result.ok else 1


def cmd_export(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    if not settings.audit_db_path.exists() and history_evidence(settings) is None:
        raise _no_log(settings)
    out = Path(args.out)
    gen = export_report(
        settings, args.format, out, filters_from_args(args), overwrite=bool(args.force)
    )
    show = sys.stderr.isatty()
    last = -1
    while True:
        try:
            done, total = next(gen)
        except StopIteration as stop:
            result: Any = stop.value
            break
        pct = 100 * done // max(total, 1)
        if show and pct != last:
            print(f"\rexporting… {pct:3d} %", end="", file=sys.stderr, flush=True)
            last = pct
    if show:
        print(file=sys.stderr)
    cp = result.checkpoint
    print(f"Wrote {result.path} ({result.rows} records, SHA-256 {result.sha256}).")
    print(f"Checkpoint: {result.checkpoint_path} ({cp.count} rows, head {cp.head_hash}).")
    print(result.verification.summary())
    if not result.verification.ok:
        print(
            "bedside: error: the report was written, but the audit log FAILED verification "
            "(the report says so on every page).",
            file=sys.stderr,
        )
        return 1
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="verify, browse and export the audit log")
    asub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    p = asub.add_parser("verify", help="check the hash chain, triggers and checkpoints")
    p.add_argument("--db", help="another audit log file (opened read-only)")
    p.add_argument(
        "--checkpoint",
        nargs="+",
        action="extend",
        metavar="FILE",
        help="checkpoint files from earlier exports (*.checkpoint.json)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    audit_central.add_verify_arguments(p)
    p.set_defaults(func=cmd_verify)

    p = asub.add_parser("show", help="list audit records")
    _add_filters(p)
    p.add_argument("--limit", type=int, default=0, help="only the last N matching records")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_show)

    p = asub.add_parser("export", help="write a PDF report, CSV or FHIR R4 JSON")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace FILE (and its checkpoint, FILE.checkpoint.json) if it exists",
    )
    _add_filters(p)
    p.set_defaults(func=cmd_export)

    p = asub.add_parser(
        "init",
        help="IT: start a new, empty audit log after the old one was lost (recorded in row #1)",
    )
    p.add_argument(
        "--new-log",
        action="store_true",
        required=True,
        help="confirm that a new log is started (only when the log is missing or empty)",
    )
    p.add_argument("--reason", required=True, help="why (recorded in the new log's first row)")
    p.set_defaults(func=cmd_init)

    audit_central.register(asub, _add_filters, filters_from_args)
    audit_atna.register(asub)


def cmd_init(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    with AuditLog.start_new_log(settings, args.reason, user=current_user(settings)) as log:
        first = log.get(1)
    print(f"Started a new audit log at {settings.audit_db_path} (log {log.log_id}).")
    if first is not None:
        print(f'Row #1 records it: {first.type}, reason "{first.reason}".')
    return 0
