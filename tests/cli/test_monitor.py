"""``bedside monitor report`` end to end on a real audit log (the statistics themselves are
tested on simulated streams in tests/monitoring)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.monitoring.simulate import sample_histogram
from viewer.audit import AuditEvent, AuditLog, EventType, Filters
from viewer.cli.main import main
from viewer.config import Settings
from viewer.monitoring import ReferenceProfile

DEMO = ("bedside-demo-cxr", "1.0.0")


def _demo_profile() -> ReferenceProfile:
    from viewer.bundle import TrustStore, verify_bundle
    from viewer.bundle.resources import DEMO_BUNDLE, resource_path
    from viewer.config import load_settings

    manifest = verify_bundle(
        resource_path(*DEMO_BUNDLE), TrustStore.from_settings(load_settings(demo=True))
    ).manifest
    profile = ReferenceProfile.from_manifest(manifest)
    assert profile is not None
    return profile


def fill(settings: Settings, model: tuple[str, str], n: int, shifted: int, seed: int = 0) -> None:
    """n readings (image_opened, ai_result_shown, decision) as viewer.session writes them; the
    last ``shifted`` have opacity scores 0.1 higher."""
    rng = np.random.default_rng(seed)
    hist = _demo_profile().scores["opacity"]
    scores = np.clip(sample_histogram(rng, hist, n), 0.0, 1.0)
    scores[n - shifted :] = np.clip(scores[n - shifted :] + 0.1, 0.0, 1.0)
    with AuditLog.open(settings) as log:
        for i, score in enumerate(scores):
            ids = {"patient_id": f"P{i}", "sop_uid": f"1.2.3.{seed}.{i}"}
            log.append(
                AuditEvent(
                    type=EventType.IMAGE_OPENED,
                    # the demo reference's own input mix (demo_build's reference set)
                    detail={"modality": "DX", "view": "PA", "manufacturer": "Bedside Synthetic",
                            "photometric": "MONOCHROME1" if i % 4 == 2 else "MONOCHROME2",
                            "patient_sex": "FM"[i % 2], "bits_stored": 12,
                            "rows": 256 if i % 2 else 512, "columns": 256 if i % 2 else 512,
                            "pixel_spacing_mm": 0.2},
                    **ids,
                )
            )  # fmt: skip
            common = {"model_id": model[0], "model_version": model[1], "threshold": 0.087,
                      "score": float(score)}  # fmt: skip
            log.append(
                AuditEvent(
                    type=EventType.AI_RESULT_SHOWN,
                    detail={"labels": {"opacity": float(score)}, "channel": "cli"},
                    **common,
                    **ids,
                )
            )
            log.append(
                AuditEvent(
                    type=EventType.DECISION,
                    meaning="overrode" if i % 10 == 0 else "confirmed",
                    detail={"label": "opacity", "provisional_finding": None},
                    **common,
                    **ids,
                )
            )


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    status = main(["--demo", "monitor", "report", *args])
    return status, json.loads(capsys.readouterr().out)


def test_report_flags_a_score_shift_and_records_the_alert_once(
    demo_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(demo_settings, DEMO, 260, shifted=100)
    status, report = _run(capsys, "--cases", "100")
    assert status == 3
    (model,) = report["models"]
    assert model["model"] == "bedside-demo-cxr 1.0.0"
    assert model["reference"] == "reference (1000 images)"  # the demo bundle's signed profile
    assert model["window"]["results"] == 100 and model["window"]["reads"] == 100
    # scores near 0 moved past the 0.087 threshold: the positive rate rose with them
    assert [a["test"] for a in model["alerts"]] == ["scores:opacity", "positive_rate"]
    assert "shifted upward" in model["summary"][0]
    assert "AI-positive rate has risen" in model["summary"][1]
    assert report["recorded"] == 2
    with AuditLog.open(demo_settings) as log:
        row, chart = log.records(Filters(types=("monitor_alert",)))
        assert chart.detail["statistic"] == "p_chart" and chart.detail["test"] == "positive_rate"
        assert chart.detail["value"] > chart.detail["threshold"]  # above the upper limit
        assert row.model_id == DEMO[0] and row.model_version == DEMO[1]
        assert row.detail["statistic"] == "ks" and row.detail["test"] == "scores:opacity"
        assert row.detail["value"] > 0.2  # KS D of a +0.1 shift
        assert row.detail["window"]["p_value"] < row.detail["threshold"]
        # one Bonferroni family: the score test and the input-mix tests of the full profile
        assert len(model["tests"]) == 6
        assert row.detail["threshold"] == pytest.approx(0.01 / 6)
        assert row.detail["window"]["results"] == 100
    status, again = _run(capsys, "--cases", "100")
    assert status == 3 and again["recorded"] == 0  # the same window is not recorded twice


def test_no_drift_and_no_reference(
    demo_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(demo_settings, DEMO, 150, shifted=0, seed=1)
    fill(demo_settings, ("site-model", "2.0.0"), 60, shifted=0, seed=2)
    status, report = _run(capsys, "--cases", "100", "--no-record")
    assert status == 0 and report["recorded"] == 0
    by_model = {m["model"]: m for m in report["models"]}
    assert by_model["bedside-demo-cxr 1.0.0"]["status"] == "ok"
    other = by_model["site-model 2.0.0"]
    assert other["status"] == "unavailable" and other["tests"] == []
    assert other["summary"][0].startswith("Monitoring unavailable")
    status, only = _run(capsys, "--window", "30d", "--model", "site-model@2.0.0", "--no-record")
    assert [m["model"] for m in only["models"]] == ["site-model 2.0.0"]


def test_bad_arguments(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--demo", "monitor", "report", "--window", "soon"]) == 1
    assert "is not a window" in capsys.readouterr().err
    assert main(["--demo", "monitor", "report", "--format", "pdf"]) == 1
    assert "needs --output" in capsys.readouterr().err


def test_pdf_report(
    demo_settings: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fill(demo_settings, DEMO, 260, shifted=100, seed=3)
    out = tmp_path / "monitoring.pdf"
    status = main(
        ["--demo", "monitor", "report", "--cases", "100", "--format", "pdf", "-o", str(out)]
    )
    assert status == 3
    assert out.read_bytes().startswith(b"%PDF")
    assert "monitoring report written" in capsys.readouterr().out
    assert main(["--demo", "monitor", "report", "--format", "pdf", "-o", str(out)]) == 1
    assert "already exists" in capsys.readouterr().err
