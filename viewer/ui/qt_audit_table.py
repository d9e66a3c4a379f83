"""The audit table: stored rows as a Qt table model, and one row's every field as text.

Why apart from the window: the model is pure presentation of :class:`viewer.audit.AuditRecord`
(local times, translated event names, a short pseudonym, red failures) and is tested through the
window's table; the window only hands it the rows the session layer read. Only the GUI thread
calls it.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from viewer.audit import AuditRecord
from viewer.session.reading import parse_finding
from viewer.ui.i18n import local_time_text
from viewer.ui.plain_text import plain_tooltip


class AuditTableModel(QAbstractTableModel):
    """Audit records for a QTableView (thousands of rows without one widget per cell)."""

    FIELDS = (
        "seq",
        "time",
        "type",
        "outcome",
        "user",
        "model",
        "score",
        "ai_finding",
        "clinician_finding",
        "meaning",
        "reason",
        "ai_shown",
        "patient",
    )

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._records: list[AuditRecord] = []
        self._workstations: list[str] = []

    def set_records(
        self, records: list[AuditRecord], workstations: list[str] | None = None
    ) -> None:
        """``workstations``: rows from the department audit store, one name per record (its
        sequence number is that workstation's own, so the name is shown with it)."""
        self.beginResetModel()
        self._records = list(records)
        self._workstations = list(workstations or [])
        self.endResetModel()

    def record(self, row: int) -> AuditRecord:
        return self._records[row]

    def workstation(self, row: int) -> str:
        """The workstation that recorded this row ('' for this workstation's own log)."""
        return self._workstations[row] if row < len(self._workstations) else ""

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.FIELDS)

    def headers(self) -> list[str]:
        return [
            self.tr("#"),
            self.tr("Time (local)"),
            self.tr("Event"),
            self.tr("Outcome"),
            self.tr("User"),
            self.tr("Model"),
            self.tr("Score / threshold"),
            self.tr("AI finding"),
            self.tr("Clinician finding"),
            self.tr("Meaning"),
            self.tr("Reason"),
            self.tr("AI shown"),
            self.tr("Patient (pseudonym)"),
        ]

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            names = self.headers()
            return names[section] if 0 <= section < len(names) else None
        return None

    def retranslate(self) -> None:
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.FIELDS) - 1)
        if self._records:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._records) - 1, len(self.FIELDS) - 1)
            )

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        rec = self._records[index.row()]
        name = self.FIELDS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            if name == "seq" and self._workstations:
                return f"{self.workstation(index.row())} #{rec.seq}"
            return self._text(rec, name)
        if role == Qt.ItemDataRole.ToolTipRole:
            if name == "time":
                return self.tr("Stored as {utc} (UTC)").format(utc=rec.time)
            if name == "patient":
                return rec.patient_pseudonym or ""
            return plain_tooltip(self._text(rec, name))  # reasons are typed text, never HTML
        if role == Qt.ItemDataRole.ForegroundRole and rec.outcome == "failure":
            return Qt.GlobalColor.red
        return None

    def _text(self, rec: AuditRecord, name: str) -> str:
        if name == "seq":
            return str(rec.seq)
        if name == "time":
            return local_time_text(rec.time)
        if name == "type":
            return self.event_name(rec.type)
        if name == "outcome":
            return self.tr("success") if rec.outcome == "success" else self.tr("FAILURE")
        if name == "user":
            who = rec.user_name or rec.user_os
            return f"{who} ({rec.user_role})" if rec.user_role else who
        if name == "model":
            return f"{rec.model_id or ''} {rec.model_version or ''}".strip()
        if name == "score":
            if rec.score is None:
                return ""
            if rec.threshold is None:
                return f"{rec.score:.3f}"
            from viewer.inference.postprocess import score_threshold_text

            return " / ".join(score_threshold_text(rec.score, rec.threshold))
        if name == "meaning":
            return {"confirmed": self.tr("confirmed"), "overrode": self.tr("overrode")}.get(
                rec.meaning or "", rec.meaning or ""
            )
        if name == "ai_shown":
            return {
                "before_read": self.tr("before the clinician's read"),
                "after_read": self.tr("after the clinician's read"),
            }.get(rec.ai_shown or "", rec.ai_shown or "")
        if name == "patient":
            p = rec.patient_pseudonym or ""
            return p[:12] + "…" if len(p) > 12 else p
        if name in ("ai_finding", "clinician_finding"):
            return self.finding_text(getattr(rec, name, None) or "")
        value = getattr(rec, name, None)
        return "" if value is None else str(value)

    def finding_text(self, stored: str) -> str:
        """A stored finding ``label: positive|negative`` in the reader's language (the label is
        the model's own name and stays as written); anything else as stored."""
        finding = parse_finding(stored)
        if finding is None:
            return stored
        label, positive = finding
        side = self.tr("positive") if positive else self.tr("negative")
        return f"{label}: {side}"

    def event_names(self) -> dict[str, str]:
        return {
            "app_start": self.tr("App started"),
            "app_stop": self.tr("App stopped"),
            "bundle_verified": self.tr("Bundle verified"),
            "bundle_refused": self.tr("Bundle refused"),
            "bundle_installed": self.tr("Bundle installed"),
            "bundle_activated": self.tr("Bundle activated"),
            "bundle_rolled_back": self.tr("Bundle rolled back"),
            "image_opened": self.tr("Image opened"),
            "image_exported": self.tr("Image exported or printed"),
            "ai_result_shown": self.tr("AI result shown"),
            "decision": self.tr("Decision"),
            "amendment": self.tr("Amendment"),
            "report_exported": self.tr("Report exported"),
            "verification": self.tr("Verification"),
            "site_threshold_set": self.tr("Site threshold set"),
            "change_record": self.tr("Change record"),
            "shadow_started": self.tr("Shadow scoring started"),
            "shadow_stopped": self.tr("Shadow scoring stopped"),
            "shadow_result": self.tr("Shadow result (candidate, not shown in readings)"),
            "log_started": self.tr("New log started"),
            "monitor_alert": self.tr("Monitoring alert"),
            "pacs_sent": self.tr("Sent to PACS"),
            "pacs_send_failed": self.tr("Sending to PACS failed"),
            "pacs_retrieved": self.tr("Retrieved from PACS"),
            "pacs_queued": self.tr("Queued for PACS"),
            "pacs_not_queued": self.tr("Not queued for PACS"),
            "node_authentication_failed": self.tr("Audit repository failed TLS authentication"),
        }

    def event_name(self, value: str) -> str:
        return self.event_names().get(str(value), str(value))


def record_text(record: AuditRecord, workstation: str = "") -> str:
    """Every stored field of one row (the hashes too), times in local zone and UTC; first the
    workstation that recorded it when the row comes from the department audit store."""
    data = record.as_dict()
    lines = [f"{'workstation':<20} {workstation}"] if workstation else []
    for key, value in data.items():
        if key == "detail":
            continue
        if key == "time":
            value = f"{local_time_text(value)}  ({value})"
        lines.append(f"{key:<20} {'' if value is None else value}")
    detail = data.get("detail")
    if detail:
        lines.append("detail")
        lines += [
            "  " + line for line in json.dumps(detail, indent=2, ensure_ascii=False).splitlines()
        ]
    return "\n".join(lines)
