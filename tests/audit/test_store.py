"""The store: append-only rows with every DESIGN field, pseudonyms only, 0600 files, identity."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from tests.audit.helpers import CLINICIAN, decision, fill
from viewer.audit import AuditEvent, AuditLog, EventType, IdentityRequiredError, User, verify_log
from viewer.audit.chain import HASHED_COLUMNS, row_hash
from viewer.audit.store import sidecar_paths
from viewer.config import Settings, load_settings
from viewer.errors import AuditWriteError


def test_append_returns_committed_record_with_all_fields(log: AuditLog) -> None:
    rec = log.append(decision(3, overrode=True))
    assert rec.seq == 1
    assert rec.time.endswith("Z")
    assert rec.user_name == CLINICIAN.name and rec.user_role == "Radiologist"
    assert rec.user_os == "dr_sato"
    assert rec.meaning == "overrode" and rec.ai_shown == "after_read"
    assert rec.model_id == "demo-cxr" and rec.model_version == "1.2.0"
    assert rec.bundle_digest == "ab" * 32
    assert rec.threshold == 0.5 and rec.score == pytest.approx(0.11)
    assert rec.reason == "肺野の陰影は古い瘢痕"
    assert rec.app_version and rec.host
    assert rec.prev_hash == "0" * 64
    assert rec.hash == row_hash([getattr(rec, c) for c in HASHED_COLUMNS])
    # Another connection sees the row: it was committed before append returned.
    other = sqlite3.connect(log.path)
    assert other.execute("SELECT hash FROM audit_log WHERE seq=1").fetchone()[0] == rec.hash
    other.close()
    assert log.get(1) == rec


def test_raw_identifiers_never_stored(log: AuditLog) -> None:
    log.append(decision(1, patient="SECRET-PATIENT-42"))
    content = b"".join(p.read_bytes() for p in sidecar_paths(log.path) if p.exists())
    for raw_value in (b"SECRET-PATIENT-42", b"1.2.3.1.1.1", b"ACC1"):
        assert raw_value not in content
    rec = log.records()[0]
    assert rec.patient_pseudonym == log.pseudonym("patient", "SECRET-PATIENT-42")
    assert rec.patient_pseudonym != log.pseudonym("accession", "SECRET-PATIENT-42")
    assert len(rec.patient_pseudonym or "") == 64


def test_search_by_real_patient_id(log: AuditLog) -> None:
    fill(log, 6)
    log.append(decision(99, patient="P-777"))
    found = log.records(patient_id=" P-777 ")  # DICOM pads; blanks are ignored
    assert [r.detail["i"] for r in found] == [99]
    assert log.records(patient_id="nobody") == []


def test_pseudonyms_depend_on_the_site_secret(settings: Settings, tmp_path: Path) -> None:
    with AuditLog.open(settings) as log:
        a = log.pseudonym("patient", "P1")
    other = load_settings(env={"BEDSIDE_DATA_DIR": str(tmp_path / "other")})
    with AuditLog.open(other) as log2:
        assert log2.pseudonym("patient", "P1") != a
    assert stat.S_IMODE(settings.secret_path.stat().st_mode) == 0o600


def test_files_are_private(log: AuditLog, settings: Settings) -> None:
    log.append(decision(1))
    for p in sidecar_paths(log.path):
        assert p.exists(), p
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    log.checkpoint()
    assert stat.S_IMODE(settings.installation_key_path.stat().st_mode) == 0o600


def test_update_and_delete_are_refused_by_triggers(log: AuditLog) -> None:
    fill(log, 3)
    log.checkpoint()
    conn = sqlite3.connect(log.path)
    for sql in (
        "UPDATE audit_log SET reason='edited' WHERE seq=2",
        "DELETE FROM audit_log WHERE seq=3",
        "UPDATE checkpoints SET count=1",
        "DELETE FROM checkpoints",
        "UPDATE meta SET value='x'",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(sql)
    conn.close()
    assert verify_log(log).ok


def test_amendment_is_a_new_row_pointing_at_the_corrected_one(log: AuditLog) -> None:
    first = log.append(decision(1))
    amended = log.append(
        AuditEvent(
            type=EventType.AMENDMENT,
            user=CLINICIAN,
            meaning="overrode",
            clinician_finding="no finding",
            reason="wrong side read",
            corrects=first.seq,
        )
    )
    assert amended.corrects == first.seq
    assert log.get(first.seq) == first  # the corrected row is untouched
    with pytest.raises(AuditWriteError, match=r"NOT saved.*does not exist"):
        log.append(AuditEvent(type="amendment", meaning="confirmed", corrects=99))
    with pytest.raises(AuditWriteError, match="must name the row"):
        log.append(AuditEvent(type="amendment", meaning="confirmed"))
    assert verify_log(log).ok


@pytest.mark.parametrize(
    "event",
    [
        AuditEvent(type="nonsense"),
        AuditEvent(type="decision"),
        AuditEvent(type="decision", meaning="maybe"),  # type: ignore[arg-type]
        AuditEvent(type="app_start", outcome="meh"),  # type: ignore[arg-type]
        AuditEvent(type="decision", meaning="confirmed", ai_shown="never"),  # type: ignore[arg-type]
    ],
    ids=["unknown-type", "decision-without-meaning", "bad-meaning", "bad-outcome", "bad-ai-shown"],
)
def test_invalid_events_are_refused_with_not_saved(log: AuditLog, event: AuditEvent) -> None:
    with pytest.raises(AuditWriteError, match="NOT saved"):
        log.append(event)
    assert log.head()[0] == 0


def test_every_event_type_is_recordable(log: AuditLog) -> None:
    for etype in EventType:
        needs_meaning = etype in (EventType.DECISION, EventType.AMENDMENT)
        log.append(
            AuditEvent(
                type=etype,
                meaning="confirmed" if needs_meaning else None,
                corrects=1 if etype == EventType.AMENDMENT else None,
                detail={"warnings": ["view position empty"]} if etype == "ai_result_shown" else {},
            )
        )
    assert [r.type for r in log.records()] == [e.value for e in EventType]
    shown = log.records(types=("ai_result_shown",))[0]
    assert shown.detail == {"warnings": ["view position empty"]}
    assert verify_log(log).ok


def test_non_finite_score_is_kept_out_of_the_number_column(log: AuditLog) -> None:
    ev = decision(1)
    ev.score = float("nan")
    rec = log.append(ev)
    assert rec.score is None and rec.detail["score_not_finite"] == "nan"
    assert verify_log(log).ok


def test_named_user_required_by_site(site_file: Path) -> None:
    site_file.write_text("[user]\nrequire_named_user = true\n", encoding="utf-8")
    settings = load_settings()
    with AuditLog.open(settings) as log:
        log.append(AuditEvent(type="app_start"))  # not a signed act: allowed
        anonymous = decision(1)
        anonymous.user = User("someone", "", "")
        with pytest.raises(IdentityRequiredError, match=r"printed name.*NOT saved"):
            log.append(anonymous)
        assert log.head()[0] == 1
        assert log.append(decision(2)).user_name == CLINICIAN.name


def test_current_user_comes_from_os_and_settings(settings: Settings) -> None:
    from viewer.audit import current_user
    from viewer.config import save_user_settings

    named = save_user_settings(settings, {"user.name": "Dr Jane Roe", "user.role": "Radiologist"})
    user = current_user(named)
    assert user.name == "Dr Jane Roe" and user.role == "Radiologist" and user.os_account
    assert user.display == "Dr Jane Roe (Radiologist)"
    with AuditLog.open(named) as log:
        assert log.append(AuditEvent(type="app_start")).user_name == "Dr Jane Roe"


ACCOUNT_VARIABLES = ("LOGNAME", "USER", "LNAME", "USERNAME")


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="no POSIX uid on this platform")
def test_the_account_is_looked_up_once_per_process(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With LOGNAME/USER unset every audit log open asked the password database again."""
    import pwd

    from viewer.audit import current_user

    for name in ACCOUNT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    real = pwd.getpwuid
    asked: list[int] = []

    def counting(uid: int) -> pwd.struct_passwd:
        asked.append(uid)
        return real(uid)

    monkeypatch.setattr(pwd, "getpwuid", counting)
    me = real(os.getuid()).pw_name
    for _ in range(3):
        with AuditLog.open(settings) as log:
            assert log.append(AuditEvent(type="app_start")).user_os == me
    assert [current_user(settings).os_account for _ in range(5)] == [me] * 5
    assert len(asked) <= 1  # the first ask of this process, unless an earlier test made it


def test_a_set_login_variable_still_names_the_account(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from viewer.audit import current_user

    for name in ACCOUNT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    current_user(settings)  # the password database's answer is now remembered
    monkeypatch.setenv("USER", "dr_user")
    assert current_user(settings).os_account == "dr_user"
    monkeypatch.setenv("LOGNAME", "dr_logname")  # getpass.getuser's order: LOGNAME first
    with AuditLog.open(settings) as log:
        assert log.append(AuditEvent(type="app_start")).user_os == "dr_logname"


def test_filters(log: AuditLog) -> None:
    fill(log, 8)
    log.append(AuditEvent(type="app_stop", user=User("it_admin", "", "")))
    assert len(log.records(types=("decision",))) == 8
    assert len(log.records(user="佐藤")) == 8
    assert len(log.records(user="it_admin")) == 1
    assert len(log.records(model="demo-cxr 1.2.0")) == 8
    assert len(log.records(model="other")) == 0
    assert len(log.records(start="2000-01-01", end="2999-01-01")) == 9
    assert log.records(end="2000-01-01") == []
    assert log.count() == 9


def test_reopen_continues_the_chain(settings: Settings) -> None:
    with AuditLog.open(settings) as log:
        fill(log, 3)
        log_id = log.log_id
    with AuditLog.open(settings) as log:
        assert log.log_id == log_id
        assert log.append(decision(9)).seq == 4
        assert verify_log(log).ok


def test_require_named_user_helper(site_file: Path) -> None:
    from viewer.audit import require_named_user

    assert require_named_user(load_settings()).os_account  # not required: anyone may decide
    site_file.write_text("[user]\nrequire_named_user = true\n", encoding="utf-8")
    strict = load_settings()
    with pytest.raises(IdentityRequiredError, match="printed name"):
        require_named_user(strict)
    assert require_named_user(strict, CLINICIAN) is CLINICIAN


def test_lost_site_secret_is_made_visible(settings: Settings) -> None:
    with AuditLog.open(settings) as log:
        fill(log, 2)
        old_key = log.pseudonym_key_id
    settings.secret_path.unlink()  # lost; a new one is generated on the next start
    with AuditLog.open(settings) as log:
        log.append(decision(5))
        result = verify_log(log)
    assert result.ok  # the chain is intact ...
    assert any(old_key in note and "restore it from backup" in note for note in result.notes)


def test_identifying_detail_keys_are_dropped(log: AuditLog) -> None:
    rec = log.append(
        AuditEvent(
            type="image_opened",
            detail={
                "PatientName": "YAMADA^TARO",
                "nested": {"patient_birth_date": "19700101", "modality": "CR"},
                "warnings": [{"Patient ID": "P1", "text": "empty view position"}],
            },
        )
    )
    assert "YAMADA" not in rec.detail_json and "19700101" not in rec.detail_json
    assert "P1" not in rec.detail_json
    assert rec.detail["nested"] == {"modality": "CR"}
    assert rec.detail["redacted_keys"] == ["Patient ID", "PatientName", "patient_birth_date"]


def test_append_all_is_one_act_all_or_nothing(log: AuditLog) -> None:
    """Several findings decided at once are one transaction: a bad second row leaves none."""
    before = log.count()
    ok = decision(1)
    bad = decision(2)
    bad.corrects = 10_000  # a row that does not exist
    with pytest.raises(AuditWriteError, match="NOT saved"):
        log.append_all([ok, bad])
    assert log.count() == before
    records = log.append_all([decision(3), decision(4)])
    assert [r.seq for r in records] == [before + 1, before + 2]
    assert records[1].prev_hash == records[0].hash
    assert verify_log(log).ok
