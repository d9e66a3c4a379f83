"""Signed change records (issue 16 item 4): every activation, rollback and site amendment.

A change record is the electronic record of one controlled change to how the AI decides (21 CFR
11.10(e), 11.50; the FDA's PCCP guidance asks for the description, the evidence it rests on, the
impact and the approval): the model id; the version and bundle digest before and after; every
label's effective threshold before and after (the manifest's, or the site threshold that applies);
the evidence (the SHA-256 of the comparison or recalibration report, and its kind); the rationale;
the approvers (OS account, printed name, role, UTC time, meaning "approved"); when it was made.

It is signed with the installation key (ECDSA P-256 over its canonical JSON, the key and scheme
of the audit checkpoints) and the signature carries the public key, so a record exported by
``bedside model history --format json`` can be checked outside Bedside and outside the log. In
the log it is a ``change_record`` row (detail: the record, the signature and the record's
SHA-256), hash-chained like every row and written in the same transaction as the act it records
(``viewer.bundle.store`` for activation and rollback, ``viewer.session.site_thresholds`` for site
amendments). A ``proposed`` record is an activation waiting for its second approver
(``viewer.session.change_control``); the act itself writes the ``applied`` record that names it.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from viewer.audit.chain import canonical_json, canonical_sha256
from viewer.audit.checkpoints import InstallationKey, embedded_signature_valid
from viewer.audit.events import AuditEvent, AuditRecord, EventType
from viewer.audit.identity import User
from viewer.audit.query import utc_now_text

__all__ = [
    "CHANGE_FORMAT",
    "Approval",
    "ChangeEntry",
    "ChangeRecord",
    "ChangeRequest",
    "Evidence",
    "ModelSide",
    "SignedChange",
    "approval_of",
    "change_entries",
    "change_event",
    "sign_change",
]

CHANGE_FORMAT: Final = "bedside-change-record-v1"
Action = Literal["activate", "rollback", "site_threshold_set", "site_threshold_carry_over"]
EvidenceKind = Literal["comparison", "recalibration", "site_amendment"]
_SHA256 = r"^[0-9a-f]{64}$"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSide(_Frozen):
    """One side of a change: a version and the SHA-256 of its bundle file."""

    version: str
    digest: Annotated[str, Field(pattern=_SHA256)]


class Evidence(_Frozen):
    """What the change rests on: the SHA-256 of the report (canonical JSON; for a report file,
    ``file_sha256`` is the digest of its bytes, so ``sha256sum`` can match it)."""

    kind: EvidenceKind
    sha256: Annotated[str, Field(pattern=_SHA256)]
    file_sha256: Annotated[str, Field(pattern=_SHA256)] | None = None
    file_name: str | None = None


class Approval(_Frozen):
    """One person's approval (21 CFR 11.50: printed name, date and time, meaning)."""

    user_id: str  # the OS account, as in every audit row
    printed_name: str  # not "name": the audit log drops detail keys called that (rows._redact)
    role: str
    time: str
    meaning: Literal["approved"] = "approved"


class ChangeRecord(_Frozen):
    format: Literal["bedside-change-record-v1"] = CHANGE_FORMAT
    record_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    action: Action
    status: Literal["applied", "proposed"] = "applied"
    model_id: str
    before: ModelSide | None  # None: the model had no active version
    after: ModelSide
    thresholds_before: dict[str, float]
    thresholds_after: dict[str, float]
    evidence: Evidence | None = None
    rationale: str = ""
    approvers: tuple[Approval, ...]
    second_approver: str | None = None  # the OS account that must approve a proposal
    proposal: str | None = None  # record_id of the proposal this act completes
    created_at: str

    def payload(self) -> bytes:
        return canonical_json(self.model_dump(mode="json")).encode("utf-8")

    @property
    def sha256(self) -> str:
        return canonical_sha256(self.model_dump(mode="json"))


class Signature(_Frozen):
    key_fingerprint: str
    public_key_pem: str
    value: str  # base64 DER ECDSA-SHA256 over ChangeRecord.payload()


class SignedChange(_Frozen):
    record: ChangeRecord
    signature: Signature

    def signature_valid(self) -> bool:
        """The signature matches the record under the embedded key, whose fingerprint matches."""
        sig = self.signature
        return embedded_signature_valid(
            sig.public_key_pem, sig.key_fingerprint, self.record.payload, sig.value
        )

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


@dataclass(frozen=True)
class ChangeRequest:
    """What people bring to an activation: the evidence, why, who approved (in order)."""

    evidence: Evidence | None = None
    rationale: str = ""
    approvers: tuple[Approval, ...] = ()
    proposal: str | None = None


def approval_of(user: User, time: str | None = None) -> Approval:
    return Approval(
        user_id=user.os_account,
        printed_name=user.name,
        role=user.role,
        time=time or utc_now_text(),
    )


def sign_change(record: ChangeRecord, key_path: Path) -> SignedChange:
    """Sign with the installation key (created on first use, as for checkpoints)."""
    key = InstallationKey.load_or_create(key_path)
    value = base64.b64encode(key.sign(record.payload())).decode("ascii")
    return SignedChange(
        record=record,
        signature=Signature(
            key_fingerprint=key.fingerprint, public_key_pem=key.public_pem, value=value
        ),
    )


def change_event(signed: SignedChange, *, user: User | None = None) -> AuditEvent:
    """The ``change_record`` row of a signed record (``user`` None: the log's current user)."""
    rec = signed.record
    return AuditEvent(
        type=EventType.CHANGE_RECORD,
        outcome="success",
        user=user,
        model_id=rec.model_id,
        model_version=rec.after.version,
        bundle_digest=rec.after.digest,
        reason=rec.rationale or None,
        detail={**signed.as_dict(), "record_sha256": rec.sha256},
    )


# ----------------------------------------------------------------------------- reading back


@dataclass(frozen=True)
class ChangeEntry:
    """A ``change_record`` row, read back and checked."""

    seq: int
    time: str
    row_hash: str
    signed: SignedChange | None  # None: the detail is not a change record
    signature_ok: bool
    chain_ok: bool
    matches_row: bool  # the row's model, version and digest are the record's
    own_key: bool | None  # signed by this installation's key (None: key unknown here)
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def verified(self) -> bool:
        return self.signed is not None and self.signature_ok and self.chain_ok and self.matches_row

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "row_hash": self.row_hash,
            "verified": self.verified,
            "signature_ok": self.signature_ok,
            "chain_ok": self.chain_ok,
            "matches_row": self.matches_row,
            "signed_by_this_installation": self.own_key,
            "problems": list(self.problems),
            **(self.signed.as_dict() if self.signed else {}),
            "record_sha256": self.signed.record.sha256 if self.signed else None,
        }


def _entry(
    rec: AuditRecord, *, first_bad_seq: int | None, chain_ok: bool, own: str | None
) -> ChangeEntry:
    problems: list[str] = []
    chain = chain_ok or (first_bad_seq is not None and rec.seq < first_bad_seq)
    if not chain:
        problems.append("the audit chain fails at or before this row")
    detail = rec.detail
    try:
        signed = SignedChange.model_validate(
            {"record": detail.get("record"), "signature": detail.get("signature")}
        )
    except ValidationError:
        problems.append("the row does not hold a readable change record")
        return ChangeEntry(rec.seq, rec.time, rec.hash, None, False, chain, False, None,
                           tuple(problems))  # fmt: skip
    ok = signed.signature_valid()
    if not ok:
        problems.append("the signature does not match the record")
    r = signed.record
    matches = (rec.model_id, rec.model_version, rec.bundle_digest) == (
        r.model_id,
        r.after.version,
        r.after.digest,
    ) and detail.get("record_sha256") == r.sha256
    if not matches:
        problems.append("the row's model, version or digest differ from the signed record")
    own_key = None if own is None else signed.signature.key_fingerprint == own
    return ChangeEntry(rec.seq, rec.time, rec.hash, signed, ok, chain, matches, own_key,
                       tuple(problems))  # fmt: skip


def change_entries(
    records: Iterable[AuditRecord],
    *,
    chain_ok: bool = True,
    first_bad_seq: int | None = None,
    installation_key_fingerprint: str | None = None,
    model_id: str | None = None,
) -> list[ChangeEntry]:
    """Every ``change_record`` row (of ``model_id``) in order, each checked: its signature, its
    place in the chain (``chain_ok``/``first_bad_seq`` from :func:`viewer.audit.verify_log`)
    and that the row's own columns name what the record names."""
    return [
        _entry(
            rec, first_bad_seq=first_bad_seq, chain_ok=chain_ok, own=installation_key_fingerprint
        )
        for rec in sorted(records, key=lambda r: r.seq)
        if rec.type == EventType.CHANGE_RECORD and (model_id is None or rec.model_id == model_id)
    ]
