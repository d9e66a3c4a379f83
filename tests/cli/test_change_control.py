"""``bundle activate --evidence/--approver``, ``bundle approve`` and ``model history`` (issue 16
item 4): the site rule's refusal in words, the history as JSON and PDF, each record verified."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.audit.helpers import drop_triggers, raw
from tests.bundle.conftest import KeyPair
from tests.waits import WAIT_S
from viewer.cli.main import main


def _pdf_page1(pdf: Path, tmp_path: Path) -> str:
    ppm, txt = shutil.which("pdftoppm"), shutil.which("pdftotext")
    if ppm is None or txt is None:
        pytest.skip("poppler-utils (pdftoppm, pdftotext) is not installed")
    out = tmp_path / "page1"
    subprocess.run([ppm, "-f", "1", "-l", "1", "-r", "60", "-png", "-singlefile", str(pdf),
                    str(out)], check=True, timeout=WAIT_S)  # fmt: skip
    assert out.with_suffix(".png").stat().st_size > 5_000
    return subprocess.run(
        [txt, "-f", "1", "-l", "1", "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=WAIT_S,
    ).stdout


def test_activation_under_the_site_rule_and_history(
    tmp_path: Path,
    site_file: Path,
    key: KeyPair,
    build_bundle: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    site_file.write_text("[change_control]\nrequire_record = true\n", encoding="utf-8")
    trust = ["--trust-key", str(key.public_path)]
    v1 = build_bundle(version="1.0.0")
    assert main(["bundle", "install", str(v1), *trust]) == 0
    assert "active version of test-cxr: none" in capsys.readouterr().out

    assert main(["bundle", "activate", "test-cxr", "1.0.0", *trust]) == 1
    err = capsys.readouterr().err
    assert "Activation refused by this site's change-control rule" in err
    assert "--evidence REPORT.json" in err and "Traceback" not in err

    evidence = tmp_path / "compare.json"
    evidence.write_text(json.dumps({"candidate": {}, "noninferiority": {"text": "met"}}))
    argv = ["bundle", "activate", "test-cxr", "1.0.0", "--evidence", str(evidence)]
    assert main([*argv, "--rationale", "validated on 300 local cases", *trust]) == 0
    assert "active version of test-cxr: 1.0.0" in capsys.readouterr().out

    assert main(["model", "history", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["chain"]["ok"] and len(data["records"]) == 1
    [rec] = data["records"]
    assert rec["verified"] and rec["signature_ok"] and rec["chain_ok"]
    assert rec["record"]["evidence"]["kind"] == "comparison"
    assert rec["record"]["rationale"] == "validated on 300 local cases"
    digest = rec["record"]["evidence"]["sha256"]

    pdf = tmp_path / "history.pdf"
    assert main(["model", "history", "--model", "test-cxr", "--format", "pdf", "-o", str(pdf)]) == 0
    text = " ".join(_pdf_page1(pdf, tmp_path).split())
    assert "Model change history — model test-cxr" in text
    assert "VERIFIED" in text and digest[:32] in text and "Activated: test-cxr" in text

    assert main(["model", "history", "--format", "pdf"]) == 1
    assert "A PDF needs a file" in capsys.readouterr().err

    from viewer.config import load_settings

    conn = raw(load_settings().audit_db_path)
    drop_triggers(conn)
    conn.execute("UPDATE audit_log SET reason='edited' WHERE type='change_record'")
    conn.close()
    assert main(["model", "history", "--format", "json"]) == 1
    out, err = capsys.readouterr()
    assert "NOT VERIFIED" in err and json.loads(out)["records"][0]["verified"] is False


def test_approver_flow_prints_the_next_step(
    key: KeyPair, build_bundle: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    trust = ["--trust-key", str(key.public_path)]
    assert main(["bundle", "install", str(build_bundle(version="1.0.0")), *trust]) == 0
    assert main(["bundle", "install", str(build_bundle(version="1.1.0", seed=1)), *trust]) == 0
    capsys.readouterr()
    assert (
        main(["bundle", "activate", "test-cxr", "1.1.0", "--approver", "nobody-else", *trust]) == 1
    )
    assert "needs your printed name first" in capsys.readouterr().err
