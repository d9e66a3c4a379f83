"""``bedside pacs echo|find|get|send|outbox``: IT's and scripts' way to PACS (issue 17).

- ``echo``: the connection test of the settings dialog (C-ECHO, one QIDO request), each step
  passed or failed within 5 s; exit 1 when one fails.
- ``find``: studies by patient ID, accession, date range and modality (QIDO-RS or C-FIND).
- ``get``: one study into a folder (WADO-RS or C-GET), recorded in the audit log.
- ``send``: DICOM files queued in the PACS outbox and sent (a resend of the same file is
  recognised by its SOP Instance UID and not sent twice); exit 1 when they are still waiting.
- ``outbox list|retry|drain``: what waits and why, make held objects due again, send now.

``--json`` prints one JSON document for scripts. Every failure is one sentence on stderr, and
so is what pydicom warns about values PACS (or a file to send) wrote wrongly: one note, never
pydicom's raw warnings (:func:`_value_notes`).
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import re
import sys
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from viewer.errors import BedsideError, printable, printable_json

__all__ = ["register"]


def _print_json(data: object) -> None:
    print(printable_json(json.dumps(data, indent=2, ensure_ascii=False)))


# the VR a pydicom value warning names ("Invalid value for VR IS", "... allowed for VR CS",
# "elements with a VR of DS", "The PN component length ...")
_WARNED_VR = re.compile(r"\bVR (?:of )?'?([A-Z]{2})\b|\b(PN) component\b")


def value_note(messages: list[str], whose: str) -> str | None:
    """pydicom's warnings about values (PS3.5 6.2 lengths and characters per VR) as one
    sentence naming the VRs: its own words quote the value, which may be a patient's name or
    hold control characters, and point to the standard's table instead of saying what happens."""
    if not messages:
        return None
    vrs = sorted({m.group(1) or m.group(2) for m in map(_WARNED_VR.search, messages) if m})
    kinds = f" (VR {', '.join(vrs)})" if vrs else ""
    return (
        f"Note: {whose} {len(messages)} value(s) that are not valid DICOM{kinds}; they were "
        "read as far as possible and are kept as written."
    )


def _value_notes(
    func: Callable[[argparse.Namespace], int], whose: str
) -> Callable[[argparse.Namespace], int]:
    """Run a command with pydicom's warnings collected, then print :func:`value_note` on stderr
    (a command-line process: the process-wide catch is safe here)."""

    @functools.wraps(func)
    def run(args: argparse.Namespace) -> int:
        caught: list[warnings.WarningMessage] = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", UserWarning)
                return func(args)
        finally:
            ours = [w for w in caught if _from_pydicom(w)]
            note = value_note([str(w.message) for w in ours], whose)
            if note:
                print(note, file=sys.stderr)
            for w in caught:  # anything else is not about values: shown as Python shows it
                if w not in ours:
                    warnings.showwarning(w.message, w.category, w.filename, w.lineno)

    return run


def _from_pydicom(w: warnings.WarningMessage) -> bool:
    """A UserWarning raised in pydicom's code (its value checks, PS3.5 6.2)."""
    return issubclass(w.category, UserWarning) and "pydicom" in Path(w.filename).parts


def _audit(settings: Any) -> Any:
    """The audit log every send and retrieval is recorded in (opened or a clear refusal)."""
    from viewer.audit import AuditLog
    from viewer.errors import AuditError

    try:
        return AuditLog.open(settings)
    except AuditError as exc:
        raise AuditError(
            f"Nothing was sent or retrieved, because each one must be recorded in the audit "
            f"log: {exc}"
        ) from exc


# -- echo ---------------------------------------------------------------------------------------


def _echo(args: argparse.Namespace) -> int:
    from viewer.pacs.query import test_connection

    checks = test_connection(args.settings, timeout_s=args.timeout)
    if args.json:
        _print_json(
            [
                {"name": c.name, "ok": c.ok, "message": c.message, "elapsed_s": c.elapsed_s}
                for c in checks
            ]
        )
    else:
        for c in checks:
            verdict = "PASS" if c.ok else "FAIL"
            print(f"{verdict} {c.name} ({c.elapsed_s:.2f} s): {printable(c.message)}")
    return 0 if all(c.ok for c in checks) else 1


# -- find ---------------------------------------------------------------------------------------


def _find(args: argparse.Namespace) -> int:
    from viewer.pacs.query import search

    hits = search(
        args.settings,
        patient_id=args.patient_id,
        accession=args.accession,
        date_from=args.date_from,
        date_to=args.date_to,
        modality=args.modality,
        timeout_s=args.timeout,
    )
    if args.json:
        _print_json(
            [
                {
                    "study_uid": h.study_uid,
                    "patient_id": h.patient_id,
                    "patient_name": h.patient_name,
                    "study_date": h.study_date,
                    "accession": h.accession,
                    "modalities": list(h.modalities),
                    "description": h.description,
                    "instances": h.instances,
                }
                for h in hits
            ]
        )
        return 0
    if not hits:
        print("No study matches.")
        return 0
    for h in hits:
        fields = (
            h.study_date or "-",
            h.patient_id or "-",
            h.patient_name or "-",
            h.accession or "-",
            "/".join(h.modalities) or "-",
            str(h.instances if h.instances is not None else "?"),
            h.study_uid,
        )
        print(printable("  ".join(fields)))
    print(f"{len(hits)} stud{'y' if len(hits) == 1 else 'ies'}.")
    return 0


# -- get ----------------------------------------------------------------------------------------


def _get(args: argparse.Namespace) -> int:
    from viewer.pacs.query import retrieve

    log = _audit(args.settings)
    shown: list[int] = []

    def progress(done: int, total: int) -> None:
        if not args.json and done:
            of = f" of {total}" if total else ""
            print(f"\r{done}{of} instance(s)", end="", file=sys.stderr, flush=True)
            shown.append(done)

    try:
        files = retrieve(
            args.settings, args.study_uid, Path(args.out), progress=progress, audit=log
        )
    finally:
        log.close()
        if shown:
            print(file=sys.stderr)
    if args.json:
        _print_json({"study_uid": args.study_uid, "files": [str(p) for p in files]})
    else:
        print(printable(f"Retrieved {len(files)} instance(s) into {args.out}."))
    return 0


# -- send and the outbox ------------------------------------------------------------------------


def _delivery(args: argparse.Namespace, log: Any) -> Any:
    from viewer.pacs.delivery import PacsDelivery

    return PacsDelivery(args.settings, log)


def _read_part10(path: Path) -> bytes:
    """The bytes of a Part-10 file, read only once it is a regular file within the DICOM
    reader's limits whose header parses (viewer.dicom.safe_read): /dev/zero was read without end
    and a FIFO waited for ever for a writer."""
    import stat

    from viewer.dicom.safe_read import DEFAULT_LIMITS, read_dataset
    from viewer.errors import DicomError

    try:
        st = path.stat()
    except OSError as exc:
        raise BedsideError(f"{path} cannot be read: {exc.strerror}.") from exc
    if not stat.S_ISREG(st.st_mode):
        raise BedsideError(
            f"{path} cannot be read: it is a folder, a device or a pipe, not a DICOM file."
        )
    try:
        read_dataset(path, header_only=True, limits=DEFAULT_LIMITS)
        with path.open("rb") as fh:
            data = fh.read(DEFAULT_LIMITS.max_file_bytes + 1)
    except OSError as exc:
        raise BedsideError(f"{path} cannot be read: {exc.strerror}.") from exc
    except DicomError as exc:
        raise BedsideError(f"{path} is not a DICOM file (Part 10).") from exc
    if data[128:132] != b"DICM" or len(data) > DEFAULT_LIMITS.max_file_bytes:
        raise BedsideError(f"{path} is not a DICOM file (Part 10).")
    return data


def _send(args: argparse.Namespace) -> int:
    from viewer.pacs.delivery import wait_until_sent

    payloads = [_read_part10(Path(p)) for p in args.files]
    log = _audit(args.settings)
    try:
        with _delivery(args, log) as delivery:
            reading_id = args.reading_id or f"cli-{datetime.now().strftime('%Y%m%dT%H%M%S%f')}"
            new = delivery.queue(payloads, reading_id=reading_id)
            status = wait_until_sent(delivery, reading_id, timeout_s=args.wait)
            text = delivery.status_text(reading_id=reading_id)
            # this reading's last error; none when its objects were not tried yet (another
            # Bedside process holds the outbox, or the next retry is after --wait)
            error = status.last_error or "not tried yet (another Bedside process may be sending)."
    finally:
        log.close()
    done = status.pending == 0 and status.held == 0
    if args.json:
        _print_json(
            {
                "reading_id": reading_id,
                "queued": new,
                "sent": status.sent,
                "pending": status.pending,
                "held": status.held,
                "status": text,
                "error": None if done else error,
            }
        )
    else:
        print(printable(f"Queued {new} new object(s); {status.sent} sent. {text}"))
        if not done:
            print(
                printable(
                    f"Not sent yet ({status.pending} waiting, {status.held} refused): {error} "
                    "They stay in the outbox (bedside pacs outbox list)."
                ),
                file=sys.stderr,
            )
    return 0 if done else 1


def _outbox_list(args: argparse.Namespace) -> int:
    from viewer.cli.outbox_text import print_queue, queue_fields, when

    with _delivery(args, None) as delivery:
        out = queue_fields(args.settings.pacs_outbox_path, delivery.status())
        items = delivery.outbox.waiting()
        text = delivery.status_text()
        states = {item.key: delivery.outbox.state_of(item.key) for item in items}
    rows = [
        {
            "key": item.key,
            "state": states[item.key],
            "queued": when(item.created),
            "attempts": item.attempts,
            "last_error": item.last_error,
        }
        for item in items
    ]
    if args.json:
        _print_json({**out, "status": text, "waiting": rows})
        return 0
    print_queue(out)
    if text:
        print(text)
    for row in rows:
        print(
            printable(
                f"{row['state']:8} {row['queued']}  tries {row['attempts']}  {row['key']}  "
                f"{row['last_error'] or ''}"
            )
        )
    return 0


def _outbox_retry(args: argparse.Namespace) -> int:
    with _delivery(args, None) as delivery:
        count = delivery.retry_now()
    print(f"{count} waiting object(s) are due now; they go out on the next drain.")
    return 0


def _outbox_drain(args: argparse.Namespace) -> int:
    log = _audit(args.settings)
    try:
        with _delivery(args, log) as delivery:
            result = delivery.drain()
            status = delivery.status()
            text = delivery.status_text()
    finally:
        log.close()
    if args.json:
        _print_json(
            {
                "sent": result.sent,
                "failed": result.failed,
                "held": result.held,
                "busy": result.busy,
                "error": result.error,
                "pending": status.pending,
                "status": text,
            }
        )
    elif result.busy:
        print("Another Bedside process is sending the outbox right now; nothing done.")
    else:
        print(
            f"Sent {result.sent}, failed {result.failed} (kept, retried later), "
            f"refused {result.held} (held). {text}"
        )
        if result.error:
            print(printable(f"Last error: {result.error}"), file=sys.stderr)
    return 0 if result.failed == 0 and result.held == 0 else 1


# -- parser -------------------------------------------------------------------------------------


def _seconds(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite number of seconds in [low, high] (a negative, zero, NaN or
    infinite timeout reached requests and sockets as a ValueError, or waited for ever)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"give between {low:g} and {high:g} seconds")
        return value

    return parse


def register(sub: Any) -> None:
    p = sub.add_parser("pacs", help="PACS: connection test, search, retrieve, send, outbox")
    psub = p.add_subparsers(dest="pacs_command", metavar="SUBCOMMAND", required=True)

    e = psub.add_parser("echo", help="test the connection: C-ECHO and a QIDO request")
    e.add_argument(
        "--timeout", type=_seconds(0.1, 3600), default=5.0, help="seconds per check (default 5)"
    )
    e.add_argument("--json", action="store_true", help="machine-readable output")
    e.set_defaults(func=_value_notes(_echo, "PACS answered with"))

    f = psub.add_parser("find", help="search studies (QIDO-RS or C-FIND, as the site sets)")
    f.add_argument("--patient-id", help="Patient ID (0010,0020); * and ? match")
    f.add_argument("--accession", help="Accession Number (0008,0050)")
    f.add_argument("--from", dest="date_from", metavar="DATE", help="first study date")
    f.add_argument("--to", dest="date_to", metavar="DATE", help="last study date")
    f.add_argument("--modality", help="a modality in the study, e.g. CR or DX")
    f.add_argument(
        "--timeout", type=_seconds(0.1, 3600), default=None, help="seconds to wait for PACS"
    )
    f.add_argument("--json", action="store_true", help="machine-readable output")
    f.set_defaults(func=_value_notes(_find, "PACS answered with"))

    g = psub.add_parser("get", help="retrieve one study into a folder (WADO-RS or C-GET)")
    g.add_argument("study_uid", help="Study Instance UID (0020,000D)")
    g.add_argument("--out", required=True, metavar="DIR", help="folder to write the files to")
    g.add_argument("--json", action="store_true", help="machine-readable output")
    g.set_defaults(func=_value_notes(_get, "PACS sent"))

    s = psub.add_parser("send", help="queue DICOM files for PACS and send them")
    s.add_argument("files", nargs="+", help="DICOM Part-10 files (SR, SC, GSPS, images)")
    s.add_argument("--reading-id", help="group the files under this id (status per group)")
    s.add_argument(
        "--wait",
        type=_seconds(0, 3600),
        default=30.0,
        help="seconds to keep trying now (default 30)",
    )
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=_value_notes(_send, "the files to send hold"))

    o = psub.add_parser("outbox", help="what waits for PACS: list, retry, drain")
    osub = o.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)
    ol = osub.add_parser("list", help="waiting objects, their state and last error")
    ol.add_argument("--json", action="store_true", help="machine-readable output")
    ol.set_defaults(func=_value_notes(_outbox_list, "the waiting objects hold"))
    osub.add_parser("retry", help="make every waiting object (held ones too) due now").set_defaults(
        func=_outbox_retry
    )
    od = osub.add_parser("drain", help="send what is due now")
    od.add_argument("--json", action="store_true", help="machine-readable output")
    od.set_defaults(func=_value_notes(_outbox_drain, "the objects sent hold"))
