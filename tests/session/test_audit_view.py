"""The audit window's calls into the log, without Qt: filter, read, verify, export, cancel."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.session.audit_log import (
    PATIENT,
    behind_the_apps_back,
    fill_audit_log,
    write_checkpoint_file,
)
from viewer.audit.export import TOTAL
from viewer.config import Settings
from viewer.errors import AuditError
from viewer.session.audit_view import (
    MAX_ROWS_SHOWN,
    AuditFilters,
    core_filters,
    load_records,
    run_export,
    verify_log,
)

filled_log = pytest.fixture(fill_audit_log, name="filled_log")


def test_empty_filters_ask_for_everything() -> None:
    core = core_filters(AuditFilters())
    assert (core.start, core.end, core.user, core.model, core.patient_id, core.types) == (
        None,
        None,
        None,
        None,
        None,
        None,
    )


def test_filters_reach_the_core_as_typed() -> None:
    start = datetime(2026, 11, 28, 15, tzinfo=UTC)
    core = core_filters(
        AuditFilters(
            date_from=start,
            date_to=start + timedelta(days=1),
            user="Smith",
            model="demo-cxr 1.1.0",
            patient_id=PATIENT,
            event_type="decision",
        )
    )
    assert core.start == start and core.end == start + timedelta(days=1)
    assert (core.user, core.model, core.types) == ("Smith", "demo-cxr 1.1.0", ("decision",))
    assert core.patient_id == PATIENT  # the core turns it into the pseudonym


def test_load_records_reads_every_row_in_order(filled_log: Settings) -> None:
    records, total = load_records(filled_log, AuditFilters())
    assert total == 4
    assert [r.seq for r in records] == [1, 2, 3, 4]
    assert [r.type for r in records] == ["app_start", "decision", "decision", "decision"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (AuditFilters(user="Smith"), 1),
        (AuditFilters(user="atanaka"), 2),
        (AuditFilters(model="demo-cxr"), 2),
        (AuditFilters(model="demo-cxr 1.1.0"), 1),
        (AuditFilters(patient_id=PATIENT), 1),
        (AuditFilters(patient_id="PAT-9999"), 0),
        (AuditFilters(event_type="decision"), 3),
        (AuditFilters(date_from=datetime.now(UTC) + timedelta(days=1)), 0),
    ],
    ids=[
        "user-name",
        "user-account",
        "model-id",
        "model-version",
        "patient",
        "patient-absent",
        "event",
        "future-dates",
    ],
)
def test_filters_select_rows(filled_log: Settings, filters: AuditFilters, expected: int) -> None:
    records, total = load_records(filled_log, filters)
    assert len(records) == total == expected


def test_patient_filter_finds_the_pseudonym_never_the_id(filled_log: Settings) -> None:
    (record,), _ = load_records(filled_log, AuditFilters(patient_id=PATIENT))
    assert record.patient_pseudonym and PATIENT not in str(record.as_dict())


def test_long_logs_keep_the_latest_rows_and_the_total(filled_log: Settings) -> None:
    records, total = load_records(filled_log, AuditFilters(), limit=2)
    assert [r.seq for r in records] == [3, 4] and total == 4
    assert MAX_ROWS_SHOWN >= 1000  # a year of decisions fits in the default


def test_verify_intact_log_is_recorded(filled_log: Settings) -> None:
    outcome = verify_log(filled_log)
    assert outcome.ok and outcome.count == 4 and outcome.recorded
    assert outcome.first_bad is None and outcome.message == "" and outcome.files == 0
    records, _ = load_records(filled_log, AuditFilters())
    assert records[-1].type == "verification"  # the verification itself is a new row


def test_verify_names_the_first_tampered_row(filled_log: Settings) -> None:
    behind_the_apps_back(
        filled_log.audit_db_path, "UPDATE audit_log SET reason='edited' WHERE seq=?", 3
    )
    outcome = verify_log(filled_log)
    assert not outcome.ok and outcome.first_bad == 3 and outcome.message


def test_verify_counts_checkpoint_files(filled_log: Settings, tmp_path: Path) -> None:
    outcome = verify_log(filled_log, (write_checkpoint_file(filled_log, tmp_path),))
    assert outcome.ok and outcome.files == 1


def test_truncation_is_caught_by_an_earlier_checkpoint_file(
    filled_log: Settings, tmp_path: Path
) -> None:
    checkpoint = write_checkpoint_file(filled_log, tmp_path)
    db = filled_log.audit_db_path
    behind_the_apps_back(db, "DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)")
    behind_the_apps_back(db, "DELETE FROM checkpoints")
    assert not verify_log(filled_log, (checkpoint,)).ok


def test_verify_without_a_log_says_so(settings: Settings) -> None:
    with pytest.raises(AuditError, match="no audit log"):
        verify_log(settings)


@pytest.mark.parametrize("fmt", ["pdf", "csv", "json"])
def test_export_reports_progress_and_its_checkpoint(
    filled_log: Settings, tmp_path: Path, fmt: str
) -> None:
    steps: list[tuple[int, int]] = []
    out = tmp_path / f"audit.{fmt}"
    outcome = run_export(filled_log, fmt, out, AuditFilters(), steps.append, lambda: False)
    assert outcome is not None
    assert (outcome.path, outcome.rows, outcome.log_ok) == (out, 4, True)
    assert outcome.checkpoint_path == tmp_path / f"audit.{fmt}.checkpoint.json"
    assert outcome.checkpoint_path.is_file() and out.stat().st_size > 0
    assert steps[0] == (0, TOTAL) and steps[-1] == (TOTAL, TOTAL)
    records, _ = load_records(filled_log, AuditFilters(event_type="report_exported"))
    assert len(records) == 1


def test_exports_of_one_base_name_keep_their_own_checkpoints(
    filled_log: Settings, tmp_path: Path
) -> None:
    """PDF, CSV and JSON saved as audit.*: each keeps the checkpoint its report names."""
    outcomes = {
        fmt: run_export(
            filled_log,
            fmt,
            tmp_path / f"audit.{fmt}",
            AuditFilters(),
            lambda _p: None,
            lambda: False,
        )
        for fmt in ("pdf", "csv", "json")
    }
    paths = {fmt: o.checkpoint_path for fmt, o in outcomes.items() if o is not None}
    assert paths == {fmt: tmp_path / f"audit.{fmt}.checkpoint.json" for fmt in outcomes}
    records, _ = load_records(filled_log, AuditFilters(event_type="report_exported"))
    for fmt, rec in zip(("pdf", "csv", "json"), records, strict=True):
        saved = json.loads(paths[fmt].read_text(encoding="utf-8"))
        assert rec.detail["file"] == f"audit.{fmt}"
        assert saved["head_hash"] == rec.detail["checkpoint"]["head_hash"], fmt
        assert saved["count"] == rec.detail["checkpoint"]["count"], fmt


def test_export_of_a_filtered_scope(filled_log: Settings, tmp_path: Path) -> None:
    outcome = run_export(
        filled_log,
        "csv",
        tmp_path / "smith.csv",
        AuditFilters(user="Smith"),
        lambda _step: None,
        lambda: False,
    )
    assert outcome is not None and outcome.rows == 1


def test_export_of_a_broken_log_says_so(filled_log: Settings, tmp_path: Path) -> None:
    behind_the_apps_back(
        filled_log.audit_db_path, "UPDATE audit_log SET reason='edited' WHERE seq=?", 2
    )
    outcome = run_export(
        filled_log, "csv", tmp_path / "a.csv", AuditFilters(), lambda _s: None, lambda: False
    )
    assert outcome is not None and not outcome.log_ok


def test_cancelled_export_returns_none_and_leaves_no_file(
    filled_log: Settings, tmp_path: Path
) -> None:
    steps: list[tuple[int, int]] = []
    outcome = run_export(
        filled_log, "csv", tmp_path / "audit.csv", AuditFilters(), steps.append, lambda: bool(steps)
    )
    assert outcome is None
    assert list(tmp_path.glob("audit*")) == []


def test_export_to_a_missing_folder_fails(filled_log: Settings, tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="does not exist"):
        run_export(
            filled_log,
            "csv",
            tmp_path / "missing" / "a.csv",
            AuditFilters(),
            lambda _s: None,
            lambda: False,
        )
