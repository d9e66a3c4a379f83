"""Exports of the audit log: PDF for people, CSV and FHIR R4 JSON for machines.

Every export first verifies the log, then signs a checkpoint (stored in the log, printed in the
report and written beside it as ``<file name>.checkpoint.json``), writes the file atomically
(temporary name, then rename) and finally records a ``report_exported`` event that carries the
checkpoint and the file's SHA-256. An export is long work: :func:`export_report` is a generator
yielding ``(done, total)``; stopping the iteration or ``cancel()`` returning True cancels it and
leaves no file behind.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import uuid
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from viewer import __version__, outputs
from viewer.audit.atna import mapping_for, outcome_indicator
from viewer.audit.chain import ALL_COLUMNS
from viewer.audit.checkpoints import Checkpoint
from viewer.audit.events import AuditEvent, AuditRecord, EventType, ExportCancelledError
from viewer.audit.query import Filters, utc_now_text
from viewer.audit.store import AuditLog, AuditLogMissingError
from viewer.audit.verify import VerifyResult, verify_log
from viewer.config import Settings
from viewer.errors import AuditError, AuditWriteError

Format = Literal["pdf", "csv", "json"]
FORMATS: tuple[str, ...] = ("pdf", "csv", "json")
TOTAL = 1000  # progress is reported in permille
PSEUDONYM_SYSTEM = "urn:bedside:pseudonym:"
BEDSIDE_CS = "https://bedside.invalid/fhir/CodeSystem/audit-event-type"
CHECKPOINT_EXT = "https://bedside.invalid/fhir/StructureDefinition/audit-checkpoint"
# Free-text columns a spreadsheet could take for a formula (CSV injection, OWASP).
_TEXT_COLUMNS = frozenset(
    {
        "user_os",
        "user_name",
        "user_role",
        "model_id",
        "model_version",
        "ai_finding",
        "clinician_finding",
        "reason",
        "host",
    }
)


@dataclass(frozen=True)
class ExportResult:
    path: Path
    format: str
    rows: int
    sha256: str
    checkpoint: Checkpoint
    checkpoint_path: Path
    verification: VerifyResult
    record: AuditRecord  # the report_exported row


def _who(rec: AuditRecord) -> dict[str, Any]:
    """The acting user as a FHIR Reference: the OS account (the log keeps no other ID)."""
    return {
        "identifier": {"system": "urn:bedside:os-account", "value": rec.user_os},
        "display": rec.user_name or rec.user_os,
    }


def checkpoint_path_for(out: Path) -> Path:
    """``report.pdf`` -> ``report.pdf.checkpoint.json`` (handed to ``audit verify --checkpoint``).

    Named after the whole export file, extension included, so the PDF, CSV and JSON exports
    of one base name each keep their own checkpoint (the one their report names)."""
    return out.with_name(out.name + ".checkpoint.json")


# ------------------------------------------------------------------------ where it may go


def check_output_path(settings: Settings, path: Path, *, overwrite: bool) -> None:
    """Refuse a report (or checkpoint) target that is not a plain file we may write: the one
    policy of :func:`viewer.outputs.check_output_path` (never the log, its keys or secret)."""
    outputs.check_output_path(
        path, settings=settings, overwrite=overwrite, what="report", error=AuditError
    )


def _write_atomically(path: Path, data: bytes) -> None:
    """Temporary file in the same folder, fsync, rename (a reader never sees half a file)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        with tmp.open("xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------ CSV


def _csv_value(column: str, value: Any) -> Any:
    if value is None:
        return ""
    if (
        column in _TEXT_COLUMNS
        and isinstance(value, str)
        and value[:1] in ("=", "+", "-", "@", "\t", "\r")
    ):
        return "'" + value
    return value


def write_csv(fh: Any, records: Iterable[AuditRecord]) -> Iterator[int]:
    """All stored columns (so a machine can re-verify the chain), one row per record.

    Free-text cells starting with = + - @ get a leading apostrophe so a spreadsheet shows them
    as text instead of running them as formulas.
    """
    writer = csv.writer(fh, lineterminator="\r\n")
    writer.writerow(ALL_COLUMNS)
    for n, rec in enumerate(records, 1):
        writer.writerow([_csv_value(c, getattr(rec, c)) for c in ALL_COLUMNS])
        yield n


# ------------------------------------------------------------------------------- FHIR R4

_DCM = "http://dicom.nema.org/resources/ontology/DCM"


def _urn(kind: str, key: str) -> str:
    """A stable ``urn:uuid:`` (UUIDv5) for resources that have no UUID of their own."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'urn:bedside:{kind}:{key}')}"


def _identifier(kind: str, value: str | None) -> dict[str, Any] | None:
    return {"system": PSEUDONYM_SYSTEM + kind, "value": value} if value else None


def audit_event_resource(rec: AuditRecord, site_name: str) -> dict[str, Any]:
    """One log row as a FHIR R4 AuditEvent (DICOM PS3.15 vocabulary for type and subtype)."""
    mapping = mapping_for(rec.type)
    code, _system, display = mapping.event_id
    action = mapping.action
    subtype = [{"system": BEDSIDE_CS, "code": rec.type}]
    if mapping.type_code is not None:
        sc, _system, sd = mapping.type_code
        subtype.insert(0, {"system": _DCM, "code": sc, "display": sd})
    agent: dict[str, Any] = {
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/extra-security-role-type",
                    "code": "humanuser",
                    "display": "human user",
                }
            ]
        },
        "who": _who(rec),
        "altId": rec.user_os,
        "requestor": True,
    }
    if rec.user_name:
        agent["name"] = rec.user_name
    if rec.user_role:
        agent["role"] = [{"text": rec.user_role}]
    entities: list[dict[str, Any]] = []
    if rec.patient_pseudonym:
        entities.append(
            {
                "what": {"identifier": _identifier("patient", rec.patient_pseudonym)},
                "type": {
                    "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                    "code": "1",
                    "display": "Person",
                },
                "role": {
                    "system": "http://terminology.hl7.org/CodeSystem/object-role",
                    "code": "1",
                    "display": "Patient",
                },
            }
        )
    for kind, value in (
        ("study", rec.study_pseudonym),
        ("series", rec.series_pseudonym),
        ("sop", rec.sop_pseudonym),
        ("accession", rec.accession_pseudonym),
    ):
        if value:
            entities.append(
                {
                    "what": {"identifier": _identifier(kind, value)},
                    "type": {
                        "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                        "code": "2",
                        "display": "System Object",
                    },
                    "name": f"{kind} (pseudonym)",
                }
            )
    details = [
        ("seq", rec.seq),
        ("prev_hash", rec.prev_hash),
        ("hash", rec.hash),
        ("meaning", rec.meaning),
        ("model_id", rec.model_id),
        ("model_version", rec.model_version),
        ("bundle_digest", rec.bundle_digest),
        ("threshold", rec.threshold),
        ("score", rec.score),
        ("ai_finding", rec.ai_finding),
        ("clinician_finding", rec.clinician_finding),
        ("reason", rec.reason),
        ("ai_shown", rec.ai_shown),
        ("corrects", rec.corrects),
        ("pseudonym_key", rec.pseudonym_key),
        ("detail", rec.detail_json),
    ]
    entities.append(
        {
            "what": {"identifier": {"system": "urn:bedside:audit-row", "value": str(rec.seq)}},
            "type": {
                "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                "code": "4",
                "display": "Other",
            },
            "name": "Bedside audit log row",
            "detail": [{"type": k, "valueString": str(v)} for k, v in details if v is not None],
        }
    )
    resource: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": rec.event_id,
        "type": {"system": _DCM, "code": code, "display": display},
        "subtype": subtype,
        "action": action,
        "recorded": rec.time,
        "outcome": outcome_indicator(rec, mapping),
        "agent": [agent],
        "source": {
            "site": site_name or rec.host,
            "observer": {"display": f"Bedside {rec.app_version} on {rec.host}"},
            "type": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                    "code": "4",
                    "display": "Application Server",
                }
            ],
        },
        "entity": entities,
    }
    if rec.outcome != "success":
        resource["outcomeDesc"] = rec.reason or rec.type
    return resource


def provenance_resource(rec: AuditRecord) -> dict[str, Any]:
    """A decision or amendment as FHIR R4 Provenance: who (printed name, role), when, the
    meaning (activity) and the reason, the AI model as a second agent (21 CFR 11.50)."""
    target = _identifier("sop", rec.sop_pseudonym) or _identifier("study", rec.study_pseudonym)
    entity = [{"role": "source", "what": {"reference": f"urn:uuid:{rec.event_id}"}}]
    agents: list[dict[str, Any]] = [
        {
            "type": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                        "code": "verifier",
                        "display": "Verifier",
                    }
                ]
            },
            "who": _who(rec),
            **({"role": [{"text": rec.user_role}]} if rec.user_role else {}),
        }
    ]
    if rec.model_id:
        agents.append(
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                            "code": "performer",
                            "display": "Performer",
                        }
                    ]
                },
                "who": {
                    "identifier": {
                        "system": "urn:bedside:model",
                        "value": f"{rec.model_id}@{rec.model_version or ''}",
                    },
                    "display": f"AI model {rec.model}",
                },
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "Provenance",
        "id": f"prov-{rec.event_id}",
        "target": [
            {"identifier": target, "display": f"finding recorded in audit row #{rec.seq}"}
            if target
            else {"display": f"finding recorded in audit row #{rec.seq}"}
        ],
        "recorded": rec.time,
        "activity": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                    "code": "UPDATE" if rec.type == EventType.AMENDMENT else "CREATE",
                }
            ],
            "text": f"{rec.meaning or ''} the AI finding".strip(),
        },
        "agent": agents,
        "entity": entity,
        "signature": [
            {
                "type": [
                    {
                        "system": "urn:iso-astm:E1762-95:2013",
                        "code": "1.2.840.10065.1.12.1.5",
                        "display": "Verification Signature",
                    }
                ],
                "when": rec.time,
                "who": {"display": rec.user_name or rec.user_os},
            }
        ],
    }
    if rec.reason:
        resource["reason"] = [{"text": rec.reason}]
    return resource


def checkpoint_resource(cp: Checkpoint, v: VerifyResult) -> dict[str, Any]:
    """The signed checkpoint and the verification result as a FHIR Basic resource."""
    return {
        "resourceType": "Basic",
        "id": f"checkpoint-{cp.count}",
        "code": {"text": "Bedside audit log checkpoint"},
        "extension": [
            {"url": CHECKPOINT_EXT, "valueString": cp.to_json()},
            {"url": CHECKPOINT_EXT + "-verification", "valueString": json.dumps(v.as_dict())},
        ],
    }


def write_fhir(
    fh: Any,
    records: Iterable[AuditRecord],
    *,
    log_id: str,
    site_name: str,
    cp: Checkpoint,
    v: VerifyResult,
) -> Iterator[int]:
    """A FHIR R4 Bundle (type collection), streamed entry by entry."""
    head = {
        "resourceType": "Bundle",
        "type": "collection",
        "identifier": {"system": "urn:bedside:audit-log", "value": log_id},
        "timestamp": cp.time,
    }
    fh.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "entry": [\n')
    first = {
        "fullUrl": _urn("checkpoint", f"{log_id}/{cp.count}/{cp.time}"),
        "resource": checkpoint_resource(cp, v),
    }
    fh.write(json.dumps(first, ensure_ascii=False))
    for n, rec in enumerate(records, 1):
        entry = {
            "fullUrl": f"urn:uuid:{rec.event_id}",
            "resource": audit_event_resource(rec, site_name),
        }
        fh.write(",\n" + json.dumps(entry, ensure_ascii=False))
        if rec.type in (EventType.DECISION, EventType.AMENDMENT):
            prov = provenance_resource(rec)
            fh.write(
                ",\n"
                + json.dumps(
                    {"fullUrl": _urn("provenance", rec.event_id), "resource": prov},
                    ensure_ascii=False,
                )
            )
        yield n
    fh.write("\n]}\n")


# ------------------------------------------------------------------------------- driver


def export_report(
    settings: Settings,
    fmt: str,
    path: Path | str,
    filters: Filters | None = None,
    *,
    cancel: Callable[[], bool] | None = None,
    log: AuditLog | None = None,
    overwrite: bool = True,
) -> Generator[tuple[int, int], None, ExportResult]:
    """Export the (filtered) log; yields ``(done, total)``, returns the :class:`ExportResult`.

    ``result = yield from export_report(...)`` or :func:`export` for the blocking form. The
    target and its checkpoint file pass :func:`check_output_path` first (nothing is written to
    the log before). ``overwrite`` defaults to True for callers that asked the user already (the
    GUI's save dialog confirms); the CLI passes False unless ``--force``.

    A read-only log is refused (nothing written): an export must sign a checkpoint into the log
    and record itself there, so a report from a log that cannot take them would carry a
    checkpoint nobody can find later. Verify and browse a read-only log instead, or export from
    a writable copy of the data folder.
    """
    if fmt not in FORMATS:
        raise AuditError(f"Unknown export format '{fmt}' (use pdf, csv or json).")
    out = Path(path)
    if not out.parent.is_dir():
        raise AuditError(f"Cannot write the report: folder {out.parent} does not exist.")
    cp_path = checkpoint_path_for(out)
    check_output_path(settings, out, overwrite=overwrite)
    check_output_path(settings, cp_path, overwrite=overwrite)
    filters = filters or Filters()
    own = log is None
    if log is None:
        try:
            audit = AuditLog.open(settings)
        except AuditWriteError as exc:
            if isinstance(exc, AuditLogMissingError):
                raise
            raise AuditWriteError(
                f"No report was written: an export signs a checkpoint into the audit log and "
                f"records itself there, and the log cannot be written ({exc}). `bedside audit "
                "verify` and `bedside audit show` work on a read-only log; to export from a "
                "read-only copy, copy the whole data folder somewhere writable and point "
                "BEDSIDE_DATA_DIR at it."
            ) from exc
    else:
        audit = log
    tmp = out.with_name(f".{out.name}.{secrets.token_hex(4)}.partial")

    def check_cancel() -> None:
        if cancel is not None and cancel():
            raise ExportCancelledError("The export was cancelled; no file was written.")

    try:
        yield 0, TOTAL
        verification = verify_log(audit)
        check_cancel()
        yield 50, TOTAL
        cp = audit.checkpoint()
        rows = audit.count(filters)
        site = settings.values.audit.site_name
        try:
            if fmt == "pdf":
                from viewer.audit.report import ReportScope, iter_build_pdf

                records: list[AuditRecord] = []
                for rec in audit.iter_records(filters):
                    records.append(rec)
                    if len(records) % 2000 == 0:
                        check_cancel()
                        yield 50 + 150 * len(records) // max(rows, 1), TOTAL
                scope = ReportScope(
                    site_name=site,
                    app_version=__version__,
                    generated=utc_now_text(),
                    log_path=str(audit.path),
                    log_id=audit.log_id,
                    filters=filters.describe(),
                    checkpoint=cp,
                    checkpoint_file=str(cp_path),
                    verification=verification,
                )
                for step, steps in iter_build_pdf(tmp, scope, records, cancel=cancel):
                    yield 200 + 750 * step // max(steps, 1), TOTAL
            else:
                with tmp.open(
                    "w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline=""
                ) as fh:
                    if fmt == "csv":
                        steps_iter = write_csv(fh, audit.iter_records(filters))
                    else:
                        steps_iter = write_fhir(
                            fh,
                            audit.iter_records(filters),
                            log_id=audit.log_id,
                            site_name=site,
                            cp=cp,
                            v=verification,
                        )
                    for n in steps_iter:
                        if n % 1000 == 0:
                            check_cancel()
                            yield 50 + 900 * n // max(rows, 1), TOTAL
                    fh.flush()
                    os.fsync(fh.fileno())
            check_cancel()
            digest = outputs.file_sha256(tmp)
            check_output_path(settings, out, overwrite=overwrite)  # again: it may have changed
            check_output_path(settings, cp_path, overwrite=overwrite)
            _write_atomically(cp_path, cp.to_json().encode("utf-8"))
            tmp.replace(out)
        except OSError as exc:
            raise AuditError(f"Cannot write the report to {out}: {exc.strerror}.") from exc
        try:
            record = audit.append(
                AuditEvent(
                    type=EventType.REPORT_EXPORTED,
                    outcome="success",
                    detail={
                        "format": fmt,
                        "file": out.name,
                        "sha256": digest,
                        "rows": rows,
                        "filters": filters.as_dict(),
                        "verification": {
                            "ok": verification.ok,
                            "rows": verification.rows,
                            "first_bad_seq": verification.first_bad_seq,
                        },
                        "checkpoint": {
                            "log_id": cp.log_id,
                            "count": cp.count,
                            "head_hash": cp.head_hash,
                            "time": cp.time,
                            "key_fingerprint": cp.key_fingerprint,
                        },
                    },
                )
            )
        except AuditWriteError as exc:
            out.unlink(missing_ok=True)
            cp_path.unlink(missing_ok=True)
            raise AuditWriteError(
                f"The report was not kept because its export could not be recorded in the audit "
                f"log: {exc}"
            ) from exc
        yield TOTAL, TOTAL
        return ExportResult(out, fmt, rows, digest, cp, cp_path, verification, record)
    finally:
        tmp.unlink(missing_ok=True)
        if own:
            audit.close()


def export(
    settings: Settings, fmt: str, path: Path | str, filters: Filters | None = None, **kwargs: Any
) -> ExportResult:
    """Blocking form of :func:`export_report`."""
    gen = export_report(settings, fmt, path, filters, **kwargs)
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            result: ExportResult = stop.value
            return result
