"""The model store's side of change control (issue 16 item 4): the site rule and the record.

Every activation and rollback the store makes with an audit log attached writes a signed
``change_record`` row (:mod:`viewer.audit.change_record`) in the same transaction as its
``bundle_activated`` / ``bundle_rolled_back`` row: either both are in the log or neither is, and
then nothing was activated. The record is built and signed *before* the store changes anything,
so a record that cannot be made refuses the act.

The site rule (``[change_control]`` in the site file, IT's, read-only to users) is enforced here,
below every caller (the commands, the model manager, ``bundle install --activate``):
``require_record`` refuses an activation whose request carries no evidence digest;
``second_approver`` refuses one without two approvers, distinct OS accounts, each with a printed
name. A rollback is never refused by the rule: it returns to the version that was active before,
and blocking it in an emergency would keep a failing model in use; it is recorded like any
activation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from viewer.audit.change_record import (
    Action,
    ChangeRecord,
    ChangeRequest,
    Evidence,
    ModelSide,
    approval_of,
    change_event,
    sign_change,
)
from viewer.audit.events import AuditEvent
from viewer.audit.identity import current_user
from viewer.audit.query import utc_now_text
from viewer.config import Settings
from viewer.errors import AuditError, BundleError

__all__ = [
    "change_required",
    "effective_thresholds",
    "require_change",
    "require_evidence",
    "store_change_event",
]

REFUSED = "Activation refused by this site's change-control rule: "
KEPT = " The version stays installed but not active; nothing else was changed."


def change_required(settings: Settings) -> bool:
    """Does the site require a change record (or a second approver) for an activation?"""
    cc = settings.values.change_control
    return cc.require_record or cc.second_approver


def require_evidence(settings: Settings, evidence: Evidence | None) -> None:
    """Refuse an activation without evidence when the site requires a record."""
    if settings.values.change_control.require_record and evidence is None:
        raise BundleError(
            REFUSED + "a signed change record citing its evidence is required. Activate with "
            "`bedside bundle activate ID VERSION --evidence REPORT.json` (the JSON of `bedside "
            "model compare` or `model recalibrate`)." + KEPT,
            code="change_control",
        )


def require_change(settings: Settings, request: ChangeRequest | None) -> None:
    """Refuse (``BundleError(code="change_control")``) an activation the site rule forbids."""
    request = request or ChangeRequest()
    require_evidence(settings, request.evidence)
    if settings.values.change_control.second_approver:
        accounts = {a.user_id for a in request.approvers}
        if len(accounts) < 2 or len(request.approvers) != len(accounts):
            raise BundleError(
                REFUSED + "a second approver (another named user, signed in as themselves) is "
                "required. Name them with --approver USER_ID; they confirm with `bedside bundle "
                "approve`." + KEPT,
                code="change_control",
            )
        unnamed = [a.user_id for a in request.approvers if not a.printed_name.strip()]
        if unnamed:
            raise BundleError(
                REFUSED + f"every approver needs a printed name ({', '.join(unnamed)} has "
                "none: set it in the user settings)." + KEPT,
                code="change_control",
            )


def effective_thresholds(
    labels: Iterable[Any], amendments: Mapping[str, Mapping[str, Any]], digest: str
) -> dict[str, float]:
    """Each label's threshold as scored: the manifest's, or the site threshold kept for this
    very digest (``viewer.session.site_thresholds.site_overrides`` applies the same rule)."""
    out = {str(spec.name): float(spec.threshold) for spec in labels}
    for label, rec in amendments.items():
        if rec.get("bundle_digest") == digest and "threshold" in rec:
            out[label] = float(rec["threshold"])
    return out


def store_change_event(
    settings: Settings,
    *,
    action: Action,
    model_id: str,
    before: ModelSide | None,
    after: ModelSide,
    thresholds_before: dict[str, float],
    thresholds_after: dict[str, float],
    request: ChangeRequest | None,
) -> AuditEvent:
    """The signed ``change_record`` row of one store act; a failure to sign refuses the act."""
    request = request or ChangeRequest()
    approvers = request.approvers or (approval_of(current_user(settings)),)
    record = ChangeRecord(
        action=action,
        model_id=model_id,
        before=before,
        after=after,
        thresholds_before=thresholds_before,
        thresholds_after=thresholds_after,
        evidence=request.evidence,
        rationale=request.rationale,
        approvers=approvers,
        proposal=request.proposal,
        created_at=utc_now_text(),
    )
    try:
        signed = sign_change(record, settings.installation_key_path)
    except AuditError as exc:
        raise BundleError(
            f"The change record could not be signed: {exc.message} Nothing was changed.",
            code="store",
        ) from exc
    return change_event(signed)
