"""A small audit log for the audit-window tests (session helpers and the Qt window alike)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from viewer.audit import AuditEvent, AuditLog, EventType, User
from viewer.config import Settings

PATIENT = "PAT-0042"


def fill_audit_log(settings: Settings) -> Settings:
    """Three decisions by two clinicians on two models, plus an app start (4 rows).

    The test modules make it their ``filled_log`` fixture (``pytest.fixture(fill_audit_log)``)."""
    log = AuditLog.open(settings)
    try:
        log.append(AuditEvent(type=EventType.APP_START))
        tanaka = User("atanaka", "Dr. Aiko Tanaka", "Radiologist")
        smith = User("jsmith", "Dr. Jane Smith", "Resident")
        for user, model, patient, meaning in (
            (tanaka, ("demo-cxr", "1.0.0"), PATIENT, "confirmed"),
            (smith, ("demo-cxr", "1.1.0"), "PAT-0099", "overrode"),
            (tanaka, ("other-model", "2.0.0"), "PAT-0100", "confirmed"),
        ):
            log.append(
                AuditEvent(
                    type=EventType.DECISION,
                    user=user,
                    meaning=meaning,  # type: ignore[arg-type]
                    model_id=model[0],
                    model_version=model[1],
                    score=0.73,
                    threshold=0.5,
                    ai_finding="opacity",
                    clinician_finding="opacity" if meaning == "confirmed" else "no opacity",
                    reason=None if meaning == "confirmed" else "artefact",
                    ai_shown="before_read",
                    patient_id=patient,
                )
            )
    finally:
        log.close()
    return settings


def write_checkpoint_file(settings: Settings, tmp_path: Path) -> Path:
    """A signed checkpoint of the log as it is now, saved as an earlier report would save it."""
    log = AuditLog.open(settings)
    try:
        checkpoint = log.checkpoint()
    finally:
        log.close()
    path = tmp_path / "checkpoint.json"
    path.write_text(checkpoint.to_json(), encoding="utf-8")
    return path


def behind_the_apps_back(db: Path, sql: str, *params: object) -> None:
    """Run ``sql`` on the stored log as an attacker would (triggers dropped and restored)."""
    conn = sqlite3.connect(db)
    try:
        triggers = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='trigger'"
        ).fetchall()
        for name, _sql in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        conn.execute(sql, params)
        for _name, trigger_sql in triggers:
            conn.execute(trigger_sql)
        conn.commit()
    finally:
        conn.close()
