"""Small screens (issue 14 item 6): at 1280 x 720 every text of the AI panel is fully readable.

Geometry, not existence: each label gets the height its wrapped text needs at its width (and the
width a one-line text needs), no label runs past the right edge of the scrolling column (its
horizontal size follows the column), the column's scroll bar reaches the bottom of the last
label, each label can be scrolled fully into view, and no two panel widgets overlap. The
prediction carries several long input warnings, long label names and the demo warning, in
English and in Japanese (whose lines break anywhere and run longer).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from tests.ui.mainwin import make_window
from tests.waits import WAIT_MS
from viewer.inference.checks import make_check
from viewer.inference.postprocess import LabelResult
from viewer.inference.predict import Prediction

__all__ = ["make_window"]  # fixture imported for pytest

SIZES = [(1280, 720), (1366, 768)]


def _prediction() -> Prediction:
    checks = [
        make_check("view", "warning", "view_missing", allowed="PA, AP"),
        make_check("modality_missing", "warning", "modality_missing", allowed="CR, DX"),
        make_check("photometric_missing", "warning", "photometric_missing"),
        make_check("view", "warning", "view_missing", allowed="PA, AP, LATERAL, LL, RL"),
        make_check("modality_missing", "warning", "modality_missing", allowed="CR, DX, DR"),
    ]
    names = [
        ("Enlarged cardiomediastinum", 0.81),
        ("Consolidation", 0.62),
        ("Pleural effusion", 0.31),
        ("Pneumothorax", 0.08),
    ]
    labels = [
        LabelResult(
            label=name,
            score=score,
            threshold=0.5,
            positive=score >= 0.5,
            operating_point="sensitivity 0.90 at specificity 0.80 on the internal validation set",
            display_name=name,
        )
        for name, score in names
    ]
    return Prediction(
        labels=labels,
        checks=checks,
        model_id="fake-cxr",
        model_version="1.2.3",
        bundle_digest="ab" * 32,
        threads=1,
        timings_ms={"total": 1.0},
        positive_labels=[n for n, s in names if s >= 0.5],
    )


def _manifest() -> Any:
    return SimpleNamespace(
        id="fake-cxr",
        name="Fake chest radiograph model with a long name",
        version="1.2.3",
        creator=SimpleNamespace(name="ML team", organisation="Example University Hospital"),
        intended_use="Second reader for adult chest radiographs.",
        labels=[],
    )


def _in(widget: QWidget, ancestor: QWidget) -> QRect:
    """``widget``'s rectangle in ``ancestor``'s coordinates."""
    top_left = widget.mapTo(ancestor, QPoint(0, 0))
    return QRect(top_left, widget.size())


def _problems(qtbot: Any, window: Any) -> list[str]:
    scroll = window.right_scroll
    content = scroll.widget()
    viewport = scroll.viewport()
    bar = scroll.verticalScrollBar()
    bad: list[str] = []
    if content.width() > viewport.width():
        bad.append(f"column {content.width()} px wide in a {viewport.width()} px viewport")
    if bar.maximum() != max(0, content.height() - viewport.height()):
        bad.append(f"scroll range {bar.maximum()} for {content.height() - viewport.height()}")
    labels = [
        lab
        for lab in window.ai_panel.findChildren(QLabel)
        if lab.isVisibleTo(window) and lab.text().strip()
    ]
    assert {"aiProbability", "aiThreshold", "aiFinding", "aiWarnings", "aiModel"} <= {
        lab.objectName() for lab in labels
    }
    for lab in labels:
        name = lab.objectName()
        rect = _in(lab, content)
        if lab.wordWrap():
            need = lab.heightForWidth(lab.width())
            if lab.height() < need:
                bad.append(f"{name}: {lab.height()} px high, its text needs {need}")
        else:
            hint = lab.sizeHint()
            if lab.width() < hint.width() or lab.height() < hint.height():
                bad.append(f"{name}: {lab.size().toTuple()} for a {hint.toTuple()} text")
        if rect.right() >= viewport.width() or rect.left() < 0:
            bad.append(f"{name}: x {rect.left()}..{rect.right()} outside {viewport.width()}")
        if rect.bottom() >= content.height():
            bad.append(f"{name}: below the column ({rect.bottom()} >= {content.height()})")
        # scrolled to, the whole label is on screen
        scroll.ensureWidgetVisible(lab, 0, 0)
        QApplication.processEvents()
        shown = _in(lab, viewport)
        if lab.height() <= viewport.height() and not viewport.rect().contains(shown):
            bad.append(f"{name}: scrolled to, still cut ({shown} in {viewport.rect()})")
    bar.setValue(bar.maximum())  # the very bottom is reachable
    QApplication.processEvents()
    last = max(labels, key=lambda lab: _in(lab, content).bottom())
    if not viewport.rect().contains(_in(last, viewport)):
        bad.append(f"{last.objectName()}: not fully visible at the bottom of the scroll range")
    # nothing overlaps: the AI panel's widgets, the AI panel and the decision panel
    parts = [
        w
        for w in window.ai_panel.findChildren(QWidget)
        if w.parent() is window.ai_panel and w.isVisibleTo(window)
    ]
    for i, a in enumerate(parts):
        for b in parts[i + 1 :]:
            if a.geometry().intersects(b.geometry()):
                bad.append(f"{a.objectName()} overlaps {b.objectName()}")
    if _in(window.ai_panel, content).intersects(_in(window.decision, content)):
        bad.append("the AI panel overlaps the decision panel")
    return bad


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_ai_panel_text_is_readable_on_a_small_screen(
    qtbot: Any, make_window: Any, settings: Any, language: str, size: tuple[int, int]
) -> None:
    from viewer.ui.i18n import install_translator

    app = QApplication.instance()
    install_translator(app, language)
    try:
        window = make_window(settings, start=False)
        window.ai_panel.set_model(_manifest(), demo=True)
        window.ai_panel.set_result(_prediction())
        window.decision.set_findings(["Enlarged cardiomediastinum", "Consolidation"], multi=True)
        window.decision.set_decision_enabled(True)
        window.resize(*size)
        qtbot.waitUntil(lambda: window.size().toTuple() == size, timeout=WAIT_MS)
        assert window.minimumSizeHint().width() <= size[0]
        assert window.minimumSizeHint().height() <= size[1]
        QApplication.processEvents()
        warnings = window.ai_panel.warnings.text()
        assert warnings.count("⚠") == 5  # every warning, the last one included
        assert _problems(qtbot, window) == []
    finally:
        install_translator(app, "en")
