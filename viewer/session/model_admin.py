"""Model administration for IT, Qt-free: list the store, install, activate, roll back, re-test.

Why: which model scores a patient's image is a clinical-safety decision, so every change goes
through ``viewer.bundle.ModelStore`` with the audit log attached (the same code path as ``bedside
bundle install/activate/rollback``), and the core records it. These functions run in a worker
(they verify signatures, and installing or re-testing imports torch and takes seconds); they
return plain data, which the model manager window (``viewer.ui.qt_model_manager``) shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, TypeVar

from viewer.audit import AuditLog
from viewer.bundle import (
    ModelCard,
    ModelStore,
    StoreEntry,
    TrustStore,
    build_card,
    verify_bundle,
    version_key,
)
from viewer.config import Settings
from viewer.errors import BedsideError, printable

T = TypeVar("T")

# "passed": at install, or re-run now; "failed": a re-run failed; "refused": the stored file no
# longer verifies (changed, or its key is no longer trusted).
SelfTestState = Literal["passed", "failed", "refused"]
STORED_FILE_CHANGED = "The stored file changed since it was installed."


@dataclass(frozen=True)
class BundleRow:
    """One installed bundle as the table shows it (plain data, built off the GUI thread)."""

    model_id: str
    version: str
    name: str
    creator: str
    key_fingerprint: str
    installed_at: str  # UTC, from the store
    active: bool
    path: Path
    selftest: SelfTestState = "passed"
    shadow: bool = False  # the model's shadow candidate (viewer.session.shadow)
    checked_now: bool = False
    problem: str = ""  # why it is refused, in the core's words
    card: ModelCard | None = None  # None when the stored file no longer verifies


@dataclass(frozen=True)
class StoreView:
    """What the window shows: the rows plus the trust store it verified them against."""

    rows: list[BundleRow]
    keys: list[tuple[str, str, str]]  # (source, fingerprint, file) of each trusted key
    problems: list[str]  # key files that could not be read


@dataclass(frozen=True)
class SelfTestOutcome:
    passed: bool
    max_abs_diff: float  # largest difference of the model outputs from the stored ones


def _row(entry: StoreEntry, trust: TrustStore) -> BundleRow:
    """A store entry plus its manifest, re-verified (signature + schema, no torch)."""
    base = BundleRow(
        model_id=entry.id,
        version=entry.version,
        name=entry.name,
        creator="",
        key_fingerprint=entry.key_fingerprint,
        installed_at=entry.installed_at,
        active=entry.active,
        path=entry.path,
        shadow=entry.shadow,
    )
    try:
        verified = verify_bundle(entry.path, trust)
    except BedsideError as exc:
        return replace(base, selftest="refused", problem=str(exc))
    card = build_card(verified.manifest)
    changed = verified.digest != entry.digest
    return replace(
        base,
        creator=card.creator_text,
        key_fingerprint=verified.key_fingerprint,
        selftest="refused" if changed else "passed",
        problem=STORED_FILE_CHANGED if changed else "",
        card=card,
    )


def sort_rows(rows: list[BundleRow]) -> list[BundleRow]:
    """By model id, then SemVer precedence (1.0.0-rc.1 before 1.0.0)."""
    return sorted(rows, key=lambda r: (r.model_id, version_key(r.version)))


def list_bundles(settings: Settings) -> StoreView:
    """The store's bundles as rows (runs in a worker: every stored file is re-verified)."""
    store = ModelStore(settings)
    trust = store.trust
    keys = [(k.source, k.fingerprint, k.path) for k in trust.keys]
    rows = sort_rows([_row(entry, trust) for entry in store.list()])
    return StoreView(rows=rows, keys=keys, problems=list(trust.problems))


def _with_store(settings: Settings, act: Callable[[ModelStore], T]) -> T:
    """Run one store action with the audit log attached, so the core records it."""
    audit = AuditLog.open(settings)
    try:
        return act(ModelStore(settings, audit=audit))
    finally:
        audit.close()


def install_bundle(
    settings: Settings, path: Path, *, allow_downgrade: bool, shadow: bool = False
) -> tuple[str, str, bool]:
    """Install (verify, load, self-test, copy, audit); returns (id, version, now active).
    ``shadow``: as the model's shadow candidate (scored beside the active one, never shown)."""

    def act(store: ModelStore) -> tuple[str, str, bool]:
        loaded = store.install(path, allow_downgrade=allow_downgrade, shadow=shadow)
        m = loaded.manifest
        active = any(e.id == m.id and e.version == m.version and e.active for e in store.list())
        return m.id, m.version, active

    return _with_store(settings, act)


def activate_bundle(settings: Settings, model_id: str, version: str) -> None:
    """Make ``version`` the active one (re-verified first; audited)."""
    _with_store(settings, lambda store: store.activate(model_id, version))


def stop_shadow(settings: Settings, model_id: str) -> str:
    """End shadow scoring of ``model_id`` (audited); returns the candidate's version."""
    return _with_store(settings, lambda store: store.stop_shadow(model_id))


def rollback_bundle(settings: Settings, model_id: str) -> str:
    """Back to the previously active version (audited); returns that version."""
    return _with_store(settings, lambda store: store.rollback(model_id))


@dataclass(frozen=True)
class ChangeRow:
    """One signed change record of a model, as the model manager lists it."""

    seq: int
    time: str  # UTC, as stored
    action: str  # activate, rollback, site_threshold_set, site_threshold_carry_over
    status: str  # applied or proposed
    before: str  # version, or "" when nothing was active
    after: str
    evidence: str  # "kind sha256" or ""
    approvers: str  # printed names (OS account when unnamed), in order
    verified: bool  # signature, chain and row all hold
    problems: str


def change_history(settings: Settings, model_id: str) -> list[ChangeRow]:
    """The change records of one model, oldest first, each verified (runs in a worker: the
    whole chain is verified). No audit log yet: no records."""
    from viewer.session.change_control import history

    if not settings.audit_db_path.is_file():
        return []
    with AuditLog.open_readonly(settings.audit_db_path, settings=settings) as log:
        entries = history(settings, log, model_id=model_id).entries
    rows = []
    for e in entries:
        rec = e.signed.record if e.signed else None
        rows.append(
            ChangeRow(
                seq=e.seq,
                time=e.time,
                action=rec.action if rec else "?",
                status=rec.status if rec else "?",
                before=printable(rec.before.version) if rec and rec.before else "",
                after=printable(rec.after.version) if rec else "",
                evidence=f"{rec.evidence.kind} {rec.evidence.sha256}"
                if rec and rec.evidence
                else "",
                approvers=printable(", ".join(a.printed_name or a.user_id for a in rec.approvers))
                if rec
                else "",
                verified=e.verified,
                problems="; ".join(e.problems),
            )
        )
    return rows


def run_selftest(settings: Settings, row: BundleRow) -> SelfTestOutcome:
    """Load the stored bundle again (signature, weights, self-test), recorded in the audit log.

    Through the store, so the file's digest, id and version are checked against the store's
    record in the same read that loads it: a file swapped in the store is refused.
    """
    result = _with_store(settings, lambda store: store.load(row.model_id, row.version)).selftest
    return SelfTestOutcome(bool(result.passed), float(result.max_abs_diff_output))


__all__ = [
    "BundleRow",
    "ChangeRow",
    "SelfTestOutcome",
    "StoreView",
    "activate_bundle",
    "change_history",
    "install_bundle",
    "list_bundles",
    "rollback_bundle",
    "run_selftest",
    "sort_rows",
    "stop_shadow",
]
