"""``bedside bundle install --shadow``, ``bundle shadow --stop`` and ``infer`` with a candidate:
the candidate's score is recorded for every scored image and never printed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.waits import WAIT_S
from viewer.cli.main import main


def _rows(settings: Any, *types: str) -> list[Any]:
    from viewer.audit import AuditLog

    with AuditLog.open(settings) as log:
        return list(log.records(types=types))


def decide_all(
    settings: Any,
    results: list[dict[str, Any]],
    positive: Callable[[int], bool] = lambda i: i % 2 == 1,
) -> None:
    """A clinician decides each image ``infer`` scored (by default every other one positive):
    decision rows on the active's result, as the reading session writes them."""
    from viewer.audit import AuditEvent, AuditLog

    shown = [r for r in _rows(settings, "ai_result_shown") if r.outcome == "success"]
    with AuditLog.open(settings) as log:
        for i, (result, row) in enumerate(zip(results, shown, strict=True)):
            log.append(
                AuditEvent(
                    type="decision",
                    meaning="confirmed",
                    clinician_finding=f"opacity: {'positive' if positive(i) else 'negative'}",
                    model_id=row.model_id,
                    model_version=row.model_version,
                    bundle_digest=row.bundle_digest,
                    score=row.score,
                    threshold=row.threshold,
                    ai_finding=row.ai_finding,
                    sop_uid=result["sop_instance_uid"],
                    detail={"label": "opacity", "pixel_sha256": row.detail["pixel_sha256"]},
                )
            )


@pytest.fixture
def two_versions(make_bundle: Callable[..., Path]) -> tuple[Path, Path]:
    """The active 1.0.0 and a candidate 1.1.0 with other weights (both signed by the site key)."""
    return make_bundle(version="1.0.0", seed=0), make_bundle(version="1.1.0", seed=5)


def test_install_shadow_list_stop(
    two_versions: tuple[Path, Path], settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    active, candidate = two_versions
    assert main(["bundle", "install", str(active)]) == 0
    assert main(["bundle", "install", str(candidate), "--shadow"]) == 0
    out = capsys.readouterr().out
    assert "active version of infer-test: 1.0.0" in out
    assert "shadow candidate of infer-test: 1.1.0" in out and "never shown" in out
    assert main(["bundle", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["version"], r["active"], r["shadow"]) for r in rows] == [
        ("1.0.0", True, False),
        ("1.1.0", False, True),
    ]
    assert main(["bundle", "list"]) == 0
    assert [line[0] for line in capsys.readouterr().out.splitlines()] == ["*", "s"]
    assert main(["bundle", "shadow", "--stop", "infer-test"]) == 0
    assert "stopped shadow scoring of infer-test 1.1.0" in capsys.readouterr().out
    assert main(["bundle", "shadow", "--stop", "infer-test"]) == 1
    assert "has no shadow candidate" in capsys.readouterr().err
    assert main(["bundle", "shadow", "infer-test", "1.1.0"]) == 0
    rows = _rows(settings, "shadow_started", "shadow_stopped")
    assert [(r.type, r.outcome) for r in rows] == [
        ("shadow_started", "success"),
        ("shadow_stopped", "success"),
        ("shadow_stopped", "failure"),  # a stop with nothing to stop is recorded too
        ("shadow_started", "success"),
    ]


@pytest.fixture
def shadowed(two_versions: tuple[Path, Path]) -> str:
    """1.0.0 installed (active), 1.1.0 installed as its shadow candidate; the candidate's
    digest."""
    active, candidate = two_versions
    assert main(["bundle", "install", str(active)]) == 0
    assert main(["bundle", "install", str(candidate), "--shadow"]) == 0
    return hashlib.sha256(candidate.read_bytes()).hexdigest()


@pytest.fixture
def shadow_scored(shadowed: str, cxr_dir: Path, capsys: pytest.CaptureFixture[str]) -> list[Any]:
    """``bedside infer`` over a folder with the candidate set: the printed result objects."""
    capsys.readouterr()
    assert main(["infer", str(cxr_dir), "--json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if "{" in line]


def test_install_shadow_and_activate_exclude_each_other(two_versions: tuple[Path, Path]) -> None:
    with pytest.raises(SystemExit):
        main(["bundle", "install", str(two_versions[1]), "--shadow", "--activate"])


def test_infer_records_the_candidate_and_prints_only_the_active(
    shadowed: str, settings: Any, cxr_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cand_digest = shadowed
    capsys.readouterr()
    code = main(["infer", str(cxr_dir), "--json"])
    captured = capsys.readouterr()
    assert code == 0
    results = [json.loads(line) for line in captured.out.splitlines()]
    assert results and all(r["model"]["version"] == "1.0.0" for r in results)
    for text in (captured.out, captured.err):
        assert "1.1.0" not in text and cand_digest not in text
    shown = _rows(settings, "ai_result_shown")
    shadow = _rows(settings, "shadow_result")
    assert len(shadow) == len(shown) == len(results)  # every scored image carries both
    assert [r.sop_pseudonym for r in shadow] == [r.sop_pseudonym for r in shown]
    assert {(r.model_version, r.bundle_digest, r.outcome) for r in shadow} == {
        ("1.1.0", cand_digest, "success")
    }
    scores = {round(float(r.score or 0), 6) for r in shadow}
    assert scores != {round(float(r.score or 0), 6) for r in shown}  # other weights
    # every active result was out before the candidate ran (none of them waited for it)
    assert max(r.seq for r in shown) < min(r.seq for r in shadow)
    assert all(r.detail["pixel_sha256"] for r in shadow)
    verified = _rows(settings, "bundle_verified")
    loaded = [r for r in verified if r.model_version == "1.1.0" and r.detail.get("stored")]
    assert len(loaded) == 1  # loaded from the store once, by the first shadow job

    assert main(["bundle", "shadow", "--stop", "infer-test"]) == 0
    assert main(["infer", str(cxr_dir), "--json"]) == 0
    assert len(_rows(settings, "shadow_result")) == len(shadow)  # none after the stop


def test_compare_reads_the_shadow_rows(
    shadow_scored: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    # no decision yet: nothing to compare, and the message names shadow mode
    argv = ["model", "compare", "--candidate", "infer-test@1.1.0", "--label", "opacity"]
    assert main([*argv, "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["pairs"] == 0 and "--shadow" in out["message"]


def test_infer_stopped_early_records_the_candidate_did_not_run(
    shadowed: str, settings: Any, cxr_dir: Path
) -> None:
    import argparse

    from viewer.cli import infer

    args = argparse.Namespace(
        settings=settings, paths=[str(cxr_dir)], bundle=None, model=None, threads=1, heatmap=None
    )
    results = infer.run(args)
    first = next(results)
    assert first["status"] == "scored"
    results.close()  # the consumer stops after the first result
    (row,) = _rows(settings, "shadow_result")
    assert row.outcome == "failure" and row.detail["stage"] == "not_run"
    assert row.reason == infer.SHADOW_NOT_RUN


def test_compare_pairs_the_shadow_rows_with_the_active_on_decided_images(
    shadow_scored: list[Any], settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    results = shadow_scored
    decide_all(settings, results)
    # the label comes from the stored candidate's manifest
    assert main(["model", "compare", "--candidate", "infer-test@1.1.0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["label"] == "opacity" and out["cases"] == len(results)
    assert out["positives"] == len(results) // 2
    assert main(["model", "compare"]) == 0  # the shadow candidate against the active
    text = capsys.readouterr().out
    assert text.startswith("infer-test 1.1.0 against infer-test 1.0.0, label opacity")
    assert f"Paired cases: {len(results)}" in text and "errors of their own" in text


def test_the_reading_report_pdf_never_names_the_candidate(
    shadow_scored: list[Any], settings: Any, tmp_path: Path
) -> None:
    import shutil
    import subprocess

    from viewer.audit import export_report

    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    decide_all(settings, shadow_scored)
    steps = export_report(settings, "pdf", tmp_path / "report.pdf")
    for _ in steps:
        pass
    text = subprocess.run(
        [exe, "-layout", str(tmp_path / "report.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=WAIT_S,
    ).stdout
    assert "infer-test 1.0.0" in text  # the decisions, with the model they were made with
    assert "1.1.0" not in text  # the candidate: neither its version nor a score of it
