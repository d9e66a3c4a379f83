"""``bedside audit atna send [--once]`` and ``bedside audit atna status``: the hospital's ATNA
audit repository (issue 18 item 4, ``[atna]`` in the site file) from the command line.

``send`` queues the log's rows not yet queued and sends what waits, in order, at once (a person
asked: the backoff is skipped). Without ``--once`` it keeps doing so every ``--interval``
seconds (for a service or a terminal left open; Ctrl+C stops it, nothing queued is lost).
Exit codes: 0 everything sent, 1 messages still wait (the repository is down or not trusted:
the one-line reason is printed).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from viewer.audit.atna_transport import forward_atna
from viewer.audit.events import AuditEvent
from viewer.audit.store import AuditLog
from viewer.cli.outbox_text import print_pass, print_queue, queue_fields
from viewer.config import Settings
from viewer.errors import AuditError, printable, printable_json

__all__ = ["register"]


def _require_enabled(settings: Settings) -> None:
    if not settings.values.atna.enabled:
        raise AuditError(
            "Sending audit messages to the ATNA repository is off: set [atna] enabled = true, "
            "host and ca_file in the site file (docs/it-guide.md)."
        )


def _record(settings: Settings, event: AuditEvent) -> None:
    """A forwarding alarm (the repository failed TLS authentication) into the local log."""
    with AuditLog.open(settings) as log:
        log.append(event)
    print(f"Recorded in the audit log: {event.type}.")


def cmd_send(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    _require_enabled(settings)
    while True:
        result = forward_atna(settings, now=True, record=lambda event: _record(settings, event))
        print_pass(result)
        if args.once:
            return 0 if result.error is None and result.waiting == 0 else 1
        time.sleep(args.interval)


def _status_dict(settings: Settings) -> dict[str, Any]:
    a = settings.values.atna
    return {
        "enabled": a.enabled,
        "repository": f"{a.host}:{a.port}",
        "ca_file": a.ca_file,
        "client_certificate": a.client_cert_file or None,
        "facility": a.facility,
        **queue_fields(settings.atna_outbox_path),
    }


def cmd_status(args: argparse.Namespace) -> int:
    out = _status_dict(args.settings)
    if args.json:
        print(printable_json(json.dumps(out, indent=2, ensure_ascii=False)))
        return 0
    client = out["client_certificate"] or "none"
    print(
        printable(
            f"ATNA repository: {out['repository']} ({'on' if out['enabled'] else 'OFF'}), CA "
            f"{out['ca_file'] or '-'}, client certificate {client}, facility {out['facility']}"
        )
    )
    print_queue(out)
    return 0


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not 0.5 <= value <= 3600:
        raise argparse.ArgumentTypeError("the interval must be between 0.5 and 3600 seconds")
    return value


def register(asub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``atna`` under ``bedside audit``."""
    atna = asub.add_parser(
        "atna", help="send audit messages to the hospital's ATNA repository (syslog over TLS)"
    )
    sub = atna.add_subparsers(dest="atna_command", metavar="ACTION", required=True)
    p = sub.add_parser("send", help="queue new rows and send what waits, in order")
    p.add_argument("--once", action="store_true", help="one pass, then exit (0: all sent)")
    p.add_argument(
        "--interval",
        type=_interval,
        default=5.0,
        metavar="SECONDS",
        help="without --once: seconds between passes (default 5)",
    )
    p.set_defaults(func=cmd_send)
    p = sub.add_parser("status", help="the repository, the queue and the last error")
    p.add_argument("--json", action="store_true", help="machine-readable")
    p.set_defaults(func=cmd_status)
