"""``bedside audit central setup|status|retry``, ``audit forward``, ``audit verify --central`` and
``audit report --central``: the department audit store (issue 18 item 3) from the command line.

Exit codes of ``verify --central``: 0 the local log and the store agree (rows not yet forwarded
are a note); 1 evidence found (truncated tail, rolled-back file, re-chained rewrite, a broken
chain in the store); 3 the store could not be reached or refused (nothing could be compared).
``report --central`` exits 1 when a workstation's chain in the store is broken.
``forward`` exits 0 when everything due was sent, 1 when rows wait (store down, integrity alarm).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from viewer.audit.central import (
    CentralError,
    CentralStore,
    CentralUnavailableError,
    compare_with_central,
    department_report,
    forward_central,
    retry_held,
    setup_store,
    workstation_id,
)
from viewer.audit.query import Filters
from viewer.audit.report import pct
from viewer.cli.outbox_text import print_pass, print_queue, queue_fields
from viewer.config import Settings
from viewer.errors import AuditError, printable, printable_json

EXIT_UNAVAILABLE = 3


def _read_secret(path: str | None, what: str) -> str | None:
    if not path:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8").strip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditError(f"{what} {path} cannot be read: {exc}.") from exc
    if not text:
        raise AuditError(f"{what} {path} is empty.")
    return text


# ------------------------------------------------------------------------------------ commands


def cmd_setup(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    app_file = args.app_password_file or settings.values.audit_central.password_file
    done = setup_store(
        settings,
        admin_user=args.admin_user,
        admin_password=_read_secret(args.admin_password_file, "The admin password file"),
        app_password=_read_secret(app_file, "The application role's password file"),
    )
    for line in done:
        print(f"- {line}")
    with CentralStore.open(settings) as store:
        priv = store.privileges
    print(
        f"Checked as {priv.role}: INSERT and SELECT granted; UPDATE, DELETE and TRUNCATE refused "
        f"(append-only triggers: {', '.join(priv.triggers) or 'none'})."
    )
    return 0


def _workstation_text(settings: Settings) -> str:
    try:
        return workstation_id(settings)
    except CentralError as exc:
        return f"(none yet: {exc})"


def _status_dict(settings: Settings) -> dict[str, Any]:
    c = settings.values.audit_central
    out: dict[str, Any] = {
        "enabled": c.enabled,
        "workstation": _workstation_text(settings),
        "store": f"{c.host}:{c.port}/{c.dbname} schema {c.db_schema} as {c.user}",
        **queue_fields(settings.central_outbox_path),
        "reachable": False,
        "append_only": None,
        "triggers": [],
        "workstations": [],
    }
    try:
        with CentralStore.open(settings) as store:
            out["reachable"] = True
            out["append_only"] = True
            out["triggers"] = list(store.privileges.triggers)
            out["workstations"] = [
                {"workstation": w, "rows": n, "head": head, "last_received": t}
                for w, n, head, t in store.workstations()
            ]
    except CentralUnavailableError as exc:
        out["store_error"] = str(exc)
    except CentralError as exc:
        out["reachable"] = True
        out["append_only"] = "not append-only" not in str(exc) and None
        out["store_error"] = str(exc)
    return out


def cmd_status(args: argparse.Namespace) -> int:
    out = _status_dict(args.settings)
    if args.json:
        print(printable_json(json.dumps(out, indent=2, ensure_ascii=False)))
        return 0
    print(f"Department audit store: {out['store']} ({'on' if out['enabled'] else 'OFF'})")
    print(f"This workstation: {out['workstation']}")
    print_queue(out)
    if "store_error" in out:
        print(printable(f"Store: {out['store_error']}"))
    else:
        print(
            f"Store: reachable, append-only for this role; triggers: {', '.join(out['triggers'])}"
        )
        for w in out["workstations"]:
            print(
                printable(
                    f"  {w['workstation']:<24} {w['rows']:>8} rows  head #{w['head']:<8} "
                    f"last received {w['last_received']}"
                )
            )
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    count = retry_held(args.settings)
    print(f"{count} waiting or held row(s) will be sent on the next forwarding round.")
    return 0


def cmd_forward(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    if not settings.values.audit_central.enabled:
        raise AuditError(
            "Forwarding to the department audit store is off: set [audit_central] enabled = true "
            "(and its host) in the site file."
        )
    if not settings.audit_db_path.exists():
        raise AuditError(f"There is no audit log at {settings.audit_db_path} yet.")
    interval = settings.values.audit_central.interval_s
    while True:
        result = forward_central(settings)
        print_pass(result)
        if args.once:
            waiting = result.status.pending + result.status.held
            return 0 if result.error is None and waiting == 0 else 1
        time.sleep(interval)


def cmd_verify_central(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    try:
        result = compare_with_central(settings, all_workstations=not args.this_workstation)
    except CentralError as exc:
        if args.json:
            print(json.dumps({"ok": None, "error": str(exc)}, indent=2, ensure_ascii=False))
        print(f"bedside: error: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    if args.json:
        print(printable_json(json.dumps(result.as_dict(), indent=2, ensure_ascii=False)))
    else:
        print(result.summary())
        for _kind, message in result.findings:
            print(printable(f"  - {message}"))
        for note in result.notes:
            print(printable(f"  note: {note}"))
        for check in result.departments:
            mark = "ok " if check.ok else "BAD"
            detail = f": {check.problem}" if check.problem else ""
            print(
                printable(
                    f"  [{mark}] store chain of {check.workstation}: {check.rows} rows{detail}"
                )
            )
    return 0 if result.ok else 1


def cmd_report_central(args: argparse.Namespace, filters: Filters) -> int:
    settings: Settings = args.settings
    pseudonym = None
    if args.patient_id:
        from viewer.audit.pseudonym import Pseudonymizer, load_or_create_secret

        if not settings.secret_path.is_file():
            raise AuditError("A search by patient ID needs this site's pseudonym secret.")
        pseudonym = Pseudonymizer(load_or_create_secret(settings.secret_path)).pseudonym
    try:
        with CentralStore.open(settings) as store:
            report = department_report(
                store, filters, workstation=args.workstation, pseudonym=pseudonym
            )
    except CentralUnavailableError as exc:
        print(f"bedside: error: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    if args.json:
        out = {
            "ok": report.ok,
            "filters": dict(report.filters),
            "workstations": [
                {
                    "workstation": w.workstation,
                    "rows": w.rows,
                    "decisions": w.decisions,
                    "rows_stored": w.stored,
                    "head": w.head,
                    "last_received": w.last_received,
                    "chain_ok": w.chain.ok,
                    "chain_problem": w.chain.problem,
                }
                for w in report.workstations
            ],
            "models": [
                {
                    "model": m.label,
                    "cases": m.cases,
                    "ai_positive_rate": m.ai_positive_rate,
                    "agreement_rate": m.agreement_rate,
                    "override_rate": m.override_rate,
                    "amended": m.amended,
                    "override_reasons": dict(m.reasons.most_common()),
                }
                for m in report.models
            ],
        }
        print(printable_json(json.dumps(out, indent=2, ensure_ascii=False)))
        return 0 if report.ok else 1
    scope = "; ".join(f"{k}: {v}" for k, v in report.filters) or "none"
    print(f"Department audit report ({len(report.workstations)} workstation(s); filters: {scope})")
    for w in report.workstations:
        state = "chain verified" if w.chain.ok else f"CHAIN BROKEN: {w.chain.problem}"
        print(
            printable(
                f"  {w.workstation:<24} {w.rows:>7} rows {w.decisions:>6} decisions  "
                f"(store: {w.stored} rows, head #{w.head}, last received {w.last_received}; "
                f"{state})"
            )
        )
    for m in report.models:
        print(
            printable(
                f"  {m.label}: {m.cases} cases, AI-positive {pct(m.ai_positive_rate)}, "
                f"agreement {pct(m.agreement_rate)}, override {pct(m.override_rate)}, "
                f"{m.amended} amended"
            )
        )
        for reason, n in m.reasons.most_common(5):
            print(printable(f"      override reason ({n}): {reason}"))
    if not report.ok:
        print("bedside: error: a workstation's chain in the store is broken.", file=sys.stderr)
    return 0 if report.ok else 1


# -------------------------------------------------------------------------------- registration


def add_verify_arguments(p: argparse.ArgumentParser) -> None:
    """``audit verify --central``: the options it adds to ``audit verify``."""
    p.add_argument(
        "--central",
        action="store_true",
        help="compare the local log with the department audit store's copy and verify every "
        "workstation's chain there (exit 1: evidence found, 3: store unreachable)",
    )
    p.add_argument(
        "--this-workstation",
        action="store_true",
        help="with --central: verify only this workstation's chain in the store",
    )


def register(
    asub: argparse._SubParsersAction[argparse.ArgumentParser],
    add_filters: Callable[[argparse.ArgumentParser], None],
    filters_from_args: Callable[[argparse.Namespace], Filters],
) -> None:
    """``audit forward``, ``audit report --central`` and ``audit central ...`` (the filters are
    ``audit show``'s, handed in by :mod:`viewer.cli.audit`)."""
    p = asub.add_parser(
        "report",
        help="the department's audit figures from the department audit store: rows, decisions "
        "and chain state per workstation, rates per model version",
    )
    p.add_argument(
        "--central",
        action="store_true",
        required=True,
        help="read the department audit store (the local log's report is `audit export`)",
    )
    p.add_argument(
        "--workstation", metavar="W", help="only this workstation (as the store names it)"
    )
    add_filters(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=lambda args: cmd_report_central(args, filters_from_args(args)))

    p = asub.add_parser(
        "forward",
        help="send the audit log's new rows to the department audit store (the app does this "
        "in the background)",
    )
    p.add_argument(
        "--once",
        action="store_true",
        help="one round, then exit (cron); exit 1 while rows wait. Without it: every "
        "[audit_central] interval_s until Ctrl-C",
    )
    p.set_defaults(func=cmd_forward)

    central = asub.add_parser(
        "central", help="IT: set up and inspect the department audit store (PostgreSQL)"
    )
    csub = central.add_subparsers(dest="central_command", metavar="ACTION", required=True)
    p = csub.add_parser(
        "setup",
        help="create the database (if missing), the application role, the append-only table "
        "and its grants (safe to run again)",
    )
    p.add_argument(
        "--admin-user",
        default="postgres",
        help="a PostgreSQL role that may create databases, roles and tables (default: postgres); "
        "it connects to the [audit_central] host, port and sslmode",
    )
    p.add_argument(
        "--admin-password-file",
        metavar="FILE",
        help="that role's password, one line (omit for certificate or peer login)",
    )
    p.add_argument(
        "--app-password-file",
        metavar="FILE",
        help="(re)set the application role's password from FILE (default: [audit_central] "
        "password_file, when set)",
    )
    p.set_defaults(func=cmd_setup)
    p = csub.add_parser(
        "status", help="outbox (waiting, held, last sent, last error) and the store's state"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_status)
    p = csub.add_parser(
        "retry",
        help="send held rows again now (after IT resolved an integrity alarm or an outage)",
    )
    p.set_defaults(func=cmd_retry)
