"""Change control in the application layer (issue 16 item 4): evidence files, the two-person
activation (a signed proposal, approved by the other OS account), refusals recorded, history."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.bundle.conftest import build_bundle, key, make_key, trust
from viewer.audit import AuditLog, User
from viewer.bundle.store import ModelStore
from viewer.config import Settings, load_settings
from viewer.errors import BedsideError, BundleError
from viewer.session import change_control as cc

__all__ = ["build_bundle", "key", "make_key", "trust"]

ALICE = User(os_account="alice", name="Dr Alice Ito", role="radiologist")
BOB = User(os_account="bob", name="Dr Bob Sato", role="quality lead")


def _comparison(tmp_path: Path) -> Path:
    path = tmp_path / "compare.json"
    path.write_text(
        json.dumps({"label": "opacity", "candidate": {}, "noninferiority": {"text": "met"}}),
        encoding="utf-8",
    )
    return path


def test_evidence_files(tmp_path: Path) -> None:
    ev = cc.read_evidence(_comparison(tmp_path))
    assert ev.kind == "comparison" and ev.file_name == "compare.json" and len(ev.sha256) == 64
    report = {"format": cc.REPORT_FORMAT, "label": "opacity"}
    from viewer.session.site_thresholds import amendment_sha256

    good = tmp_path / "recal.json"
    good.write_text(json.dumps({"report": report, "report_sha256": amendment_sha256(report)}))
    assert cc.read_evidence(good).sha256 == amendment_sha256(report)
    bad = tmp_path / "edited.json"
    bad.write_text(json.dumps({"report": {**report, "label": "x"}, "report_sha256": "0" * 64}))
    with pytest.raises(BedsideError, match="edited after"):
        cc.read_evidence(bad)
    other = tmp_path / "other.json"
    other.write_text("[1, 2]")
    with pytest.raises(BedsideError, match="not a report"):
        cc.read_evidence(other)


@pytest.fixture
def two_person(site_file: Path) -> Settings:
    site_file.write_text(
        "[change_control]\nrequire_record = true\nsecond_approver = true\n", encoding="utf-8"
    )
    return load_settings()


def _as(monkeypatch: pytest.MonkeyPatch, account: str) -> None:
    monkeypatch.setattr(cc, "login_account", lambda: account)


def test_two_person_activation(
    two_person: Settings,
    trust: Any,
    build_bundle: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = two_person
    evidence = cc.read_evidence(_comparison(tmp_path))
    with AuditLog.open(settings) as log:
        store = ModelStore(settings, log, trust=trust)
        store.install(build_bundle(version="1.0.0"))

        def refused(match: str, act: Callable[[], object]) -> None:
            before = log.count()
            with pytest.raises(BundleError, match=match) as e:
                act()
            assert e.value.code == "change_control"
            last = log.records()[-1]
            assert log.count() == before + 1 and last.type == "bundle_activated"
            assert last.outcome == "failure" and last.detail["code"] == "change_control"

        def activate(**kw: Any) -> cc.ActivationOutcome:
            return cc.activate(settings, log, store, "test-cxr", "1.0.0", user=ALICE, **kw)

        refused("citing its evidence", lambda: activate(approver="bob"))
        refused("second approver", lambda: activate(evidence=evidence))
        refused("another person", lambda: activate(evidence=evidence, approver="alice"))
        out = activate(evidence=evidence, approver="bob", rationale="first model at this site")
        assert not out.activated and out.approver == "bob" and out.proposal
        assert not any(e.active for e in store.list())  # nothing active until bob approves

        ref = out.proposal or ""

        def approve(user: User) -> cc.ActivationOutcome:
            return cc.approve(settings, log, store, ref, user=user)

        _as(monkeypatch, "alice")
        refused("awaits approval by 'bob'", lambda: approve(ALICE))
        _as(monkeypatch, "mallory")
        refused("runs as 'mallory'", lambda: approve(BOB))
        _as(monkeypatch, "bob")
        done = approve(BOB)
        assert done.activated and [e.version for e in store.list() if e.active] == ["1.0.0"]
        refused("carried out already", lambda: approve(BOB))

        found = cc.history(settings, log, model_id="test-cxr")
    assert found.verification.ok and all(e.verified for e in found.entries)
    proposal, applied = (e.signed.record for e in found.entries if e.signed)
    assert proposal.status == "proposed" and proposal.second_approver == "bob"
    assert applied.status == "applied" and applied.proposal == proposal.record_id
    assert [(a.user_id, a.printed_name) for a in applied.approvers] == [
        ("alice", "Dr Alice Ito"),
        ("bob", "Dr Bob Sato"),
    ]
    assert applied.evidence == evidence and applied.rationale == "first model at this site"


def test_a_stale_proposal_is_refused(
    settings: Settings,
    trust: Any,
    build_bundle: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with AuditLog.open(settings) as log:
        store = ModelStore(settings, log, trust=trust)
        store.install(build_bundle(version="1.0.0"))
        store.install(build_bundle(version="1.1.0", seed=1))
        store.install(build_bundle(version="1.2.0", seed=2))
        out = cc.activate(settings, log, store, "test-cxr", "1.1.0", approver="bob", user=ALICE)
        store.activate("test-cxr", "1.2.0")  # the store moved on
        _as(monkeypatch, "bob")
        with pytest.raises(BundleError, match="model store changed since the proposal"):
            cc.approve(settings, log, store, out.proposal or "", user=BOB)
        assert [e.version for e in store.list() if e.active] == ["1.2.0"]
        with pytest.raises(BedsideError, match="No single proposed activation"):
            cc.approve(settings, log, store, "12345678", user=BOB)


def test_login_account_is_the_process_owner(monkeypatch: pytest.MonkeyPatch) -> None:
    real = cc.login_account()
    monkeypatch.setenv("LOGNAME", "someone-else")
    monkeypatch.setenv("USER", "someone-else")
    assert cc.login_account() == real  # the variables do not change who the process is
