"""Review of the window as a controller (issue 11): a model reload while a result is on screen.

Reload model (Tools menu) and closing the model manager reload the model; until the new model has
scored the image, no score is on screen, so no decision may be taken on the old one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from tests.ui.mainwin import WAIT_MS, all_rows, demo_bundle, find, make_window, wait_for_result

__all__ = ["demo_bundle", "make_window"]  # fixtures imported for pytest


def test_a_model_reload_never_leaves_an_unseen_score_decidable(
    qtbot: Any, make_window: Any, demo_settings: Any, demo_bundle: Path, cxr_path: Path
) -> None:
    window = make_window(demo_settings, [cxr_path])
    wait_for_result(qtbot, window)
    confirm = find(window, QPushButton, "confirmButton")
    assert confirm.isEnabled()

    with qtbot.waitSignal(window.model_ready, timeout=WAIT_MS):
        window.load_model()  # Tools > Reload model
        assert window.ai_panel.state() == "loading"
        assert not confirm.isEnabled(), "Confirm is live while the panel shows no score"

    # the new model scores the image on screen again, and that showing is recorded
    qtbot.waitUntil(lambda: window.ai_panel.state() == "result", timeout=WAIT_MS)
    assert confirm.isEnabled()
    window.close()
    shown = [r for r in all_rows(demo_settings) if r.type == "ai_result_shown"]
    assert len(shown) == 2


def test_another_image_at_a_path_already_read_gets_neither_its_score_nor_its_decision(
    qtbot: Any, make_window: Any, demo_settings: Any, demo_bundle: Path, tmp_path: Path
) -> None:
    """Every CD from one vendor names its images alike (D:\\DICOM\\PA000000\\...\\IM000000): the
    reader decides patient A's image, puts in the next CD and opens patient B's image at the same
    path. B must be scored on B's pixels, with no "Saved" from A and no amendment of A's row."""
    from viewer.dicom.synthetic import make_cxr

    cd = tmp_path / "cdrom"
    cd.mkdir()
    path, other = cd / "IM000000", cd / "IM000001"
    ds_a = make_cxr(1, opacity=True, size=(256, 256), patient_index=1)
    ds_a.save_as(path, enforce_file_format=True)
    make_cxr(5, opacity=False, size=(256, 256)).save_as(other, enforce_file_format=True)
    window = make_window(demo_settings)
    window.worklist.set_paused(True)
    window.open_image(str(path))
    wait_for_result(qtbot, window)
    score_a = window.current.prediction.labels[0].score
    qtbot.mouseClick(find(window, QPushButton, "confirmButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.current.decision is not None, timeout=WAIT_MS)

    window.open_image(str(other))
    wait_for_result(qtbot, window)
    # the next CD: patient B's image under the same name
    ds_b = make_cxr(2, opacity=False, size=(256, 256), patient_index=2)
    assert ds_b.PatientID != ds_a.PatientID
    ds_b.save_as(path, enforce_file_format=True)
    window.open_image(str(path))
    qtbot.waitUntil(
        lambda: window.current.meta is not None and window.ai_panel.state() == "result",
        timeout=WAIT_MS,
    )
    assert window.current.meta.patient_id == ds_b.PatientID
    assert window.current.prediction.labels[0].score != score_a, "patient A's score on B"
    assert window.current.decision is None, "patient A's decision is shown on patient B's image"
