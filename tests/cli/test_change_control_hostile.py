"""Hostile words in change records: a rationale with terminal escapes, bidirectional overrides
or a megabyte of text; proposal references that match nothing. The history shows them inert
(JSON on a terminal, the PDF) and every refusal is one line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.bundle.conftest import KeyPair
from viewer.cli.main import main

HOSTILE = "ok\x1b[2J\x9b31m\u202eDEIFIREV TON\u2066\x00\x07 end"


@pytest.mark.parametrize(
    "rationale", [HOSTILE, "x" * 1_000_000, "<b>&amp;</b><font size=80>big</font>"],
    ids=["escapes", "a-megabyte", "markup"],
)  # fmt: skip
def test_hostile_rationale_in_history(
    tmp_path: Path,
    key: KeyPair,
    build_bundle: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    rationale: str,
) -> None:
    trust = ["--trust-key", str(key.public_path)]
    assert main(["bundle", "install", str(build_bundle(version="1.0.0")), *trust]) == 0
    assert main(["bundle", "activate", "test-cxr", "1.0.0", "--rationale", rationale, *trust]) == 0
    capsys.readouterr()
    assert main(["model", "history", "--format", "json"]) == 0
    out = capsys.readouterr().out
    for raw in ("\x1b", "\x9b", "\u202e", "\u2066", "\x00", "\x07"):
        assert raw not in out
    rec = json.loads(out)["records"][-1]
    assert rec["verified"] and rec["record"]["rationale"] == rationale.strip()  # data unchanged
    pdf = tmp_path / "history.pdf"
    assert main(["model", "history", "--format", "pdf", "-o", str(pdf)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    "ref", ["", "#", "1", "'; DROP TABLE events; --", "\x1b[2J", "0" * 10_000, "%", "_"],
    ids=["empty", "hash", "no-such-row", "sql", "escape", "long", "percent", "underscore"],
)  # fmt: skip
def test_approving_nothing_is_one_clear_line(capsys: pytest.CaptureFixture[str], ref: str) -> None:
    assert main(["bundle", "approve", ref]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bedside: error:") and err.count("\n") == 1
    assert "\x1b" not in err and len(err) < 12_000


@pytest.mark.parametrize("evidence", ["fifo", "edited", "deep", "folder"])
def test_unusable_evidence_refuses_the_activation_and_is_recorded(
    tmp_path: Path,
    key: KeyPair,
    build_bundle: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    evidence: str,
) -> None:
    import os

    from viewer.audit import AuditLog
    from viewer.config import load_settings

    trust = ["--trust-key", str(key.public_path)]
    assert main(["bundle", "install", str(build_bundle(version="1.0.0")), *trust]) == 0
    path = tmp_path / "evidence.json"
    if evidence == "fifo":
        os.mkfifo(path)
    elif evidence == "edited":  # a recalibration report changed after it was written
        path.write_text(json.dumps({"report": {"threshold": 0.2}, "report_sha256": "0" * 64}))
    elif evidence == "deep":
        path.write_text("[" * 100_000 + "]" * 100_000)
    else:
        path.mkdir()
    capsys.readouterr()
    status = main(["bundle", "activate", "test-cxr", "1.0.0", "--evidence", str(path), *trust])
    err = capsys.readouterr().err
    assert status == 1 and err.startswith("bedside: error:") and err.count("\n") == 1
    assert "Activation refused" in err and "Nothing was changed" in err
    settings = load_settings()
    with AuditLog.open(settings) as log:
        last = log.records()[-1]
    assert (last.type, last.outcome) == ("bundle_activated", "failure")
    assert last.detail["code"] == "change_control"
    assert last.detail["evidence_file"] == "evidence.json"
