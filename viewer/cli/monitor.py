"""``bedside monitor report``: the site drift monitor over the audit log (viewer.monitoring).

Each model version in the log is compared with the reference profile of its bundle (found in
``--bundle`` files, the model store, or the demo bundle in demo mode) over the window: the last
30 days by default, ``--window 7d``, or the last N cases (``--cases N``). Alerts are recorded in
the log as ``monitor_alert`` rows (once per model, test and window) unless ``--no-record``.
Exit status 0 without alerts, 3 with alerts (so a scheduled job can notice), 1 on error.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from viewer.errors import BedsideError, printable_json

EXIT_ALERTS = 3


def register(sub: Any) -> None:
    p = sub.add_parser("monitor", help="site drift monitor: scores, input mix and rates over time")
    msub = p.add_subparsers(dest="monitor_command", metavar="SUBCOMMAND", required=True)
    r = msub.add_parser("report", help="report drift for each model version in the audit log")
    group = r.add_mutually_exclusive_group()
    group.add_argument(
        "--window", default="30d", help="the last N days, e.g. 30d (default), or N cases"
    )
    group.add_argument("--cases", type=int, metavar="N", help="the last N cases of each stream")
    r.add_argument("--format", choices=("json", "pdf"), default="json")
    r.add_argument("--output", "-o", type=Path, help="write to this file (json: default stdout)")
    r.add_argument("--force", action="store_true", help="replace an existing output file")
    r.add_argument("--model", help="only this model: ID, 'ID VERSION' or ID@VERSION")
    r.add_argument(
        "--bundle", type=Path, action="append", default=[], help="a bundle holding a reference"
    )
    r.add_argument("--alpha", type=float, default=0.01, help="family-wise level per window")
    r.add_argument("--end", help="the window's end (UTC date or date-time; default now)")
    r.add_argument("--no-record", action="store_true", help="do not record alerts in the audit log")
    r.set_defaults(func=_report)


def _spec(args: argparse.Namespace) -> Any:
    from viewer.monitoring import WindowSpec

    if args.cases is not None:
        if args.cases < 1:
            raise BedsideError("--cases must be at least 1.")
        return WindowSpec(days=None, cases=args.cases)
    try:
        return WindowSpec.parse(args.window)
    except ValueError as exc:
        raise BedsideError(str(exc)) from exc


def _end(text: str | None) -> datetime | None:
    """``--end``: a UTC date (its first instant) or date-time; AuditError when it is not one."""
    if not text:
        return None
    from datetime import UTC

    from viewer.audit.query import TIME_FORMAT, to_time_text

    return datetime.strptime(to_time_text(text), TIME_FORMAT).replace(tzinfo=UTC)


def _report(args: argparse.Namespace) -> int:
    """The same report the Monitoring window shows (viewer.session.monitoring_view)."""
    from viewer.session.monitoring_view import MonitoringSource, report_json, write_report

    settings = args.settings
    spec = _spec(args)
    if not 0.0 < args.alpha < 1.0:
        raise BedsideError("--alpha must be between 0 and 1.")
    if args.format == "pdf" and args.output is None:
        raise BedsideError("A PDF report needs --output FILE.")
    source = MonitoringSource(settings, bundles=args.bundle, record=not args.no_record)
    report = source.report(spec, end=_end(args.end), alpha=args.alpha, model=args.model)
    if args.format == "json" and args.output is None:
        sys.stdout.write(printable_json(report_json(report)))
    else:
        write_report(report, args.format, args.output, settings=settings, overwrite=args.force)
        if args.format == "pdf":
            print(f"monitoring report written: {args.output}")
    return EXIT_ALERTS if report["alerts"] else 0
