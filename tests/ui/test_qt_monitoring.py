"""Monitoring window: a simulated site (a real audit log) whose Effusion scores moved up and 30 %
of whose images now come from a new manufacturer; the summary, the alerts, the plots, the export,
Japanese, and the state of a model whose bundle carries no reference profile."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QComboBox, QFileDialog, QLabel, QPushButton, QTableWidget
from pytestqt.qtbot import QtBot

from tests.monitoring.audit_rows import write_log
from tests.monitoring.simulate import Drift, make_profile, simulate
from tests.ui.test_accessibility_admin import _unnamed
from tests.waits import WAIT_MS
from viewer.config import Settings
from viewer.monitoring.monitor import MESSAGES, Sentence
from viewer.session.monitoring_view import MonitoringSource
from viewer.ui.qt_monitoring import QtMonitoringWindow, monitoring_templates, sentence_text

PROFILE = make_profile()
KEY = ("sim-cxr", "1.0.0")
DRIFT = Drift(score_shift={"effusion": 0.1}, new_manufacturer=0.3)


@pytest.fixture
def drifted(settings: Settings) -> Settings:
    write_log(settings, simulate(PROFILE, seed=5, baseline=1200, window=600, drift=DRIFT))
    return settings


def _open(qtbot: QtBot, source: MonitoringSource) -> QtMonitoringWindow:
    win = QtMonitoringWindow(source)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: not win.is_busy() and win.view() is not None, timeout=WAIT_MS)
    return win


@pytest.fixture
def window(qtbot: QtBot, drifted: Settings) -> Iterator[QtMonitoringWindow]:
    win = _open(qtbot, MonitoringSource(drifted, references={KEY: PROFILE}))
    yield win
    win.shutdown()
    assert QThreadPool.globalInstance().waitForDone(WAIT_MS), "a worker outlived its test"


def test_summary_alerts_and_plots(window: QtMonitoringWindow) -> None:
    summary = window.findChild(QLabel, "monitorSummary").text()
    assert "• Scores of 'effusion' have shifted upward since " in summary
    assert "% of images now come from a new manufacturer ('Zenith Medical')" in summary
    assert "600 AI results" in summary
    # the window says what the report (and so the PDF and the JSON) says
    report = window.view().report  # type: ignore[union-attr]
    for sentence in report["models"][0]["summary"]:
        assert sentence in summary
    assert not window.findChild(QLabel, "monitorUnavailable").isVisible()
    assert "alert(s)" in window.findChild(QLabel, "monitorStatus").text()

    table = window.findChild(QTableWidget, "monitorAlerts")
    listed = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert "Scores: effusion" in listed and "Manufacturer mix" in listed
    row = listed.index("Scores: effusion")
    assert table.item(row, 1).text() == "KS D" and float(table.item(row, 2).text()) > 0.1
    assert table.item(row, 3).text() == f"p < {report['models'][0]['tests'][0]['threshold']:.2g}"

    plots = window.plots()
    assert {"scores:effusion", "category:manufacturer", "rate:override_rate"} <= set(plots)
    for key in ("scores:effusion", "category:manufacturer", "rate:override_rate"):
        assert plots[key].plot().has_data and plots[key].isVisible()
    effusion = plots["scores:effusion"]
    assert effusion.plot().alert and 550 < effusion.plot().n < 600  # refused: no score
    assert effusion.accessibleName() == f"Scores of 'effusion' ({effusion.plot().n} in the window)"
    mix = plots["category:manufacturer"].plot()
    assert mix.values("window")[mix.x_labels.index("Zenith Medical")] > 20  # type: ignore[operator]
    rate = plots["rate:override_rate"].plot()
    assert len([v for v in rate.values("rate") if v is not None]) >= 3
    assert rate.values("upper")[-1] is not None and rate.values("center")[-1] is not None
    image = effusion.grab().toImage()
    assert image.width() >= 320 and image.height() >= 200
    colours = {
        image.pixelColor(x, y).name()
        for x in range(0, image.width(), 3)
        for y in range(0, image.height(), 3)
    }
    assert "#1f6fb2" in colours and "#9e9e9e" in colours  # window and reference bars drawn


def test_export_writes_the_commands_pdf_and_json(
    window: QtMonitoringWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    pdf = tmp_path / "monitoring.pdf"
    window.export_to(pdf, "pdf")
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=WAIT_MS)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5000
    assert str(pdf) in window.findChild(QLabel, "monitorExportStatus").text()
    out = tmp_path / "monitoring.json"
    window.export_to(out, "json")
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=WAIT_MS)
    assert (
        json.loads(out.read_text("utf-8"))["models"][0]["summary"]
        == window.view().report["models"][0]["summary"]
    )  # type: ignore[union-attr]


def test_export_button_asks_where_and_adds_the_ending(
    window: QtMonitoringWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def save_as(_parent: object, title: str, suggested: str, _filter: str) -> tuple[str, str]:
        asked.append(suggested)
        return (str(tmp_path / "site-drift"), "")  # typed without an ending

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    window.findChild(QPushButton, "monitorExportPdfButton").click()
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=WAIT_MS)
    assert Path(asked[0]).name.startswith("bedside-monitoring-") and asked[0].endswith(".pdf")
    assert (tmp_path / "site-drift.pdf").read_bytes().startswith(b"%PDF")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a: ("", ""))  # cancelled
    window.findChild(QPushButton, "monitorExportJsonButton").click()
    assert not window.is_busy() and list(tmp_path.glob("*.json")) == []


def test_window_selector_rereads_and_every_widget_is_named(
    window: QtMonitoringWindow, qtbot: QtBot
) -> None:
    assert _unnamed(window) == []
    selector = window.findChild(QComboBox, "monitorWindowSelector")
    assert [selector.itemText(i) for i in range(selector.count())][:4] == [
        "last 30 days", "last 7 days", "last 90 days", "last 200 cases",
    ]  # fmt: skip
    selector.setCurrentIndex(3)  # last 200 cases: read again
    qtbot.waitUntil(
        lambda: not window.is_busy() and window.view().window == "last 200 cases", timeout=WAIT_MS
    )  # type: ignore[union-attr]
    model = window.current_model()
    assert model is not None and model.window["results"] == 200
    for name in ("monitorRefreshButton", "monitorExportPdfButton", "monitorExportJsonButton"):
        assert window.findChild(QPushButton, name).isEnabled()


def test_unavailable_without_a_reference_profile(qtbot: QtBot, drifted: Settings) -> None:
    win = _open(qtbot, MonitoringSource(drifted, references={KEY: None}, record=False))
    try:
        banner = win.findChild(QLabel, "monitorUnavailable")
        assert banner.isVisible() and "carries no reference profile" in banner.text()
        assert (
            win.findChild(QLabel, "monitorSummary")
            .text()
            .startswith("• " + MESSAGES["unavailable"])
        )
        assert win.findChild(QTableWidget, "monitorAlerts").rowCount() == 0
        plots = win.plots()
        assert not any(k.startswith(("scores:", "category:")) for k in plots)
        assert plots["rate:override_rate"].plot().has_data  # the site's own history still charts
    finally:
        win.shutdown()
        assert QThreadPool.globalInstance().waitForDone(WAIT_MS), "a worker outlived its test"


def test_every_summary_code_has_a_template_with_the_cores_words() -> None:
    assert monitoring_templates() == MESSAGES  # English: the source strings are the core's


def test_japanese_summary(qapp: object) -> None:
    from viewer.ui.i18n import install_translator

    sentence = Sentence(
        "rate_up",
        {"rate": "override rate", "rate_key": "override_rate", "rate_pct": 25.0, "n": 200,
         "center": 10.0, "lower": 4.0, "upper": 16.0},
    )  # fmt: skip
    assert sentence_text(sentence) == sentence.text
    install_translator(qapp, "ja")  # type: ignore[arg-type]
    try:
        text = sentence_text(sentence)
        assert (
            text != sentence.text and "上書き率が 200 件で 25 % に上昇" in text and "25 %" in text
        )
    finally:
        install_translator(qapp, "en")  # type: ignore[arg-type]
