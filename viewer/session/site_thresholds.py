"""Site thresholds: local recalibration and the site amendment it writes (issue 16 item 3).

**Local reference standard.** Per reading (a ``decision`` row and the amendments that correct
it), the final clinician finding is the latest row's ``clinician_finding`` (``label:
positive|negative``) and the AI score is the decision row's own ``score``, made by the bundle
named in the same row. Only readings scored by the very bundle (digest) being recalibrated count.
Those decisions are a reference standard with errors of their own (``REFERENCE_CAVEAT``), and
every report says so.

**The site amendment** is a JSON record tied to one bundle digest: model id, version, digest,
label, the manifest's and the previous threshold, the new threshold, the recalibration report's
SHA-256, the number of local cases, who (a named user) and when. It is kept with that version's
entry in the model store's signed index (``ModelStore.set_site_amendment``; the index signature
covers it) and recorded as a ``site_threshold_set`` audit row whose detail holds the whole record
and its SHA-256 (the canonical-JSON digest, so a change record can cite it).

**Lifecycle.** An amendment applies exactly while its digest is the active version
(:func:`site_overrides`, called by ``open_model``): activating another version leaves that
version at its manifest thresholds (the amendment is invalidated for it), until a threshold is
re-derived on its own local cases or carried over explicitly (:func:`carry_over`, a new
amendment for the new digest that names the one it copies); rolling back makes the stored
record apply again, byte for byte, since nothing ever rewrites it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from viewer.config import Settings
from viewer.errors import BedsideError
from viewer.session.reading import parse_finding

if TYPE_CHECKING:
    from viewer.audit.events import AuditEvent, AuditRecord
    from viewer.audit.identity import User
    from viewer.audit.store import AuditLog
    from viewer.bundle.store import ModelStore
    from viewer.inference.postprocess import SiteThreshold

__all__ = [
    "AMENDMENT_FORMAT",
    "REPORT_FORMAT",
    "LocalCases",
    "Recalibration",
    "amendment_sha256",
    "apply_recalibration",
    "carry_over",
    "local_cases",
    "recalibrate",
    "site_overrides",
    "threshold_rows",
]

AMENDMENT_FORMAT = "bedside-site-amendment-v1"
REPORT_FORMAT = "bedside-recalibration-report-v1"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def amendment_sha256(record: dict[str, Any]) -> str:
    """SHA-256 of a record's canonical JSON (how an amendment or report is cited)."""
    from viewer.audit.chain import canonical_sha256

    return canonical_sha256(record)


@dataclass
class LocalCases:
    """One label's local cases for one bundle digest: scores and final clinician findings."""

    label: str
    bundle_digest: str
    scores: list[float] = field(default_factory=list)
    truth: list[bool] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)

    @property
    def positives(self) -> int:
        return sum(self.truth)


def _in_window(when: str, since: str | None, until: str | None) -> bool:
    day = when[:10]
    return (since is None or day >= since) and (until is None or day <= until)


def local_cases(
    records: Iterable[AuditRecord],
    *,
    label: str,
    bundle_digest: str,
    since: str | None = None,
    until: str | None = None,
) -> LocalCases:
    """The readings decided on ``label`` after a score by ``bundle_digest`` (window by the
    decision's UTC date, both ends included). ``records`` must hold every decision and
    amendment row (an amendment outside the window still corrects a reading inside it)."""
    from viewer.audit.stats import effective_decisions

    decisions, _ = effective_decisions(records)
    out = LocalCases(label=label, bundle_digest=bundle_digest)
    for rec in sorted(decisions, key=lambda r: r.seq):
        finding = parse_finding(rec.clinician_finding)
        if (
            rec.outcome != "success"
            or rec.bundle_digest != bundle_digest
            or rec.score is None
            or finding is None
            or finding[0] != label
            or not _in_window(rec.time, since, until)
        ):
            continue
        out.scores.append(float(rec.score))
        out.truth.append(finding[1])
        out.seqs.append(int(rec.seq))
    return out


# ----------------------------------------------------------------------------- the store side


def site_overrides(
    store: ModelStore, model_id: str, version: str, digest: str
) -> dict[str, SiteThreshold]:
    """The site thresholds that apply to the loaded bundle: amendments kept with its version
    whose digest is the loaded one (any other is ignored)."""
    from viewer.inference.postprocess import SiteThreshold

    out: dict[str, SiteThreshold] = {}
    for label, rec in store.site_amendments(model_id, version).items():
        if rec.get("bundle_digest") != digest or rec.get("format") != AMENDMENT_FORMAT:
            continue
        who = rec.get("set_by", {})
        out[label] = SiteThreshold(
            threshold=float(rec["threshold"]),
            manifest_threshold=float(rec["manifest_threshold"]),
            set_at=str(rec["set_at"]),
            set_by=str(who.get("name") or who.get("os_account") or "?"),
            cases=int(rec["cases"]),
            amendment_sha256=amendment_sha256(rec),
        )
    return out


def _entry(store: ModelStore, model_id: str | None) -> tuple[str, str, str]:
    """(id, active version, digest) of the model to recalibrate."""
    active = [e for e in store.list() if e.active and (model_id is None or e.id == model_id)]
    if not active:
        raise BedsideError(
            f"No active version of model '{model_id}' is installed."
            if model_id
            else "No model is installed and active; recalibration needs the store's model."
        )
    if len(active) > 1:
        raise BedsideError(
            "Several models are active: name one with --model ("
            + ", ".join(e.id for e in active)
            + ")."
        )
    e = active[0]
    return e.id, e.version, e.digest


def _named(settings: Settings, user: User | None) -> User:
    from viewer.audit.identity import IdentityRequiredError, require_named_user

    who = require_named_user(settings, user)
    if not who.name.strip():
        raise IdentityRequiredError(
            "A site threshold is a signed change to how the model decides: set your printed "
            "name (and role) in the user settings first. Nothing was changed."
        )
    return who


def _day(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise BedsideError(f"'{value}' is not a date (YYYY-MM-DD).") from exc


# ----------------------------------------------------------------------------- recalibration


@dataclass(frozen=True)
class Recalibration:
    """A proposed site threshold and the report it rests on (``report_sha256`` cites it)."""

    model_id: str
    model_version: str
    bundle_digest: str
    label: str
    report: dict[str, Any]

    @property
    def report_sha256(self) -> str:
        return amendment_sha256(self.report)

    @property
    def threshold(self) -> float:
        return float(self.report["proposal"]["threshold"])


def _manifest(store: ModelStore, model_id: str) -> Any:
    from viewer.bundle.loader import verify_bundle

    path = store.active(model_id)
    if path is None:  # pragma: no cover - _entry found it active a moment ago
        raise BedsideError(f"No active version of model '{model_id}' is installed.")
    return verify_bundle(path, store.trust).manifest


def recalibrate(
    settings: Settings,
    log: AuditLog,
    store: ModelStore,
    *,
    label: str,
    target_sensitivity: float,
    since: str | None = None,
    until: str | None = None,
    model_id: str | None = None,
    confidence: float = 0.95,
) -> Recalibration:
    """Propose a site threshold for the active version from local decisions (nothing is
    changed); raises ``RecalibrationRefusedError`` below the minimum positives."""
    from viewer.audit.query import Filters
    from viewer.evaluation.recalibrate import operating_point, propose_threshold
    from viewer.evaluation.stats import DEFAULT_MINIMUM_POSITIVES, REFERENCE_CAVEAT

    since, until = _day(since), _day(until)
    mid, version, digest = _entry(store, model_id)
    manifest = _manifest(store, mid)
    spec = next((s for s in manifest.labels if s.name == label), None)
    if spec is None:
        names = ", ".join(s.name for s in manifest.labels)
        raise BedsideError(f"Model '{mid}' has no label '{label}' (it has: {names}).")
    minimum = DEFAULT_MINIMUM_POSITIVES  # the manifest (closed schema) declares none
    cases = local_cases(
        log.records(Filters(types=("decision", "amendment"))),
        label=label,
        bundle_digest=digest,
        since=since,
        until=until,
    )
    proposal = propose_threshold(
        cases.truth,
        cases.scores,
        target_sensitivity=target_sensitivity,
        confidence=confidence,
        minimum_positives=minimum,
    )
    current = store.site_amendments(mid, version).get(label)
    manifest_sens, manifest_spec, manifest_rate = operating_point(
        cases.truth, cases.scores, float(spec.threshold), confidence
    )
    report = {
        "format": REPORT_FORMAT,
        "model": {"id": mid, "version": version, "bundle_digest": digest},
        "label": label,
        "window": {"from": since, "to": until},
        "target_sensitivity": target_sensitivity,
        "confidence": confidence,
        "minimum_positives": minimum,
        "method": (
            "highest threshold whose exact one-sided Clopper-Pearson lower bound of sensitivity "
            "on the local positive cases meets the target"
        ),
        "proposal": proposal.as_dict(),
        "manifest_threshold": float(spec.threshold),
        "at_manifest_threshold": {
            "sensitivity": manifest_sens.as_dict(),
            "specificity": manifest_spec.as_dict(),
            "alert_rate": manifest_rate,
        },
        "current_site_threshold": current["threshold"] if current else None,
        "case_rows": cases.seqs,
        "reference_standard": REFERENCE_CAVEAT,
        "generated_at": _now(),
    }
    return Recalibration(mid, version, digest, label, report)


def _change_event(
    settings: Settings, user: User, amendment: dict[str, Any], action: str, reason: str
) -> AuditEvent:
    """The signed change record of a site amendment (issue 16 item 4): the label's threshold
    before and after, on one bundle digest, resting on the recalibration report (or, carried
    over, on the amendment it copies)."""
    from viewer.audit.change_record import (
        ChangeRecord,
        Evidence,
        ModelSide,
        approval_of,
        change_event,
        sign_change,
    )
    from viewer.audit.query import utc_now_text

    side = ModelSide(version=amendment["model_version"], digest=amendment["bundle_digest"])
    label = str(amendment["label"])
    carried = amendment.get("carried_over_from")
    evidence = (
        Evidence(kind="site_amendment", sha256=carried["amendment_sha256"])
        if carried
        else Evidence(kind="recalibration", sha256=amendment["report_sha256"])
    )
    record = ChangeRecord(
        action="site_threshold_carry_over" if action == "carried_over" else "site_threshold_set",
        model_id=amendment["model_id"],
        before=side,
        after=side,
        thresholds_before={label: float(amendment["previous_threshold"])},
        thresholds_after={label: float(amendment["threshold"])},
        evidence=evidence,
        rationale=reason,
        approvers=(approval_of(user),),
        created_at=utc_now_text(),
    )
    return change_event(sign_change(record, settings.installation_key_path), user=user)


def _record(
    settings: Settings,
    log: AuditLog,
    user: User,
    amendment: dict[str, Any],
    action: str,
    reason: str,
) -> Any:
    """The ``site_threshold_set`` row and its signed change record, in one transaction."""
    from viewer.audit.events import AuditEvent, EventType

    change = _change_event(settings, user, amendment, action, reason)
    return log.append_all(
        [
            AuditEvent(
                type=EventType.SITE_THRESHOLD_SET,
                outcome="success",
                user=user,
                model_id=amendment["model_id"],
                model_version=amendment["model_version"],
                bundle_digest=amendment["bundle_digest"],
                threshold=float(amendment["threshold"]),
                reason=reason,
                detail={
                    "action": action,
                    "label": amendment["label"],
                    "amendment": amendment,
                    "amendment_sha256": amendment_sha256(amendment),
                    "report_sha256": amendment["report_sha256"],
                },
            ),
            change,
        ]
    )


def _recorder(
    settings: Settings, log: AuditLog, user: User, amendment: dict[str, Any], reason: str
) -> Callable[[], object]:
    return lambda: _record(settings, log, user, amendment, "carried_over", reason)


def apply_recalibration(
    settings: Settings,
    log: AuditLog,
    store: ModelStore,
    recal: Recalibration,
    *,
    user: User | None = None,
) -> dict[str, Any]:
    """Write the site amendment of a proposal (named user required); returns the record."""
    who = _named(settings, user)
    previous = store.site_amendments(recal.model_id, recal.model_version).get(recal.label)
    proposal = recal.report["proposal"]
    amendment: dict[str, Any] = {
        "format": AMENDMENT_FORMAT,
        "model_id": recal.model_id,
        "model_version": recal.model_version,
        "bundle_digest": recal.bundle_digest,
        "label": recal.label,
        "manifest_threshold": recal.report["manifest_threshold"],
        "previous_threshold": (
            previous["threshold"] if previous else recal.report["manifest_threshold"]
        ),
        "threshold": proposal["threshold"],
        "target_sensitivity": recal.report["target_sensitivity"],
        "confidence": recal.report["confidence"],
        "report_sha256": recal.report_sha256,
        "cases": proposal["cases"],
        "positives": proposal["positives"],
        "window": recal.report["window"],
        "set_by": {"name": who.name, "role": who.role, "os_account": who.os_account},
        "set_at": _now(),
        "supersedes": amendment_sha256(previous) if previous else None,
        "carried_over_from": None,
    }
    reason = (
        f"local recalibration: sensitivity >= {recal.report['target_sensitivity']:g} "
        f"(one-sided {recal.report['confidence']:.0%} bound) on {proposal['positives']} local "
        "positive cases"
    )
    store.set_site_amendment(
        recal.model_id,
        recal.model_version,
        recal.label,
        amendment,
        lambda: _record(settings, log, who, amendment, "set", reason),
    )
    return amendment


def carry_over(
    settings: Settings,
    log: AuditLog,
    store: ModelStore,
    *,
    from_version: str,
    model_id: str | None = None,
    user: User | None = None,
) -> list[dict[str, Any]]:
    """Copy the site thresholds of ``from_version`` onto the active version, explicitly: one
    new amendment per label, bound to the active digest and naming the one it copies."""
    who = _named(settings, user)
    mid, version, digest = _entry(store, model_id)
    if from_version == version:
        raise BedsideError(f"{mid} {version} is the active version already.")
    sources = store.site_amendments(mid, from_version)
    if not sources:
        raise BedsideError(f"{mid} {from_version} has no site threshold to carry over.")
    out = []
    for label, src in sorted(sources.items()):
        previous = store.site_amendments(mid, version).get(label)
        amendment = {
            **src,
            "model_version": version,
            "bundle_digest": digest,
            "previous_threshold": previous["threshold"] if previous else src["manifest_threshold"],
            "set_by": {"name": who.name, "role": who.role, "os_account": who.os_account},
            "set_at": _now(),
            "supersedes": amendment_sha256(previous) if previous else None,
            "carried_over_from": {
                "model_version": from_version,
                "bundle_digest": src["bundle_digest"],
                "amendment_sha256": amendment_sha256(src),
            },
        }
        reason = f"site threshold carried over from {mid} {from_version} (not re-derived)"
        store.set_site_amendment(
            mid, version, label, amendment, _recorder(settings, log, who, amendment, reason)
        )
        out.append(amendment)
    return out


def threshold_rows(store: ModelStore, model_id: str | None = None) -> list[dict[str, Any]]:
    """Every kept site amendment with whether it applies now (its version is active)."""
    rows = []
    for entry in store.list():
        if model_id is not None and entry.id != model_id:
            continue
        for label, rec in sorted(store.site_amendments(entry.id, entry.version).items()):
            applies = entry.active and rec.get("bundle_digest") == entry.digest
            rows.append(
                {
                    "model_id": entry.id,
                    "model_version": entry.version,
                    "label": label,
                    "threshold": rec["threshold"],
                    "manifest_threshold": rec["manifest_threshold"],
                    "set_at": rec["set_at"],
                    "set_by": rec["set_by"],
                    "cases": rec["cases"],
                    "carried_over_from": rec.get("carried_over_from"),
                    "amendment_sha256": amendment_sha256(rec),
                    "status": "applies" if applies else "not applied (version not active)",
                }
            )
    return rows
