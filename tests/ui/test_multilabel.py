"""A model with 18 labels (as TorchXRayVision's), read in the window (issue 13 item 4).

Every shown label is listed, positive findings first; the headline is the highest positive one;
each positive finding is decided on its own (one audit row each, one act); Confirm acts on all
of them; the worklist triages by the top positive finding.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QPushButton

from tests.inference.conftest import make_bundle, site_key  # noqa: F401  (fixtures)
from tests.ui.mainwin import (  # noqa: F401  (fixture)
    WAIT_MS,
    all_rows,
    find,
    make_window,
    wait_for_result,
)

# three findings the model always calls (threshold 0: every score reaches it); with random weights
# the others may or may not be positive, so the tests read which are from the prediction
NAMES = [
    "Atelectasis", "Consolidation", "Infiltration", "Pneumothorax", "Edema", "Emphysema",
    "Fibrosis", "Effusion", "Pneumonia", "Pleural_Thickening", "Cardiomegaly", "Nodule", "Mass",
    "Hernia", "Lung Lesion", "Fracture", "Lung Opacity", "Enlarged Cardiomediastinum",
]  # fmt: skip
POSITIVE = {"Effusion", "Cardiomegaly", "Lung Opacity"}
LABELS = tuple((n, 0.0 if n in POSITIVE else 0.999999) for n in NAMES)


def _window(qtbot: Any, make_window: Any, make_bundle: Callable[..., Path], folder: Path) -> Any:  # noqa: F811
    from viewer.bundle import ModelStore
    from viewer.config import load_settings, save_user_settings

    settings = save_user_settings(load_settings(), {"user.name": "Dr Many"})
    ModelStore(settings).install(make_bundle(labels=LABELS), activate=True)
    window = make_window(settings, [folder])
    wait_for_result(qtbot, window)
    return window


def test_every_label_listed_positives_first_and_the_top_one_leads(
    qtbot: Any,
    make_window: Any,  # noqa: F811
    make_bundle: Callable[..., Path],  # noqa: F811
    cxr_dir: Path,
) -> None:
    window = _window(qtbot, make_window, make_bundle, cxr_dir)
    pred = window.current.prediction
    positive = {r.label for r in pred.labels if r.positive}
    assert positive >= POSITIVE
    table = window.ai_panel.labels_table
    assert table.rowCount() == 18 and table.isVisibleTo(window)
    listed = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert set(listed[: len(positive)]) == positive and set(listed) == set(NAMES)
    scores = {r.label: r.score for r in pred.labels}
    top = max(positive, key=lambda n: scores[n])
    assert window.ai_panel.probability.text().startswith(f"{top}: ")
    assert listed[0] == top and window.ai_panel.heatmap_label == top
    # the decision panel offers each positive finding, not the other fifteen
    findings = window.decision.findings_table
    assert findings.isVisibleTo(window) and findings.rowCount() == len(positive)
    assert {findings.item(r, 0).text() for r in range(len(positive))} == positive
    # the worklist triages by the highest positive finding of each image
    qtbot.waitUntil(lambda: window.worklist.next_pending() is None, timeout=WAIT_MS)
    row = window.worklist._rows[window.shown.path]
    assert row["score"] == scores[top] and row["pos"] is True
    window.worklist.sort_by_score()
    by_path = window.worklist._rows
    # highest top finding first; an image without a score (refused) sorts below every score
    ranked_scores = [by_path[p]["score"] for p in window.worklist.order()]
    keys = [-1.0 if v is None else v for v in ranked_scores]
    assert keys == sorted(keys, reverse=True) and any(v is not None for v in ranked_scores)


def test_each_positive_finding_decided_one_row_each_in_one_act(
    qtbot: Any,
    make_window: Any,  # noqa: F811
    make_bundle: Callable[..., Path],  # noqa: F811
    cxr_dir: Path,
) -> None:
    window = _window(qtbot, make_window, make_bundle, cxr_dir)
    panel = window.decision
    positive = {r.label for r in window.current.prediction.labels if r.positive}
    labels = [panel.findings_table.item(r, 0).text() for r in range(len(positive))]
    reject = labels.index("Cardiomegaly")
    choice = find(window, QComboBox, f"findingChoice{reject}")
    choice.setCurrentIndex(choice.findData("reject"))
    save = find(window, QPushButton, "saveFindingsButton")
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert "reason" in panel.status.text().lower()  # a rejection needs its reason: nothing saved
    assert not [r for r in all_rows(window.settings) if r.type == "decision"]
    find(window, QLineEdit, f"findingReason{reject}").setText("AP film, heart size not assessable")
    find(window, QLineEdit, "missedFindings").setText(
        "" if "Pneumothorax" in positive else "Pneumothorax"
    )
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.status_kind() == "saved", timeout=WAIT_MS)
    rows = [r for r in all_rows(window.settings) if r.type == "decision"]
    missed = [] if "Pneumothorax" in positive else ["Pneumothorax"]
    assert sorted(r.detail["label"] for r in rows) == sorted([*positive, *missed])
    assert len({r.detail["reading_id"] for r in rows}) == 1
    by_label = {r.detail["label"]: r for r in rows}
    assert by_label["Cardiomegaly"].meaning == "overrode"
    assert by_label["Cardiomegaly"].reason == "AP film, heart size not assessable"
    assert by_label["Effusion"].meaning == "confirmed"
    assert by_label["Pneumothorax"].clinician_finding == "Pneumothorax: positive"

    first = window.shown.path
    window.step_image(1)  # Confirm on the next image acts on all its positive findings
    qtbot.waitUntil(lambda: window.shown.path != first and window.current.revealed, timeout=WAIT_MS)
    wait_for_result(qtbot, window)
    now_positive = {r.label for r in window.current.prediction.labels if r.positive}
    qtbot.mouseClick(find(window, QPushButton, "confirmButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.status_kind() == "saved", timeout=WAIT_MS)
    second = [
        r
        for r in all_rows(window.settings)
        if r.type == "decision" and r.detail.get("reading_id") != rows[0].detail["reading_id"]
    ]
    assert sorted(r.detail["label"] for r in second) == sorted(now_positive)
    assert {r.meaning for r in second} == {"confirmed"}


def test_calibrated_scores_shown_with_the_raw_ones_a_click_away(
    qtbot: Any,
    make_window: Any,  # noqa: F811
    make_bundle: Callable[..., Path],  # noqa: F811
    cxr_path: Path,
) -> None:
    """An op_norm-calibrated bundle (as TorchXRayVision shows its scores): the panel shows the
    calibrated score against 0.5; one click shows the model's raw score and threshold."""
    from PySide6.QtWidgets import QCheckBox

    from viewer.bundle import ModelStore
    from viewer.config import load_settings

    settings = load_settings()
    labels = (("Effusion", 0.3), ("Nodule", 0.7))
    ModelStore(settings).install(make_bundle(labels=labels, calibration="op_norm"), activate=True)
    window = make_window(settings, [cxr_path])
    wait_for_result(qtbot, window)
    raw = find(window, QCheckBox, "aiShowRaw")
    assert raw.isVisibleTo(window) and not raw.isChecked()
    table = window.ai_panel.labels_table

    def threshold_cells() -> set[str]:
        return {table.item(r, 2).text() for r in range(table.rowCount())}

    assert threshold_cells() == {"0.50"}  # every calibrated threshold sits at 0.5
    raw.setChecked(True)
    assert threshold_cells() == {"0.30", "0.70"}  # the model's own thresholds
    raw.setChecked(False)
    assert threshold_cells() == {"0.50"}
