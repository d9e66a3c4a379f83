"""Site amendments (issue 16 item 3): set from local decisions with a named user, applied when
scoring, invalidated by activating another version, restored byte for byte by rollback, carried
over only explicitly; every change is a ``site_threshold_set`` audit row."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from viewer.audit import AuditEvent, EventType
from viewer.audit.chain import canonical_json
from viewer.audit.identity import IdentityRequiredError, User
from viewer.bundle.store import ModelStore
from viewer.evaluation.recalibrate import RecalibrationRefusedError
from viewer.session import site_thresholds as st

DR = User(os_account="qa", name="Dr Quality", role="radiologist")


@pytest.fixture
def audit(settings: Any) -> Any:
    from viewer.audit import AuditLog

    log = AuditLog.open(settings)
    yield log
    log.close()


def _decide(log: Any, digest: str, n_pos: int, n_neg: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for i in range(n_pos + n_neg):
        positive = i < n_pos
        score = float(rng.beta(6, 2) if positive else rng.beta(2, 6))
        log.append(
            AuditEvent(
                type=EventType.DECISION,
                user=DR,
                meaning="confirmed",
                model_id="test-cxr",
                model_version="1.0.0",
                bundle_digest=digest,
                threshold=0.5,
                score=score,
                ai_finding=f"opacity: {'positive' if score >= 0.5 else 'negative'}",
                clinician_finding=f"opacity: {'positive' if positive else 'negative'}",
                sop_uid=f"1.2.3.{i}",
            )
        )


def _stored(store: ModelStore, version: str) -> bytes:
    data = json.loads(store.state_path.read_text())
    return canonical_json(data["models"]["test-cxr"]["versions"][version]["site_amendments"])


def test_amendment_lifecycle(
    settings: Any, trust: Any, audit: Any, build_bundle: Callable[..., Path]
) -> None:
    store = ModelStore(settings, audit, trust=trust)
    v1 = store.install(build_bundle(version="1.0.0"))
    _decide(audit, v1.digest, 80, 150)
    recal = st.recalibrate(settings, audit, store, label="opacity", target_sensitivity=0.9)
    assert recal.report["proposal"]["sensitivity"]["lower_one_sided"] >= 0.9
    assert "errors of their own" in recal.report["reference_standard"]
    with pytest.raises(IdentityRequiredError):
        st.apply_recalibration(settings, audit, store, recal, user=User("qa", "", ""))
    amendment = st.apply_recalibration(settings, audit, store, recal, user=DR)
    assert amendment["bundle_digest"] == v1.digest
    assert amendment["report_sha256"] == recal.report_sha256
    assert amendment["cases"] == 230 and amendment["previous_threshold"] == 0.5
    before = _stored(store, "1.0.0")

    site = st.site_overrides(store, "test-cxr", "1.0.0", v1.digest)
    assert site["opacity"].threshold == recal.threshold
    assert "from 230 local cases" in site["opacity"].text and "Dr Quality" in site["opacity"].text
    rows = [r for r in audit.records() if r.type == "site_threshold_set"]
    assert len(rows) == 1 and rows[0].threshold == recal.threshold
    assert rows[0].detail["amendment_sha256"] == st.amendment_sha256(amendment)

    v2 = store.install(build_bundle(version="1.1.0", seed=1), activate=True)
    assert st.site_overrides(store, "test-cxr", "1.1.0", v2.digest) == {}
    assert [r["status"] for r in st.threshold_rows(store)] == ["not applied (version not active)"]

    assert store.rollback("test-cxr") == "1.0.0"
    assert _stored(store, "1.0.0") == before  # byte for byte
    assert st.site_overrides(store, "test-cxr", "1.0.0", v1.digest) == site

    store.activate("test-cxr", "1.1.0")
    carried = st.carry_over(settings, audit, store, from_version="1.0.0", user=DR)
    assert carried[0]["bundle_digest"] == v2.digest
    assert carried[0]["carried_over_from"]["amendment_sha256"] == st.amendment_sha256(amendment)
    now = st.site_overrides(store, "test-cxr", "1.1.0", v2.digest)
    assert now["opacity"].threshold == recal.threshold
    assert _stored(store, "1.0.0") == before
    assert [r.detail["action"] for r in audit.records() if r.type == "site_threshold_set"] == [
        "set",
        "carried_over",
    ]


def test_refused_below_minimum_positives(
    settings: Any, trust: Any, audit: Any, build_bundle: Callable[..., Path]
) -> None:
    store = ModelStore(settings, audit, trust=trust)
    v1 = store.install(build_bundle(version="1.0.0"))
    _decide(audit, v1.digest, 49, 100)
    with pytest.raises(RecalibrationRefusedError, match="at least 50"):
        st.recalibrate(settings, audit, store, label="opacity", target_sensitivity=0.8)
    assert st.threshold_rows(store) == []


def test_site_threshold_is_applied_when_scoring(
    settings: Any, trust: Any, audit: Any, build_bundle: Callable[..., Path], cxr_path: Path
) -> None:
    from viewer.dicom import read_image
    from viewer.session.models import open_model

    store = ModelStore(settings, audit, trust=trust)
    v1 = store.install(build_bundle(version="1.0.0"))
    _decide(audit, v1.digest, 80, 150)
    recal = st.recalibrate(settings, audit, store, label="opacity", target_sensitivity=0.9)
    st.apply_recalibration(settings, audit, store, recal, user=DR)
    model = open_model(settings, trust=trust)
    pred = model.predictor.predict(read_image(cxr_path))
    first = pred.labels[0]
    assert first.threshold == recal.threshold and first.site is not None
    assert first.positive == (first.score >= recal.threshold)
    assert first.operating_point.startswith("site threshold ")
    assert pred.audit_detail()["site_thresholds"]["opacity"]["cases"] == 230


def test_cli_recalibrate_and_compare(
    settings: Any,
    trust: Any,
    audit: Any,
    build_bundle: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib

    cli = importlib.import_module("viewer.cli.main")
    store = ModelStore(settings, audit, trust=trust)
    v1 = store.install(build_bundle(version="1.0.0"))
    store.install(build_bundle(version="1.1.0", seed=1))
    _decide(audit, v1.digest, 80, 150)
    monkeypatch.setattr(cli, "load_settings", lambda demo=False: settings)
    monkeypatch.setattr("viewer.bundle.store.TrustStore.from_settings", lambda _s: trust)
    argv = ["model", "recalibrate", "--label", "opacity", "--target-sensitivity", "0.9"]
    assert cli.main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["amendment"] is None and out["report"]["proposal"]["positives"] == 80
    assert cli.main(argv) == 0
    text = capsys.readouterr().out
    assert "Proposed site threshold" in text and "errors of their own" in text
    assert "Nothing was changed" in text
    assert "one-sided 95% lower bound" in text
    # a stricter bound: a lower (or equal) threshold, recorded in the report
    assert cli.main([*argv, "--confidence", "0.99", "--json"]) == 0
    strict = json.loads(capsys.readouterr().out)["report"]
    assert strict["confidence"] == 0.99
    assert strict["proposal"]["threshold"] <= out["report"]["proposal"]["threshold"]
    with pytest.raises(SystemExit):
        cli.main([*argv, "--confidence", "1.5"])
    assert "between 0.5 and 0.999" in capsys.readouterr().err
    assert (
        cli.main(["model", "compare", "--candidate", "test-cxr@1.1.0", "--label", "opacity"]) == 1
    )
    assert "no paired rows" in capsys.readouterr().out
