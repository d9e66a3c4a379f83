"""Signed change records (issue 16 item 4): verifiable outside the log, tamper-evident inside it,
and listed in the audit PDF."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.audit.helpers import drop_triggers, fill, raw, set_column
from tests.waits import WAIT_S
from viewer.audit import AuditLog, User, export, verify_log
from viewer.audit.change_record import (
    ChangeRecord,
    Evidence,
    ModelSide,
    SignedChange,
    approval_of,
    change_entries,
    change_event,
    sign_change,
)
from viewer.config import Settings

QA = User(os_account="qa", name="Dr Quality", role="quality lead")
D1, D2, EV = "a" * 64, "b" * 64, "c" * 64


def _record(**over: object) -> ChangeRecord:
    fields: dict[str, object] = {
        "action": "activate",
        "model_id": "test-cxr",
        "before": ModelSide(version="1.0.0", digest=D1),
        "after": ModelSide(version="1.1.0", digest=D2),
        "thresholds_before": {"opacity": 0.5},
        "thresholds_after": {"opacity": 0.42},
        "evidence": Evidence(kind="comparison", sha256=EV),
        "rationale": "non-inferior on 212 local cases",
        "approvers": (approval_of(QA),),
        "created_at": "2026-12-06T03:00:00.000000Z",
        **over,
    }
    return ChangeRecord.model_validate(fields)


def test_signed_record_verifies_outside_the_log(settings: Settings) -> None:
    signed = sign_change(_record(), settings.installation_key_path)
    assert signed.signature_valid()
    exported = json.loads(json.dumps(signed.as_dict()))  # what `model history --format json` has
    again = SignedChange.model_validate(exported)
    assert again.signature_valid() and again.record.sha256 == signed.record.sha256
    # the same check with nothing but `cryptography` and the embedded public key
    import base64

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from viewer.audit.chain import canonical_json

    key = serialization.load_pem_public_key(exported["signature"]["public_key_pem"].encode())
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(
        base64.b64decode(exported["signature"]["value"]),
        canonical_json(exported["record"]).encode("utf-8"),
        ec.ECDSA(hashes.SHA256()),
    )
    for field, value in (("rationale", "changed"), ("thresholds_after", {"opacity": 0.1})):
        forged = dict(exported, record={**exported["record"], field: value})
        assert not SignedChange.model_validate(forged).signature_valid()


def test_tampered_row_fails_verification(settings: Settings) -> None:
    with AuditLog.open(settings) as log:
        fill(log, 3)
        rec = log.append(change_event(sign_change(_record(), settings.installation_key_path)))
        entries = change_entries(log.records())
        assert [(e.seq, e.verified) for e in entries] == [(rec.seq, True)]
        detail = rec.detail
        detail["record"]["thresholds_after"] = {"opacity": 0.9}
        conn = raw(log.path)
        drop_triggers(conn)
        set_column(conn, rec.seq, "detail_json", json.dumps(detail))
        conn.close()
        result = verify_log(log)
        assert not result.ok
        [entry] = change_entries(
            log.records(), chain_ok=result.ok, first_bad_seq=result.first_bad_seq
        )
    assert not entry.verified and not entry.signature_ok and not entry.chain_ok
    assert "the signature does not match the record" in entry.problems


def _pdftotext(pdf: Path, first: int = 1, last: int = 99) -> str:
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(
        [exe, "-f", str(first), "-l", str(last), "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=WAIT_S,
    ).stdout


def _page_with(pdf: Path, needle: str) -> int:
    for page in range(1, 20):
        if needle in _pdftotext(pdf, page, page):
            return page
    raise AssertionError(f"{needle!r} is on no page")


def test_audit_report_lists_change_records(settings: Settings, tmp_path: Path) -> None:
    with AuditLog.open(settings) as log:
        fill(log, 6)
        key = settings.installation_key_path
        log.append(change_event(sign_change(_record(), key), user=QA))
        second = approval_of(User("rt", "技師 山田", "radiographer"))
        rollback = _record(
            action="rollback",
            before=ModelSide(version="1.1.0", digest=D2),
            after=ModelSide(version="1.0.0", digest=D1),
            thresholds_before={"opacity": 0.42},
            thresholds_after={"opacity": 0.5},
            evidence=None,
            rationale="alert rate doubled in the first week",
            approvers=(approval_of(QA), second),
        )
        log.append(change_event(sign_change(rollback, key), user=QA))
    result = export(settings, "pdf", tmp_path / "report.pdf")
    text = _pdftotext(result.path)
    assert "Change records" in text
    flat = " ".join(text.split())
    assert EV[:32] in flat and "Dr Quality" in flat and "VERIFIED" in flat
    assert "Activated: test-cxr" in flat and "opacity: 0.5 → 0.42" in flat
    page = _page_with(result.path, "Change records")
    exe = shutil.which("pdftoppm")
    if exe is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    out = tmp_path / "page"
    subprocess.run(
        [exe, "-f", str(page), "-l", str(page), "-r", "80", "-png", "-singlefile", str(result.path),
         str(out)],
        check=True,
        timeout=WAIT_S,
    )  # fmt: skip
    assert out.with_suffix(".png").stat().st_size > 10_000  # a page with text, not blank
