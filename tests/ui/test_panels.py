"""Decision panel, AI panel, tag browser and worklist on their own (no model needed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.waits import WAIT_MS
from viewer.dicom import read_image, read_metadata
from viewer.inference.postprocess import LabelResult as _Label
from viewer.ui.qt_ai_panel import QtAiPanel
from viewer.ui.qt_decision import QtDecisionPanel
from viewer.ui.qt_tag_browser import QtTagBrowser
from viewer.ui.qt_worklist import QtWorklist


@dataclass(frozen=True)
class _Check:
    name: str
    level: str
    message: str


@dataclass
class _Prediction:
    labels: list[_Label]
    checks: list[_Check] = field(default_factory=list)
    model_id: str = "m"
    model_version: str = "1.0.0"
    bundle_digest: str = "d"
    threads: int = 2
    timings_ms: dict[str, float] = field(default_factory=dict)


@pytest.fixture
def decision(qtbot: Any) -> QtDecisionPanel:
    panel = QtDecisionPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.reset("consolidation")
    panel.set_decision_enabled(True)
    return panel


def test_override_without_reason_is_refused(qtbot: Any, decision: QtDecisionPanel) -> None:
    got: list[tuple[str, str]] = []
    decision.decision_requested.connect(lambda m, r: got.append((m, r)))
    qtbot.mouseClick(decision.override, Qt.MouseButton.LeftButton)
    assert got == []
    assert decision.status_kind() == "need_reason"
    assert "reason" in decision.status.text()


def test_override_with_listed_or_free_reason(qtbot: Any, decision: QtDecisionPanel) -> None:
    got: list[tuple[str, str]] = []
    decision.decision_requested.connect(lambda m, r: got.append((m, r)))
    decision.reason.setCurrentIndex(2)
    listed = decision.reason.currentText()
    qtbot.mouseClick(decision.override, Qt.MouseButton.LeftButton)
    decision.reason.setEditText("old rib fracture, not consolidation")
    qtbot.mouseClick(decision.override, Qt.MouseButton.LeftButton)
    assert got == [("overrode", listed), ("overrode", "old rib fracture, not consolidation")]


def test_keyboard_shortcuts_confirm_and_override(qtbot: Any, decision: QtDecisionPanel) -> None:
    got: list[tuple[str, str]] = []
    decision.decision_requested.connect(lambda m, r: got.append((m, r)))
    decision.activateWindow()
    decision.setFocus()
    qtbot.waitUntil(decision.isActiveWindow, timeout=WAIT_MS)
    qtbot.keyClick(decision, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    decision.reason.setEditText("artefact")
    qtbot.keyClick(
        decision,
        Qt.Key.Key_Return,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert got == [("confirmed", ""), ("overrode", "artefact")]


def test_saved_only_when_told_and_failure_keeps_decision(decision: QtDecisionPanel) -> None:
    decision.reason.setEditText("my reason")
    decision.set_failed("disk full")
    assert "NOT saved" in decision.status.text() and "Saved" not in decision.status.text()
    assert decision.reason.currentText() == "my reason"
    assert decision.override.isEnabled()
    decision.set_saved("overrode", "my reason", "10:42")
    assert decision.status.text().startswith("Saved 10:42 — Overridden (my reason)")
    assert not decision.override.isEnabled() and decision.amend.isEnabled()


def test_disabled_buttons_ignore_shortcuts(decision: QtDecisionPanel) -> None:
    got: list[str] = []
    decision.decision_requested.connect(lambda m, r: got.append(m))
    decision.set_decision_enabled(False)
    decision.request_confirm()
    assert got == []


def test_ai_panel_states(qtbot: Any) -> None:
    panel = QtAiPanel()
    qtbot.addWidget(panel)
    panel.set_running()
    assert "running" in panel.state_label.text()
    assert panel.probability.text() == ""
    pred = _Prediction(
        labels=[_Label("consolidation", 0.734, 0.41, True, "sensitivity 0.90 on validation")],
        checks=[_Check("view", "warning", "View Position is empty; PA was assumed by nobody.")],
    )
    panel.set_result(pred)
    assert panel.probability.text() == "consolidation: 0.73"
    assert "0.41" in panel.threshold.text() and "sensitivity 0.90" in panel.threshold.text()
    assert "suggested" in panel.finding.text() and "no consolidation" not in panel.finding.text()
    assert "View Position is empty" in panel.warnings.text()
    assert not panel.heatmap_toggle.isChecked() and panel.heatmap_toggle.isEnabled()
    assert "not a localisation" in panel.heatmap_caption.text()
    panel.set_refused("CT is not a chest radiograph.")
    assert panel.probability.text() == "" and "CT is not" in panel.state_label.text()
    assert not panel.heatmap_toggle.isEnabled()


def test_ai_panel_negative_and_multilabel(qtbot: Any) -> None:
    panel = QtAiPanel()
    qtbot.addWidget(panel)
    pred = _Prediction(
        labels=[
            _Label("effusion", 0.1, 0.5, False, "op"),
            _Label("nodule", 0.9, 0.5, True, "op2"),
        ]
    )
    panel.set_result(pred)
    # the positive finding leads, not the first label (issue 13 item 4: it used to say
    # "no effusion" as the headline while the model called a nodule)
    assert "nodule suggested" in panel.finding.text()
    assert panel.labels_table.rowCount() == 2
    assert panel.labels_table.item(0, 0).text() == "nodule"
    assert panel.labels_table.item(0, 3).text() == "positive"
    assert panel.labels_table.item(1, 3).text() == "negative"


def test_tag_browser_search(qtbot: Any, cxr_path: Path) -> None:
    image = read_image(cxr_path)
    browser = QtTagBrowser(image.header, "cxr.dcm")
    qtbot.addWidget(browser)
    total = len(browser.visible_tags())
    assert "(7FE0,0010)" not in browser.visible_tags()
    assert browser.filter("0028,0030") == 1
    assert browser.visible_tags() == ["(0028,0030)"]
    browser.search.setText("window")
    assert "(0028,1050)" in browser.visible_tags()
    assert len(browser.visible_tags()) < total
    browser.search.setText("")
    assert len(browser.visible_tags()) == total


def test_worklist_triage_sort_and_hidden_scores(qtbot: Any, cxr_dir: Path) -> None:
    metas = [read_metadata(p) for p in sorted(cxr_dir.glob("*.dcm"))]
    wl = QtWorklist()
    qtbot.addWidget(wl)
    wl.set_images(metas)
    assert wl.next_pending() == wl.order()[0]
    scores = [0.2, 0.9, 0.5, 0.7]
    for meta, s in zip(metas, scores, strict=True):
        wl.set_status(meta.path, "scored", s, s >= 0.5)
    assert wl.next_pending() is None
    wl.sort_by_score()
    ranked = [m.path for _, m in sorted(zip(scores, metas, strict=True), key=lambda t: -t[0])]
    assert wl.order() == ranked
    wl.set_hide_scores(True)
    from viewer.ui.qt_worklist import COL_SCORE

    texts = [wl.table.item(r, COL_SCORE).text() for r in range(wl.table.rowCount())]
    assert all("0." not in t for t in texts)


def test_worklist_pause(qtbot: Any) -> None:
    wl = QtWorklist()
    qtbot.addWidget(wl)
    seen: list[bool] = []
    wl.paused_changed.connect(seen.append)
    qtbot.mouseClick(wl.pause_button, Qt.MouseButton.LeftButton)
    assert wl.paused and seen == [True]
    assert "paused" in wl.progress.text()


@pytest.mark.parametrize(
    ("score", "threshold", "expected"),
    [
        (0.9412, 0.94, ("0.941", "0.940")),
        (0.25, 0.94, ("0.25", "0.94")),
        (0.94, 0.94, ("0.94", "0.94")),
        (0.93999, 0.94, ("0.93999", "0.94000")),
    ],
    ids=["just-above", "far-apart", "equal", "just-below"],
)
def test_score_never_reads_equal_to_a_different_threshold(
    score: float, threshold: float, expected: tuple[str, str]
) -> None:
    from viewer.inference.postprocess import score_threshold_text

    assert score_threshold_text(score, threshold) == expected
