"""Shadow mode in the window: with a candidate set, every reading is scored by it afterwards and
recorded, and nothing a reader looks at (AI panel, worklist cells and tooltips, study tree,
decision panel, status bar, the audit window's default view) carries its version or its score."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    Qt,
    QThreadPool,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTableView,
    QTextEdit,
    QWidget,
)

from tests.inference.conftest import make_bundle, site_key
from tests.ui.mainwin import WAIT_MS, all_rows, make_window, wait_for_result
from viewer.config import Settings, save_user_settings
from viewer.inference.postprocess import score_threshold_text

__all__ = ["make_bundle", "make_window", "site_key"]  # fixtures imported for pytest

ROLES = (
    Qt.ItemDataRole.DisplayRole,
    Qt.ItemDataRole.ToolTipRole,
    Qt.ItemDataRole.AccessibleTextRole,
    Qt.ItemDataRole.StatusTipRole,
)


def _model_texts(
    model: QAbstractItemModel, parent: QModelIndex | None = None, depth: int = 0
) -> Iterator[str]:
    parent = parent or QModelIndex()
    tree = not isinstance(model, QAbstractTableModel) and depth < 4
    for row in range(model.rowCount(parent)):
        for col in range(model.columnCount(parent)):
            index = model.index(row, col, parent)
            for role in ROLES:
                value = index.data(role)
                if value is not None:
                    yield str(value)
            if col == 0 and tree and model.rowCount(index) > 0:
                yield from _model_texts(model, index, depth + 1)
    for col in range(model.columnCount(parent)):
        value = model.headerData(col, Qt.Orientation.Horizontal)
        if value is not None:
            yield str(value)


def reader_texts(root: QWidget) -> list[str]:
    """Every text a reader can see or hear in ``root``: labels, buttons, fields, combo items,
    every item view's cells (display, tooltip, accessible text), tooltips and accessible names
    and descriptions of every widget, the window title and the status bar."""
    texts: list[str] = [root.windowTitle()]
    for w in [root, *root.findChildren(QWidget)]:
        texts += [w.toolTip(), w.accessibleName(), w.accessibleDescription(), w.statusTip()]
        if isinstance(w, QLabel | QAbstractButton | QLineEdit):
            texts.append(w.text())
        if isinstance(w, QPlainTextEdit | QTextEdit):
            texts.append(w.toPlainText())
        if isinstance(w, QComboBox):
            texts += [w.itemText(i) for i in range(w.count())]
        if isinstance(w, QAbstractItemView) and w.model() is not None:
            texts += list(_model_texts(w.model()))
    status = getattr(root, "statusBar", None)
    if callable(status):
        texts.append(status().currentMessage())
    return [t for t in texts if t]


@pytest.fixture
def shadow_settings(settings: Settings, make_bundle: Any) -> tuple[Settings, str]:
    """The store holds infer-test 1.0.0 (active) and 1.1.0 (other weights) as its shadow."""
    from viewer.bundle.store import ModelStore

    active = make_bundle(version="1.0.0", seed=0)
    candidate = make_bundle(version="1.1.0", seed=5)
    store = ModelStore(settings)
    store.install(active)
    store.install(candidate, shadow=True)
    settings = save_user_settings(settings, {"user.name": "Dr Test", "user.role": "radiologist"})
    return settings, hashlib.sha256(candidate.read_bytes()).hexdigest()


def _rows(settings: Settings, type_: str) -> list[Any]:
    return [r for r in all_rows(settings) if r.type == type_]


def test_no_candidate_output_anywhere_a_reader_looks(
    qtbot: Any, make_window: Any, shadow_settings: tuple[Settings, str], cxr_dir: Path
) -> None:
    settings, cand_digest = shadow_settings
    window = make_window(settings, [cxr_dir])
    wait_for_result(qtbot, window)
    qtbot.waitUntil(lambda: len(_rows(settings, "shadow_result")) == 1, timeout=WAIT_MS)
    window.step_image(1)  # a second reading
    qtbot.waitUntil(lambda: len(_rows(settings, "shadow_result")) == 2, timeout=WAIT_MS)
    wait_for_result(qtbot, window)
    qtbot.waitUntil(lambda: window.worklist.next_pending(set()) is None, timeout=WAIT_MS)

    shown = [r for r in _rows(settings, "ai_result_shown") if r.outcome == "success"]
    shadow = _rows(settings, "shadow_result")
    assert len(shown) == len(shadow) == 2  # both readings carry both rows
    assert [r.sop_pseudonym for r in shadow] == [r.sop_pseudonym for r in shown]
    assert all(r.outcome == "success" and r.model_version == "1.1.0" for r in shadow)
    assert all(r.bundle_digest == cand_digest for r in shadow)
    assert all(r.seq > s.seq for r, s in zip(shadow, shown, strict=True))  # after the active

    # what the candidate said, as the window would have written it
    secret = {"1.1.0", cand_digest[:8], cand_digest[:16]}
    active_texts = {score_threshold_text(float(r.score or 0), 0.5)[0] for r in shown}
    for row in shadow:
        text = score_threshold_text(float(row.score or 0), float(row.threshold or 0.5))[0]
        assert text not in active_texts, "pick other seeds: the two models' scores print alike"
        secret.add(text)

    window.record_decision("confirmed", "")
    qtbot.waitUntil(lambda: len(_rows(settings, "decision")) == 1, timeout=WAIT_MS)
    texts = reader_texts(window)
    assert any("1.0.0" in t for t in texts)  # the walk does reach the AI panel ...
    assert any(a in t for t in texts for a in active_texts)  # ... and the scores shown
    leaks = [(s, t) for t in texts for s in secret if s in t]
    assert leaks == []
    (decision,) = _rows(settings, "decision")
    assert decision.model_version == "1.0.0"
    assert window.current is not None and window.current.prediction is not None
    assert window.current.prediction.model_version == "1.0.0"

    # the audit window beside the readings: no candidate result under "All events"
    audit = window.show_audit_window()
    qtbot.waitUntil(lambda: not audit.is_busy(), timeout=WAIT_MS)
    table = audit.findChild(QTableView, "auditTable")
    types = {audit.model.record(r).type for r in range(table.model().rowCount())}
    assert "ai_result_shown" in types and "shadow_result" not in types
    texts = reader_texts(audit)
    assert [(s, t) for t in texts for s in secret - {"1.1.0"} if s in t] == []
    # the quality lead asks for them by name
    combo = audit.findChild(QComboBox, "eventFilter")
    combo.setCurrentIndex(combo.findData("shadow_result"))
    audit.reload()
    qtbot.waitUntil(lambda: not audit.is_busy(), timeout=WAIT_MS)
    assert table.model().rowCount() == 2


def test_a_refused_candidate_leaves_the_reading_untouched(
    qtbot: Any, make_window: Any, shadow_settings: tuple[Settings, str], cxr_path: Path
) -> None:
    from viewer.bundle.store import ModelStore

    settings, _ = shadow_settings
    entry = ModelStore(settings).shadow_entry("infer-test")
    assert entry is not None
    entry.path.write_bytes(entry.path.read_bytes()[:-100])  # altered in the store
    window = make_window(settings, [cxr_path])
    wait_for_result(qtbot, window)
    qtbot.waitUntil(lambda: len(_rows(settings, "shadow_result")) == 1, timeout=WAIT_MS)
    (row,) = _rows(settings, "shadow_result")
    assert row.outcome == "failure" and row.detail["stage"] == "load"
    refused = [r for r in _rows(settings, "bundle_refused") if r.model_version == "1.1.0"]
    assert refused  # the store recorded why
    assert window.ai_panel.state() == "result" or window.current.can_decide
    window.record_decision("confirmed", "")
    qtbot.waitUntil(lambda: len(_rows(settings, "decision")) == 1, timeout=WAIT_MS)
    assert QThreadPool.globalInstance().waitForDone(WAIT_MS), "a worker outlived its test"


def test_rapid_stepping_keeps_the_candidate_waiting_and_closing_records_the_rest(
    qtbot: Any, make_window: Any, shadow_settings: tuple[Settings, str], cxr_dir: Path
) -> None:
    settings, _ = shadow_settings
    window = make_window(settings, [cxr_dir])
    for _ in range(3):  # the next image the moment the result shows
        wait_for_result(qtbot, window)
        shown_before = window.current
        window.step_image(1)
        qtbot.waitUntil(lambda s=shown_before: window.current is not s, timeout=WAIT_MS)
    wait_for_result(qtbot, window)
    assert not window.shadow_idle  # the readings wait for a quiet AI thread
    window.shutdown()
    shown = [r for r in _rows(settings, "ai_result_shown") if r.outcome == "success"]
    shadow = _rows(settings, "shadow_result")
    assert len(shadow) == len(shown) >= 4  # every reading carries its row, scored or not
    assert {r.sop_pseudonym for r in shadow} == {r.sop_pseudonym for r in shown}
    not_run = [r for r in shadow if r.outcome == "failure"]
    assert not_run and all(r.detail["stage"] == "not_run" for r in not_run)
    assert all("app closed before" in (r.reason or "") for r in not_run)


def test_read_first_the_candidate_reveals_nothing(
    qtbot: Any, make_window: Any, shadow_settings: tuple[Settings, str], cxr_path: Path
) -> None:
    from PySide6.QtWidgets import QPushButton

    settings, cand_digest = shadow_settings
    settings = save_user_settings(settings, {"reading.order": "read_first"})
    window = make_window(settings, [cxr_path])
    qtbot.waitUntil(lambda: len(_rows(settings, "shadow_result")) == 1, timeout=WAIT_MS)
    # the candidate scored the image, and the reader still sees no score at all
    assert window.findChild(QLabel, "aiProbability").text() == ""
    assert "hidden" in window.findChild(QLabel, "aiState").text()
    assert not window.findChild(QPushButton, "confirmButton").isEnabled()
    assert not [r for r in _rows(settings, "ai_result_shown") if r.outcome == "success"]
    texts = reader_texts(window)
    assert [t for t in texts if "1.1.0" in t or cand_digest[:8] in t] == []
