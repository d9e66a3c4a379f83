"""Change control (issue 16 item 4), Qt-free: activate with evidence and approvers, roll back,
record site amendments, and read the history back, checked.

**Evidence** is a JSON report a person brings: the output of ``bedside model compare --json``
(kind ``comparison``) or ``bedside model recalibrate --json`` (kind ``recalibration``, whose
``report_sha256`` must match its report). The record cites the SHA-256 of the report's canonical
JSON (for a recalibration, the very ``report_sha256`` the site amendment cites) and the SHA-256
of the file's bytes (what ``sha256sum`` prints).

**A second approver** is another person acting under their own OS account: Bedside has no
authentication of its own, and every audit row names the OS account the process runs as plus the
printed name and role from that account's settings (``viewer.audit.identity``). So the second
approval cannot be typed into the first person's command: ``bundle activate ID VERSION
--approver USER_ID`` writes a signed *proposal* (a ``change_record`` row with status
``proposed``, naming USER_ID), and USER_ID, signed in as themselves, runs ``bundle approve
RECORD`` — which checks that the account the process runs as (on POSIX the effective uid's login
name, so a changed ``LOGNAME`` is caught) is that user, that they are not the proposer, that
the proposal's signature holds and that the store is still where the proposal left it; then the
store activates and writes the ``applied`` record naming both approvers, in one transaction.
What this proves is what the OS login proves; a shared account defeats it, and IT should say so
in the site's procedures.

A refusal (the same person twice, the wrong person, a stale proposal, the site rule) is a
``bundle_activated`` row with outcome ``failure`` and code ``change_control``.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from viewer.audit import AuditEvent, AuditLog, EventType, Filters, User, current_user, verify_log
from viewer.audit.chain import canonical_sha256
from viewer.audit.change_record import (
    Approval,
    ChangeEntry,
    ChangeRecord,
    ChangeRequest,
    Evidence,
    ModelSide,
    approval_of,
    change_entries,
    change_event,
    sign_change,
)
from viewer.audit.checkpoints import InstallationKey
from viewer.audit.identity import os_account
from viewer.audit.query import utc_now_text
from viewer.audit.verify import VerifyResult
from viewer.bundle import ModelStore, StoreEntry, verify_bundle
from viewer.bundle.change import effective_thresholds, require_evidence
from viewer.config import Settings
from viewer.errors import AuditError, BedsideError, BundleError
from viewer.session.site_thresholds import REPORT_FORMAT

__all__ = [
    "ActivationOutcome",
    "History",
    "activate",
    "approve",
    "export_history",
    "history",
    "login_account",
    "read_evidence",
    "read_evidence_for",
    "rollback",
]

MAX_EVIDENCE_BYTES = 20 * 1024 * 1024


def read_evidence(path: str | Path) -> Evidence:
    """The evidence a report file gives (its kind and digests), or a clear refusal."""
    p = Path(path)
    data = _read_report_bytes(p)
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BedsideError("The evidence file is not JSON text.", path=p) from exc
    except RecursionError as exc:
        raise BedsideError(
            "The evidence file is nested too deeply to be a report.", path=p
        ) from exc
    if not isinstance(raw, dict):
        raise BedsideError("The evidence file is not a report (a JSON object).", path=p)
    try:
        if isinstance(raw.get("report"), dict) and "report_sha256" in raw:
            kind, digest = "recalibration", canonical_sha256(raw["report"])
            if digest != raw["report_sha256"]:
                raise BedsideError(
                    "The evidence file's report_sha256 does not match its report: it was "
                    "edited after `model recalibrate` wrote it.",
                    path=p,
                )
        elif raw.get("format") == REPORT_FORMAT:
            kind, digest = "recalibration", canonical_sha256(raw)
        elif "noninferiority" in raw and "candidate" in raw:
            kind, digest = "comparison", canonical_sha256(raw)
        else:
            raise BedsideError(
                "The evidence file is neither a comparison (`bedside model compare --json`) nor "
                "a recalibration report (`bedside model recalibrate --json`).",
                path=p,
            )
    except ValueError as exc:  # NaN, infinity or a lone surrogate: not canonical JSON
        raise BedsideError(
            "The evidence file holds a value canonical JSON cannot carry (NaN, infinity or an "
            "unpaired surrogate), so it cannot be signed.",
            path=p,
        ) from exc
    except RecursionError as exc:  # read, but too deep to write back as canonical JSON
        raise BedsideError(
            "The evidence file is nested too deeply to be a report.", path=p
        ) from exc
    return Evidence(
        kind="recalibration" if kind == "recalibration" else "comparison",
        sha256=digest,
        file_sha256=hashlib.sha256(data).hexdigest(),
        file_name=p.name,
    )


def read_evidence_for(log: AuditLog, model_id: str, version: str, path: str | Path) -> Evidence:
    """:func:`read_evidence` for an activation: evidence that cannot be read, or was edited after
    it was written, refuses the activation, recorded like every change-control refusal."""
    try:
        return read_evidence(path)
    except BedsideError as exc:
        raise _refuse(
            log,
            model_id,
            version,
            f"Activation refused: {exc} Nothing was changed.",
            evidence_file=Path(path).name,
        ) from exc


def _read_report_bytes(p: Path) -> bytes:
    """A regular file's bytes, at most ``MAX_EVIDENCE_BYTES``: a FIFO is opened without waiting
    for a writer and, like a device or a folder, refused unread."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(p, flags)
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise BedsideError(
                    "The evidence file is not a regular file (a folder, device or pipe); give "
                    "the report file itself.",
                    path=p,
                )
            data = fh.read(MAX_EVIDENCE_BYTES + 1)
    except OSError as exc:
        raise BedsideError(f"The evidence file cannot be read ({exc.strerror}).", path=p) from exc
    if len(data) > MAX_EVIDENCE_BYTES:
        raise BedsideError("The evidence file is too large to be a report.", path=p)
    return data


def login_account() -> str:
    """The account this process runs as: on POSIX the effective uid's login name (not the
    ``LOGNAME``/``USER`` variables, which anyone can set), elsewhere what the OS reports."""
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, AttributeError):
        return os_account()


@dataclass(frozen=True)
class ActivationOutcome:
    """``activated``: the version is active now; otherwise ``proposal`` awaits ``approver``."""

    activated: bool
    model_id: str
    version: str
    proposal: str | None = None  # record_id of the proposal written
    approver: str | None = None


def _refuse(log: AuditLog, model_id: str, version: str, message: str, **detail: Any) -> BundleError:
    """Record a change-control refusal (best effort is not enough: the write must succeed)."""
    log.append(
        AuditEvent(
            type=EventType.BUNDLE_ACTIVATED,
            outcome="failure",
            model_id=model_id,
            model_version=version,
            reason=message,
            detail={"code": "change_control", **detail},
        )
    )
    return BundleError(message, code="change_control")


def _entry(store: ModelStore, model_id: str, version: str) -> StoreEntry:
    for e in store.list():
        if e.id == model_id and e.version == version:
            return e
    raise BundleError(f"Version {version} of '{model_id}' is not installed.", code="store")


def _active(store: ModelStore, model_id: str) -> StoreEntry | None:
    return next((e for e in store.list() if e.id == model_id and e.active), None)


def _thresholds(store: ModelStore, entry: StoreEntry) -> dict[str, float]:
    labels = verify_bundle(entry.path, store.trust).manifest.labels
    return effective_thresholds(
        labels, store.site_amendments(entry.id, entry.version), entry.digest
    )


def _side(entry: StoreEntry | None) -> ModelSide | None:
    return None if entry is None else ModelSide(version=entry.version, digest=entry.digest)


def activate(
    settings: Settings,
    log: AuditLog,
    store: ModelStore,
    model_id: str,
    version: str,
    *,
    evidence: Evidence | None = None,
    rationale: str = "",
    approver: str | None = None,
    user: User | None = None,
) -> ActivationOutcome:
    """Activate now (one approver), or with ``approver`` write a signed proposal for them."""
    who = user or current_user(settings)
    if approver is None:
        store.activate(
            model_id,
            version,
            change=ChangeRequest(evidence, rationale.strip(), (approval_of(who),)),
        )
        return ActivationOutcome(True, model_id, version)
    approver = approver.strip()
    if not approver or approver == who.os_account:
        raise _refuse(
            log,
            model_id,
            version,
            "Activation refused: the second approver must be another person (another OS "
            f"account than yours, '{who.os_account}'). Nothing was changed.",
            approver=approver,
        )
    if not who.name.strip():
        raise _refuse(
            log,
            model_id,
            version,
            "Activation refused: a change that needs a second approver needs your printed "
            "name first (user settings). Nothing was changed.",
        )
    try:
        require_evidence(settings, evidence)
    except BundleError as exc:
        raise _refuse(log, model_id, version, exc.message) from exc
    target = _entry(store, model_id, version)
    current = _active(store, model_id)
    if current is not None and current.version == version:
        raise BedsideError(f"{model_id} {version} is the active version already.")
    record = ChangeRecord(
        action="activate",
        status="proposed",
        model_id=model_id,
        before=_side(current),
        after=ModelSide(version=version, digest=target.digest),
        thresholds_before=_thresholds(store, current) if current else {},
        thresholds_after=_thresholds(store, target),
        evidence=evidence,
        rationale=rationale.strip(),
        approvers=(approval_of(who),),
        second_approver=approver,
        created_at=utc_now_text(),
    )
    log.append(change_event(sign_change(record, settings.installation_key_path), user=who))
    return ActivationOutcome(False, model_id, version, proposal=record.record_id, approver=approver)


def _proposal(log: AuditLog, ref: str) -> tuple[ChangeEntry, ChangeRecord, list[ChangeEntry]]:
    entries = change_entries(log.records(Filters(types=(EventType.CHANGE_RECORD.value,))))
    ref = ref.strip().lstrip("#")
    found = [
        e
        for e in entries
        if e.signed is not None
        and e.signed.record.status == "proposed"
        and (str(e.seq) == ref or (len(ref) >= 8 and e.signed.record.record_id.startswith(ref)))
    ]
    if len(found) != 1:
        raise BedsideError(
            f"No single proposed activation matches '{ref}' (give its row number or record id, "
            "as `bundle activate --approver` printed it; `bedside model history` lists them)."
        )
    entry = found[0]
    assert entry.signed is not None  # noqa: S101 - filtered above
    return entry, entry.signed.record, entries


def approve(
    settings: Settings,
    log: AuditLog,
    store: ModelStore,
    ref: str,
    *,
    user: User | None = None,
) -> ActivationOutcome:
    """The second approver confirms a proposal as themselves; then the store activates."""
    entry, prop, entries = _proposal(log, ref)
    who = user or current_user(settings)
    mid, version = prop.model_id, prop.after.version

    def refuse(message: str) -> BundleError:
        return _refuse(log, mid, version, message, proposal=prop.record_id)

    login = login_account()
    if who.os_account != login:
        raise refuse(
            f"Approval refused: this process runs as '{login}', but the user recorded would be "
            f"'{who.os_account}'. Sign in as yourself to approve. Nothing was changed."
        )
    if not entry.signature_ok or not entry.matches_row:
        raise refuse("Approval refused: the proposal's signature does not hold. " + _UNCHANGED)
    if who.os_account != prop.second_approver:
        raise refuse(
            f"Approval refused: this activation awaits approval by '{prop.second_approver}', not "
            f"by '{who.os_account}'. " + _UNCHANGED
        )
    if who.os_account in {a.user_id for a in prop.approvers}:
        raise refuse("Approval refused: the same person cannot approve twice. " + _UNCHANGED)
    if not who.name.strip():
        raise refuse("Approval refused: set your printed name (user settings) first. " + _UNCHANGED)
    if any(e.signed and e.signed.record.proposal == prop.record_id for e in entries):
        raise refuse("Approval refused: this proposal was carried out already. " + _UNCHANGED)
    current, target = _active(store, mid), _entry(store, mid, version)
    if _side(current) != prop.before or target.digest != prop.after.digest:
        raise refuse(
            "Approval refused: the model store changed since the proposal was made (another "
            "version was activated, or the candidate was reinstalled); propose it again. "
            + _UNCHANGED
        )
    approvers: tuple[Approval, ...] = (*prop.approvers, approval_of(who))
    store.activate(
        mid,
        version,
        change=ChangeRequest(prop.evidence, prop.rationale, approvers, prop.record_id),
    )
    return ActivationOutcome(True, mid, version, proposal=prop.record_id)


_UNCHANGED = "Nothing was changed."


def rollback(
    settings: Settings,
    store: ModelStore,
    model_id: str,
    *,
    rationale: str = "",
    user: User | None = None,
) -> str:
    """Back to the previously active version, with its signed change record; returns it."""
    who = user or current_user(settings)
    change = ChangeRequest(rationale=rationale.strip(), approvers=(approval_of(who),))
    return store.rollback(model_id, change=change)


# ----------------------------------------------------------------------------- history


@dataclass(frozen=True)
class History:
    """Every change record (of one model), in order, each checked; and the log's verification."""

    entries: list[ChangeEntry]
    verification: VerifyResult
    installation_key: str | None  # this installation's key fingerprint, when it has one

    def as_dict(self) -> dict[str, Any]:
        v = self.verification
        return {
            "format": "bedside-change-history-v1",
            "log_id": v.log_id,
            "chain": {
                "ok": v.ok,
                "rows": v.rows,
                "head_hash": v.head_hash,
                "first_bad_seq": v.first_bad_seq,
                "problems": list(v.problems),
            },
            "installation_key_fingerprint": self.installation_key,
            "records": [e.as_dict() for e in self.entries],
        }


def history(settings: Settings, log: AuditLog, *, model_id: str | None = None) -> History:
    """Verify the whole chain, then read and check every change record (writes nothing)."""
    result = verify_log(log)
    try:
        key = InstallationKey.load_public(settings.installation_key_path)
    except AuditError:
        key = None
    fp = key.fingerprint if key is not None else None
    entries = change_entries(
        log.records(Filters(types=(EventType.CHANGE_RECORD.value,))),
        chain_ok=result.ok,
        first_bad_seq=result.first_bad_seq,
        installation_key_fingerprint=fp,
        model_id=model_id,
    )
    return History(entries, result, fp)


def export_history(
    settings: Settings,
    log: AuditLog,
    *,
    fmt: str,
    path: Path | None,
    model_id: str | None = None,
    overwrite: bool = False,
) -> tuple[History, bytes | None]:
    """The history as JSON (returned when ``path`` is None) or written to ``path`` (JSON or
    PDF), through the one policy for files Bedside writes."""
    from viewer import __version__
    from viewer.outputs import write_atomically

    found = history(settings, log, model_id=model_id)
    if fmt == "json":
        data = (json.dumps(found.as_dict(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        if path is None:
            return found, data

        def write(fh: BinaryIO) -> None:
            fh.write(data)

    else:
        if path is None:
            raise BedsideError("A PDF needs a file: add -o FILE.pdf.")
        from viewer.audit.change_report import write_history_pdf

        def write(fh: BinaryIO) -> None:
            write_history_pdf(
                fh,
                found.entries,
                found.verification,
                generated=utc_now_text(),
                app_version=__version__,
                site_name=settings.values.audit.site_name,
                model_id=model_id,
                installation_key=found.installation_key,
            )

    write_atomically(path, write, settings=settings, overwrite=overwrite, what="history")
    return found, None
