"""The reading workflow end to end, driven by object names (issue 2 thin path, issue 7).

Each test opens generated DICOMs in a real main window with the demo bundle, waits for the worker
results with qtbot.waitUntil / waitSignal (never a fixed sleep) and reads back the audit log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton

from tests.ui.mainwin import (
    WAIT_MS,
    all_rows,
    decision_rows,
    demo_bundle,
    find,
    make_window,
    refused_without_score,
    tamper_demo_bundle,
    wait_for_result,
)
from viewer.config import save_user_settings
from viewer.errors import AuditWriteError

__all__ = ["demo_bundle", "make_window"]  # fixtures imported for pytest


def _shown_path(window: Any) -> str | None:
    image = window.view.image
    return None if image is None else str(image.meta.path)


def _saved(window: Any) -> bool:
    return find(window, QLabel, "decisionStatus").text().startswith("Saved ")


def test_thin_path_override_with_reason_is_in_the_audit_log(
    qtbot: Any, make_window: Any, demo_settings: Any, demo_bundle: Path, cxr_path: Path
) -> None:
    window = make_window(demo_settings, [cxr_path])
    wait_for_result(qtbot, window)
    prob = find(window, QLabel, "aiProbability").text()
    assert find(window, QLabel, "aiThreshold").text().startswith("Threshold ")
    assert find(window, QLabel, "aiFinding").text().startswith("AI finding:")
    assert "bedside-demo" in find(window, QLabel, "aiModel").text().lower() or find(
        window, QLabel, "aiModel"
    ).text().startswith("Model: ")
    assert find(window, QLabel, "demoBanner").text() == "DEMO MODEL — NOT FOR CLINICAL USE"
    assert find(window, QLabel, "demoBanner").isVisible()

    status = find(window, QLabel, "decisionStatus")
    assert not status.text().startswith("Saved")
    find(window, QComboBox, "overrideReason").setEditText("Rib overlap, no consolidation")
    qtbot.mouseClick(find(window, QPushButton, "overrideButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _saved(window), timeout=WAIT_MS)
    assert "Overridden (Rib overlap, no consolidation)" in status.text()

    pred = window.current.prediction
    first = pred.labels[0]
    from viewer.inference.postprocess import score_threshold_text

    # the score with the threshold's own decimals or more: never equal text for unequal values
    score_text, threshold_text = score_threshold_text(first.score, first.threshold)
    assert prob == f"{first.label}: {score_text}"
    assert find(window, QLabel, "aiThreshold").text().startswith(f"Threshold {threshold_text}")
    window.close()
    rows = decision_rows(demo_settings)
    assert len(rows) == 1
    row = rows[0]
    assert (row.type, row.meaning, row.reason) == (
        "decision",
        "overrode",
        "Rib overlap, no consolidation",
    )
    assert row.score == pytest.approx(first.score)
    assert row.threshold == pytest.approx(first.threshold)
    assert row.model_id == pred.model_id and row.bundle_digest == pred.bundle_digest
    assert row.ai_shown == "before_read"
    expected_clinician = "negative" if first.positive else "positive"
    assert row.clinician_finding == f"{first.label}: {expected_clinician}"
    assert row.sop_pseudonym and row.patient_pseudonym
    types = [r.type for r in all_rows(demo_settings)]
    for t in ("app_start", "bundle_verified", "image_opened", "ai_result_shown", "app_stop"):
        assert t in types, t


def test_confirm_then_amend_keeps_both_rows(
    qtbot: Any, make_window: Any, demo_settings: Any, demo_bundle: Path, cxr_path: Path
) -> None:
    window = make_window(demo_settings, [cxr_path])
    wait_for_result(qtbot, window)
    qtbot.mouseClick(find(window, QPushButton, "confirmButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _saved(window), timeout=WAIT_MS)
    assert "Confirmed" in find(window, QLabel, "decisionStatus").text()
    assert not find(window, QPushButton, "confirmButton").isEnabled()

    qtbot.mouseClick(find(window, QPushButton, "amendButton"), Qt.MouseButton.LeftButton)
    assert "Amending" in find(window, QLabel, "decisionStatus").text()
    find(window, QComboBox, "overrideReason").setEditText("Second look: artefact")
    qtbot.mouseClick(find(window, QPushButton, "overrideButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _saved(window), timeout=WAIT_MS)
    assert "Amended" in find(window, QLabel, "decisionStatus").text()
    window.close()
    rows = decision_rows(demo_settings)
    assert [(r.type, r.meaning) for r in rows] == [
        ("decision", "confirmed"),
        ("amendment", "overrode"),
    ]
    assert rows[1].corrects == rows[0].seq
    assert rows[1].reason == "Second look: artefact"


def test_failing_audit_write_keeps_the_decision_and_never_says_saved(
    qtbot: Any, make_window: Any, demo_settings: Any, demo_bundle: Path, cxr_path: Path
) -> None:
    window = make_window(demo_settings, [cxr_path])
    wait_for_result(qtbot, window)
    real_append_all = window.audit.append_all

    def failing(events: Any) -> Any:
        if any(str(event.type) in ("decision", "amendment") for event in events):
            raise AuditWriteError("The decision was NOT saved: database or disk is full.")
        return real_append_all(events)

    window.audit.append_all = failing
    reason = find(window, QComboBox, "overrideReason")
    reason.setEditText("Prior film shows the same scar")
    override = find(window, QPushButton, "overrideButton")
    qtbot.mouseClick(override, Qt.MouseButton.LeftButton)
    status = find(window, QLabel, "decisionStatus")
    assert "NOT saved" in status.text() and "disk is full" in status.text()
    assert not status.text().startswith("Saved")
    assert reason.currentText() == "Prior film shows the same scar"
    assert override.isEnabled()
    assert decision_rows(demo_settings) == []

    window.audit.append_all = real_append_all  # the disk has space again: retry
    qtbot.mouseClick(override, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _saved(window), timeout=WAIT_MS)
    window.close()
    rows = decision_rows(demo_settings)
    assert [(r.meaning, r.reason) for r in rows] == [("overrode", "Prior film shows the same scar")]


def test_read_first_hides_the_result_until_the_provisional_read(
    qtbot: Any, make_window: Any, demo_settings: Any, demo_bundle: Path, cxr_path: Path
) -> None:
    settings = save_user_settings(demo_settings, {"reading.order": "read_first"})
    window = make_window(settings, [cxr_path])
    qtbot.waitUntil(
        lambda: window.current is not None and window.current.prediction is not None,
        timeout=WAIT_MS,
    )
    prob = find(window, QLabel, "aiProbability")
    assert prob.text() == ""
    assert "hidden" in find(window, QLabel, "aiState").text()
    confirm = find(window, QPushButton, "confirmButton")
    assert not confirm.isEnabled()
    assert not [r for r in all_rows(settings) if r.type == "ai_result_shown"]

    provisional = find(window, QComboBox, "provisionalFinding")
    provisional.setCurrentIndex(provisional.findData("absent"))
    qtbot.mouseClick(find(window, QPushButton, "provisionalButton"), Qt.MouseButton.LeftButton)
    assert prob.text() != ""
    assert confirm.isEnabled()
    qtbot.mouseClick(confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _saved(window), timeout=WAIT_MS)
    window.close()
    (row,) = decision_rows(settings)
    assert row.ai_shown == "after_read"
    assert row.detail["provisional_finding"] == "absent"
    assert row.detail["reading_order"] == "read_first"


def test_refused_bundle_says_why_and_offers_no_score(
    qtbot: Any,
    make_window: Any,
    demo_settings: Any,
    demo_bundle: Path,
    cxr_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tamper_demo_bundle(demo_bundle, tmp_path, monkeypatch)
    refused_without_score(qtbot, make_window(demo_settings, [cxr_path]), demo_settings)


def test_no_installed_model_outside_demo(
    qtbot: Any, make_window: Any, settings: Any, cxr_path: Path
) -> None:
    window = make_window(settings, [cxr_path])
    with qtbot.waitSignal(window.model_ready, timeout=WAIT_MS):
        pass
    qtbot.waitUntil(lambda: window.view.image is not None, timeout=WAIT_MS)
    assert "No model is installed" in find(window, QLabel, "aiState").text()
    assert find(window, QLabel, "aiProbability").text() == ""
    assert not find(window, QLabel, "demoBanner").isVisible()


def test_input_refusal_shows_reason_not_score(
    qtbot: Any, make_window: Any, demo_settings: Any, demo_bundle: Path, tmp_path: Path
) -> None:
    from viewer.dicom.synthetic import make_cxr

    ds = make_cxr(5, opacity=False, size=(256, 256))
    ds.Modality = "CT"
    path = tmp_path / "ct.dcm"
    ds.save_as(path, enforce_file_format=True)
    window = make_window(demo_settings, [path])
    qtbot.waitUntil(lambda: window.ai_panel.state() == "refused", timeout=WAIT_MS)
    assert "CT" in find(window, QLabel, "aiState").text()
    assert find(window, QLabel, "aiProbability").text() == ""
    assert not find(window, QPushButton, "confirmButton").isEnabled()


def test_demo_study_opens_with_banner_tree_and_worklist_batch(
    qtbot: Any, make_window: Any, demo_settings: Any, demo_bundle: Path
) -> None:
    window = make_window(demo_settings, demo_study=True)
    wait_for_result(qtbot, window)
    assert find(window, QLabel, "demoBanner").isVisible()
    assert len(window.browser.paths()) == 8
    wl = window.worklist
    qtbot.waitUntil(
        lambda: all(wl.status(p) == "scored" for p in window.browser.paths()), timeout=WAIT_MS
    )
    wl.sort_by_score()
    scores = [wl._rows[p]["score"] for p in wl.order()]
    assert scores == sorted(scores, reverse=True)


def test_stale_result_for_a_left_image_is_dropped(
    qtbot: Any, make_window: Any, demo_settings: Any, demo_bundle: Path, cxr_dir: Path
) -> None:
    a, b = sorted(str(p) for p in cxr_dir.glob("*.dcm"))[:2]
    window = make_window(demo_settings)
    window.worklist.set_paused(True)
    window.open_image(a)
    window.open_image(b)  # before a's decode came back
    wait_for_result(qtbot, window)
    assert window.current.path == b
    assert window.view.image.meta.path == b
    window.close()
    opened = [r for r in all_rows(demo_settings) if r.type == "image_opened"]
    assert len(opened) == 1


def test_heatmap_toggle_overlays_on_demand(
    qtbot: Any, make_window: Any, demo_settings: Any, demo_bundle: Path, cxr_path: Path
) -> None:
    window = make_window(demo_settings, [cxr_path])
    wait_for_result(qtbot, window)
    toggle = window.findChild(type(window.ai_panel.heatmap_toggle), "heatmapToggle")
    assert not toggle.isChecked() and not window.view.has_heatmap()
    toggle.setChecked(True)
    qtbot.waitUntil(window.view.has_heatmap, timeout=WAIT_MS)
    assert window.view.heatmap_visible
    assert "not a localisation" in find(window, QLabel, "heatmapCaption").text()
    toggle.setChecked(False)
    assert not window.view.heatmap_visible


def test_drop_a_folder_and_step_through(
    qtbot: Any, make_window: Any, demo_settings: Any, demo_bundle: Path, cxr_dir: Path
) -> None:
    window = make_window(demo_settings)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(cxr_dir))])
    drop = QDropEvent(
        QPoint(50, 50).toPointF(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter = QDragEnterEvent(
        QPoint(50, 50),  # QDragEnterEvent takes an integer point
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dragEnterEvent(enter)  # the handlers themselves: offscreen Qt has no drag session
    assert enter.isAccepted()
    window.dropEvent(drop)
    qtbot.waitUntil(lambda: window.view.image is not None, timeout=WAIT_MS)
    paths = window.browser.paths()
    assert len(paths) == 4 and window.current.path == paths[0]
    window.act_next.trigger()
    qtbot.waitUntil(lambda: _shown_path(window) == paths[1], timeout=WAIT_MS)
    window.act_prev.trigger()
    qtbot.waitUntil(lambda: _shown_path(window) == paths[0], timeout=WAIT_MS)


def test_status_bar_names_the_clinician(
    qtbot: Any, make_window: Any, demo_settings: Any, demo_bundle: Path
) -> None:
    settings = save_user_settings(
        demo_settings, {"user.name": "Dr Aiko Tanaka", "user.role": "Radiologist"}
    )
    window = make_window(settings)
    assert "Dr Aiko Tanaka (Radiologist)" in find(window, QLabel, "userStatus").text()


def test_window_presets_by_keys(
    qtbot: Any, make_window: Any, demo_settings: Any, demo_bundle: Path, cxr_path: Path
) -> None:
    window = make_window(demo_settings, [cxr_path])
    qtbot.waitUntil(lambda: window.view.image is not None, timeout=WAIT_MS)
    presets = window.view.presets()
    combo = find(window, QComboBox, "windowPresets")
    assert combo.count() == len(presets) + 1  # + "Custom"
    window.activateWindow()
    window.view.setFocus()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
    qtbot.keyClick(window.view, Qt.Key.Key_2)
    assert window.view.voi == presets[1]
    assert combo.currentIndex() == 1
    qtbot.keyClick(window.view, Qt.Key.Key_1)
    assert window.view.voi == presets[0]


def test_next_image_never_shows_the_previous_patient_while_decoding(
    qtbot: Any, make_window: Any, settings: Any, cxr_dir: Path
) -> None:
    paths = sorted(str(p) for p in cxr_dir.glob("*.dcm"))
    window = make_window(settings, [Path(paths[0])])
    qtbot.waitUntil(lambda: _shown_path(window) == paths[0], timeout=WAIT_MS)
    window.open_image(paths[1])
    assert window.view.image is None  # cleared at once, before the decode returns
    assert window.view.corner_texts() == {}
    qtbot.waitUntil(lambda: _shown_path(window) == paths[1], timeout=WAIT_MS)


def test_a_missing_file_is_reported_in_words(
    qtbot: Any, make_window: Any, settings: Any, tmp_path: Path
) -> None:
    missing = tmp_path / "not-there.dcm"
    window = make_window(settings, [missing])
    label = find(window, QLabel, "imageError")
    qtbot.waitUntil(lambda: label.text() != "", timeout=WAIT_MS)
    assert "not-there.dcm" in label.text()
    assert window.view.image is None


def test_returning_to_a_decided_image_offers_amendment_not_a_second_decision(
    qtbot: Any, make_window: Any, demo_settings: Any, demo_bundle: Path, cxr_dir: Path
) -> None:
    a, b = sorted(str(p) for p in cxr_dir.glob("*.dcm"))[:2]
    window = make_window(demo_settings)
    window.worklist.set_paused(True)
    window.open_image(a)
    wait_for_result(qtbot, window)
    confirm = find(window, QPushButton, "confirmButton")
    qtbot.mouseClick(confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _saved(window), timeout=WAIT_MS)
    window.open_image(b)
    wait_for_result(qtbot, window)
    assert not _saved(window) and confirm.isEnabled()
    window.open_image(a)
    qtbot.waitUntil(lambda: _saved(window), timeout=WAIT_MS)
    assert not confirm.isEnabled()
    amend = find(window, QPushButton, "amendButton")
    assert amend.isEnabled()
    qtbot.mouseClick(amend, Qt.MouseButton.LeftButton)
    find(window, QComboBox, "overrideReason").setEditText("Looked again")
    qtbot.mouseClick(find(window, QPushButton, "overrideButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: "Amended" in find(window, QLabel, "decisionStatus").text(), timeout=WAIT_MS
    )
    window.close()
    rows = decision_rows(demo_settings)
    assert [r.type for r in rows] == ["decision", "amendment"]
    assert rows[1].corrects == rows[0].seq


def test_an_image_decided_in_an_earlier_session_offers_amendment(
    qtbot: Any, make_window: Any, demo_settings: Any, demo_bundle: Path, cxr_path: Path
) -> None:
    first = make_window(demo_settings, [cxr_path])
    wait_for_result(qtbot, first)
    qtbot.mouseClick(find(first, QPushButton, "confirmButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _saved(first), timeout=WAIT_MS)
    first.close()

    second = make_window(demo_settings, [cxr_path])  # a later session on the same log
    qtbot.waitUntil(lambda: _saved(second), timeout=WAIT_MS)
    assert "Confirmed" in find(second, QLabel, "decisionStatus").text()
    assert not find(second, QPushButton, "confirmButton").isEnabled()
    qtbot.mouseClick(find(second, QPushButton, "amendButton"), Qt.MouseButton.LeftButton)
    find(second, QComboBox, "overrideReason").setEditText("Second session review")
    qtbot.mouseClick(find(second, QPushButton, "overrideButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _saved(second), timeout=WAIT_MS)
    second.close()
    rows = decision_rows(demo_settings)
    assert [r.type for r in rows] == ["decision", "amendment"]
    assert rows[1].corrects == rows[0].seq


def test_what_is_done_shows_in_the_worklist_and_tree_and_the_selection_follows(
    qtbot: Any, make_window: Any, demo_settings: Any, cxr_dir: Path, demo_bundle: Path
) -> None:
    """Issue 14 item 5: decided cases are marked (also those decided in an earlier run), the
    worklist's selection follows the image on screen, and its status and score columns are in
    view at the default width."""
    from viewer.ui.qt_worklist import COL_SCORE, COL_STATUS

    window = make_window(demo_settings, [cxr_dir])
    qtbot.waitUntil(lambda: len(window.worklist.order()) == 4, timeout=WAIT_MS)
    wait_for_result(qtbot, window)
    first = window.shown.path
    assert window.worklist.table.currentRow() == window.worklist.order().index(first)
    qtbot.mouseClick(find(window, QPushButton, "confirmButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _saved(window), timeout=WAIT_MS)
    assert window.worklist.done(first) == "decided" and window.browser.done(first) == "decided"
    window.step_image(1)
    qtbot.waitUntil(lambda: window.shown.path != first, timeout=WAIT_MS)
    second = window.shown.path
    assert window.worklist.table.currentRow() == window.worklist.order().index(second)
    window.tabs.setCurrentWidget(window.worklist)  # the left pane at its default width
    qtbot.waitUntil(lambda: window.worklist.table.viewport().width() > 150, timeout=WAIT_MS)
    header = window.worklist.table.horizontalHeader()
    width = window.worklist.table.viewport().width()
    for col in (COL_STATUS, COL_SCORE):  # in view without scrolling
        assert header.sectionViewportPosition(col) + header.sectionSize(col) <= width + 1
    window.close()
    window.shutdown()

    again = make_window(demo_settings, [cxr_dir])  # a new run: the log knows what was decided
    qtbot.waitUntil(lambda: again.worklist.done(first) == "decided", timeout=WAIT_MS)
    row = again.worklist.order().index(first)
    assert "✓" in again.worklist.table.item(row, COL_STATUS).text()
    assert again.browser.done(first) == "decided" and again.worklist.done(second) == ""
