"""`bedside self-check` runs every step for real and reports a failing step instead of raising."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from viewer.cli import selfcheck
from viewer.cli.main import main


def test_selfcheck_passes_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["self-check", "--compact"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    steps = {s["step"]: s for s in report["steps"]}
    assert list(steps) == [
        "config",
        "data_dir",
        "dicom",
        "bundle",
        "inference",
        "audit",
        "pacs_objects",
    ]
    assert set(steps["pacs_objects"]["objects_bytes"]) == {"SR", "OT", "PR"}
    assert steps["bundle"]["selftest"] is True
    assert steps["dicom"]["shape"] == [512, 512]
    assert steps["audit"]["rows_verified"] == 1
    assert 0.0 <= steps["inference"]["labels"]["opacity"]["score"] <= 1.0


def test_selfcheck_reports_a_broken_bundle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from viewer.bundle import resources

    broken = tmp_path / "resources"
    (broken / "demo").mkdir(parents=True)
    (broken / "demo" / "demo-cxr.bundle").write_bytes(b"PK\x03\x04 not really a zip")
    monkeypatch.setattr(resources, "resources_dir", lambda: broken)
    assert main(["self-check"]) == 1
    report = json.loads(capsys.readouterr().out)
    steps = {s["step"]: s for s in report["steps"]}
    assert report["ok"] is False
    assert steps["bundle"]["ok"] is False and "error" in steps["bundle"]
    assert steps["inference"]["ok"] is False and "skipped" in steps["inference"]
    assert steps["pacs_objects"]["ok"] is False and "skipped" in steps["pacs_objects"]
    assert steps["dicom"]["ok"] is True and steps["audit"]["ok"] is True


def test_selfcheck_never_touches_the_real_data_dir(data_dir: Path) -> None:
    selfcheck.run_selfcheck()
    assert not (data_dir / "audit.sqlite").exists()


def test_selfcheck_fails_on_a_read_only_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    # A data dir below a file cannot be created: the installation cannot save decisions.
    monkeypatch.setenv("BEDSIDE_DATA_DIR", str(blocker / "data"))
    report = selfcheck.run_selfcheck()
    steps = {s["step"]: s for s in report["steps"]}
    assert report["ok"] is False
    assert steps["data_dir"]["ok"] is False
