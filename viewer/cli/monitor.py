"""``bedside monitor report``: the site drift monitor over the audit log (viewer.monitoring).

Each model version in the log is compared with the reference profile of its bundle (found in
``--bundle`` files, the model store, or the demo bundle in demo mode) over the window: the last
30 days by default, ``--window 7d``, or the last N cases (``--cases N``). Alerts are recorded in
the log as ``monitor_alert`` rows (once per model, test and window) unless ``--no-record``.
Exit status 0 without alerts, 3 with alerts (so a scheduled job can notice), 1 on error.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from viewer.errors import BedsideError

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
    from viewer.audit import AuditLog, Filters
    from viewer.monitoring import MonitorConfig, find_references, record_alerts
    from viewer.monitoring.cases import MONITORED_TYPES, streams_from_records
    from viewer.monitoring.report import monitor_streams
    from viewer.outputs import write_atomically

    settings = args.settings
    spec = _spec(args)
    if not 0.0 < args.alpha < 1.0:
        raise BedsideError("--alpha must be between 0 and 1.")
    if args.format == "pdf" and args.output is None:
        raise BedsideError("A PDF report needs --output FILE.")
    end = _end(args.end)
    log = (
        AuditLog.open_readonly(settings.audit_db_path, settings=settings)
        if args.no_record
        else AuditLog.open(settings)
    )
    with log:
        # only the rows the monitor reads, and the streams built once
        streams = streams_from_records(log.iter_records(Filters(types=MONITORED_TYPES)))
        references, notes = find_references(settings, list(streams), args.bundle)
        report, models = monitor_streams(
            streams,
            references,
            spec,
            end=end,
            config=MonitorConfig(alpha=args.alpha),
            model=args.model,
        )
        report["log"] = str(settings.audit_db_path)
        report["notes"] = notes
        report["recorded"] = 0 if args.no_record else record_alerts(log, models)
    if args.format == "pdf":
        from viewer.monitoring.pdf import write_pdf

        write_atomically(
            args.output,
            lambda fh: write_pdf(report, fh),
            settings=settings,
            overwrite=args.force,
            what="monitoring report",
        )
        print(f"monitoring report written: {args.output}")
    else:
        text = json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        if args.output is None:
            sys.stdout.write(text)
        else:

            def write_json(fh: BinaryIO) -> None:
                fh.write(text.encode("utf-8"))

            write_atomically(
                args.output,
                write_json,
                settings=settings,
                overwrite=args.force,
                what="monitoring report",
            )
    return EXIT_ALERTS if report["alerts"] else 0
