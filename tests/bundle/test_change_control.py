"""Change records from the store (issue 16 item 4): every activation, rollback and site amendment
writes a signed record in the act's own transaction, and the site rule refuses, recorded."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.bundle.test_site_amendments import DR, _decide
from viewer.audit import AuditLog, User
from viewer.audit.change_record import ChangeRequest, Evidence, approval_of, change_entries
from viewer.bundle.store import ModelStore
from viewer.config import Settings, load_settings
from viewer.errors import AuditWriteError, BundleError
from viewer.session import site_thresholds as st

QA2 = User(os_account="rt", name="Dr Second", role="radiologist")
EVIDENCE = Evidence(kind="comparison", sha256="e" * 64)


@pytest.fixture
def audit(settings: Settings) -> Iterator[AuditLog]:
    with AuditLog.open(settings) as log:
        yield log


def _rows(audit: AuditLog) -> list[tuple[str, str]]:
    return [(str(r.type), r.outcome) for r in audit.records()]


def _with_site(site_file: Path, text: str) -> Settings:
    site_file.write_text(text, encoding="utf-8")
    return load_settings()


def test_activate_and_rollback_write_signed_records(
    settings: Settings, trust: Any, audit: AuditLog, build_bundle: Callable[..., Path]
) -> None:
    store = ModelStore(settings, audit, trust=trust)
    v1 = store.install(build_bundle(version="1.0.0"))
    v2 = store.install(build_bundle(version="1.1.0", seed=1))
    store.activate("test-cxr", "1.1.0", change=ChangeRequest(EVIDENCE, "better here", ()))
    assert store.rollback("test-cxr", change=ChangeRequest(rationale="alerts doubled")) == "1.0.0"

    rows = audit.records()
    # each act and its record are consecutive rows of one transaction
    for act in ("bundle_activated", "bundle_rolled_back"):
        i = [r.type for r in rows].index(act, 3)
        assert rows[i + 1].type == "change_record"
    entries = change_entries(rows)
    assert [e.signed.record.action for e in entries if e.signed] == [
        "activate",  # the first install
        "activate",
        "rollback",
    ]
    assert all(e.verified for e in entries)
    first, act, back = (e.signed.record for e in entries if e.signed)
    assert first.before is None and first.after.digest == v1.digest
    assert (act.before, act.after) == (first.after, back.before)
    assert act.after.digest == v2.digest and back.after.digest == v1.digest
    assert act.evidence == EVIDENCE and act.rationale == "better here"
    assert act.thresholds_before == {"opacity": 0.5} == act.thresholds_after
    assert back.rationale == "alerts doubled" and back.evidence is None
    assert [a.meaning for a in act.approvers] == ["approved"]


def test_site_amendments_write_records(
    settings: Settings, trust: Any, audit: AuditLog, build_bundle: Callable[..., Path]
) -> None:
    store = ModelStore(settings, audit, trust=trust)
    v1 = store.install(build_bundle(version="1.0.0"))
    _decide(audit, v1.digest, 80, 150)
    recal = st.recalibrate(settings, audit, store, label="opacity", target_sensitivity=0.9)
    amendment = st.apply_recalibration(settings, audit, store, recal, user=DR)
    store.install(build_bundle(version="1.1.0", seed=1), activate=True)
    st.carry_over(settings, audit, store, from_version="1.0.0", user=DR)
    rows = audit.records()
    for i, rec in enumerate(rows):
        if rec.type == "site_threshold_set":
            assert rows[i + 1].type == "change_record"
    set_, carried = (
        e.signed.record
        for e in change_entries(rows)
        if e.signed and e.signed.record.action.startswith("site_threshold")
    )
    assert set_.evidence == Evidence(kind="recalibration", sha256=recal.report_sha256)
    assert set_.thresholds_before == {"opacity": 0.5}
    assert set_.thresholds_after == {"opacity": amendment["threshold"]}
    assert set_.approvers[0].printed_name == "Dr Quality"
    assert carried.action == "site_threshold_carry_over"
    assert carried.evidence is not None and carried.evidence.kind == "site_amendment"
    assert carried.evidence.sha256 == st.amendment_sha256(amendment)
    # the activation of 1.1.0 names the site threshold 1.0.0 had, and the one 1.1.0 has not
    act = [e.signed.record for e in change_entries(rows) if e.signed][-2]
    assert act.action == "activate" and act.thresholds_before == {"opacity": recal.threshold}
    assert act.thresholds_after == {"opacity": 0.5}


def test_an_unrecorded_change_record_means_no_activation(
    settings: Settings,
    trust: Any,
    audit: AuditLog,
    build_bundle: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = ModelStore(settings, audit, trust=trust)
    store.install(build_bundle(version="1.0.0"))
    store.install(build_bundle(version="1.1.0", seed=1))
    before = audit.count()

    def fail(events: Any) -> Any:
        raise AuditWriteError("disk full")

    monkeypatch.setattr(audit, "append_all", fail)
    with pytest.raises(AuditWriteError):
        store.activate("test-cxr", "1.1.0")
    monkeypatch.undo()
    assert [e.version for e in store.list() if e.active] == ["1.0.0"]
    assert audit.count() == before  # neither the act nor its record

    import viewer.bundle.change as change_mod

    def no_key(*args: Any, **kwargs: Any) -> Any:
        from viewer.errors import AuditError

        raise AuditError("The installation key cannot be read.")

    monkeypatch.setattr(change_mod, "sign_change", no_key)
    with pytest.raises(BundleError, match="change record could not be signed"):
        store.activate("test-cxr", "1.1.0")
    assert [e.version for e in store.list() if e.active] == ["1.0.0"]
    assert _rows(audit)[-1] == ("bundle_activated", "failure")


def test_site_rule_refuses_and_records(
    site_file: Path, trust: Any, build_bundle: Callable[..., Path]
) -> None:
    settings = _with_site(
        site_file, "[change_control]\nrequire_record = true\nsecond_approver = true\n"
    )
    with AuditLog.open(settings) as audit:
        store = ModelStore(settings, audit, trust=trust)
        store.install(build_bundle(version="1.0.0"))
        assert [e.active for e in store.list()] == [False]  # not activated as a side effect
        with pytest.raises(BundleError, match="citing its evidence is required") as e:
            store.activate("test-cxr", "1.0.0")
        assert e.value.code == "change_control"
        with pytest.raises(BundleError, match="second approver"):
            store.activate(
                "test-cxr", "1.0.0", change=ChangeRequest(EVIDENCE, "", (approval_of(DR),))
            )
        twice = (approval_of(DR), approval_of(DR))
        with pytest.raises(BundleError, match="second approver"):
            store.activate("test-cxr", "1.0.0", change=ChangeRequest(EVIDENCE, "", twice))
        with pytest.raises(BundleError, match="change-control rule"):
            store.install(build_bundle(version="1.1.0", seed=1), activate=True)
        refusals = [r for r in audit.records() if r.type == "bundle_activated"]
        assert [r.outcome for r in refusals] == ["failure"] * 4
        assert all(r.detail["code"] == "change_control" for r in refusals)
        assert not any(e.active for e in store.list())
        both = (approval_of(DR), approval_of(QA2))
        store.activate("test-cxr", "1.0.0", change=ChangeRequest(EVIDENCE, "ok", both))
        assert [e.version for e in store.list() if e.active] == ["1.0.0"]
        [entry] = change_entries(audit.records())
        assert entry.verified and entry.signed is not None
        assert [a.user_id for a in entry.signed.record.approvers] == ["qa", "rt"]
        # a rollback is never blocked by the rule (it returns to an earlier version)
        store.activate("test-cxr", "1.1.0", change=ChangeRequest(EVIDENCE, "ok", both))
        assert store.rollback("test-cxr") == "1.0.0"


def test_the_rule_is_site_only(site_file: Path, data_dir: Path) -> None:
    from viewer.errors import ConfigError

    (data_dir / "settings.toml").write_text(
        "[change_control]\nrequire_record = false\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="can only be set by the site file"):
        _with_site(site_file, "[change_control]\nrequire_record = true\n")
    assert json.dumps  # the module's import is used by other tests in this file
