"""The Monitoring window's core (viewer.session.monitoring_view), without Qt: the report the
window and ``bedside monitor report`` share, read from a real audit log holding a simulated
site whose Effusion scores moved up and 30 % of whose images come from a new manufacturer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.monitoring.audit_rows import write_log
from tests.monitoring.simulate import Drift, make_profile, simulate
from viewer.audit import AuditLog, Filters
from viewer.config import Settings
from viewer.errors import BedsideError
from viewer.monitoring import WindowSpec
from viewer.monitoring.monitor import MESSAGES
from viewer.session.monitoring_view import (
    MonitoringCancelledError,
    MonitoringSource,
    monitoring_view,
    write_report,
)

PROFILE = make_profile()
KEY = ("sim-cxr", "1.0.0")
DRIFT = Drift(score_shift={"effusion": 0.1}, new_manufacturer=0.3)


STREAMS = simulate(PROFILE, seed=5, baseline=1200, window=600, drift=DRIFT)


@pytest.fixture
def drifted(settings: Settings) -> Settings:
    write_log(settings, STREAMS)
    return settings


def test_the_report_says_what_moved_and_the_view_draws_it(drifted: Settings) -> None:
    source = MonitoringSource(drifted, references={KEY: PROFILE})
    report = source.report(WindowSpec(days=30.0))
    view = monitoring_view(report)
    (model,) = view.models
    assert model.key == "sim-cxr 1.0.0" and model.status == "alert" and model.available
    assert model.window["results"] == 600 and model.window["reads"] > 500
    # the summary: the report's own sentences, in the report's order and words
    texts = [s.text for s in model.sentences]
    assert texts == report["models"][0]["summary"]
    codes = [s.code for s in model.sentences]
    assert "scores_up" in codes and "new_manufacturer" in codes
    shift = next(s for s in model.sentences if s.code == "scores_up")
    assert shift.params["label"] == "effusion" and shift.params["shift"] == pytest.approx(
        0.1, abs=0.03
    )
    assert shift.text.startswith("Scores of 'effusion' have shifted upward since ")
    new = next(s for s in model.sentences if s.code == "new_manufacturer")
    assert new.params["name"] == "Zenith Medical" and 25 <= new.params["share"] <= 35
    assert new.text.startswith(
        f"{new.params['share']:.0f} % of images now come from a new manufacturer"
    )
    # every alert is listed with its sentence; recorded once in the log
    tests = [a.test for a in model.alerts]
    assert "scores:effusion" in tests and "category:manufacturer" in tests
    assert [a.sentence.text for a in model.alerts] == [
        a["message"] for a in report["models"][0]["alerts"]
    ]
    assert report["recorded"] == len(model.alerts)
    with AuditLog.open(drifted) as log:
        assert len(log.records(Filters(types=("monitor_alert",)))) == len(model.alerts)
    # plots: one histogram per label and numeric tag, a p-chart per rate, a mix per category
    hist = {p.name: p for p in model.histograms}
    assert {"opacity", "effusion", "cardiomegaly", "rows"} <= set(hist)
    effusion = hist["effusion"]
    assert effusion.alert and effusion.style == "bars" and effusion.has_data
    ref, win = effusion.values("reference"), effusion.values("window")
    assert len(ref) == len(win) == len(effusion.x_labels) == 20  # scores stay in 0..1
    assert sum(v or 0 for v in ref) == pytest.approx(100.0)
    assert sum(v or 0 for v in win) == pytest.approx(100.0)
    centres = [i + 0.5 for i in range(20)]
    mean = lambda shares: sum(c * (s or 0) for c, s in zip(centres, shares, strict=True)) / 100  # noqa: E731
    assert mean(win) - mean(ref) == pytest.approx(2.0, abs=0.6)  # +0.1 is two bins of 0.05
    mix = {p.name: p for p in model.mixes}["manufacturer"]
    assert mix.alert and "Zenith Medical" in mix.x_labels
    i = mix.x_labels.index("Zenith Medical")
    assert mix.values("reference")[i] == 0.0 and 25 <= (mix.values("window")[i] or 0) <= 35
    rates = {p.name: p for p in model.rates}
    override = rates["override_rate"]
    assert override.style == "lines" and override.has_data
    rate, center = override.values("rate"), override.values("center")
    upper, lower = override.values("upper"), override.values("lower")
    assert len(rate) == len(override.x_labels) >= 3  # earlier 30-day windows, then this one
    # the centre is the site's own override rate before the window (refused cases have no read)
    read = STREAMS.results.columns["refused"][:1200] == 0
    earlier = STREAMS.reads.columns["overrode"][:1200][read]
    assert center[-1] == pytest.approx(100.0 * earlier.mean())
    assert (lower[-1] or 0) < (center[-1] or 0) < (upper[-1] or 0)
    assert not override.alert


def test_window_of_cases_and_no_reference(drifted: Settings) -> None:
    source = MonitoringSource(drifted, references={KEY: None}, record=False)
    view = monitoring_view(source.report(WindowSpec(days=None, cases=600)))
    (model,) = view.models
    assert not model.available and model.status == "unavailable"
    assert [s.code for s in model.sentences] == ["unavailable"]
    assert model.sentences[0].text == MESSAGES["unavailable"]
    assert model.histograms == () and model.mixes == ()
    assert all(p.values("rate") for p in model.rates)  # the site's own history still charts
    assert view.window == "last 600 cases"
    with AuditLog.open(drifted) as log:  # record=False: nothing written
        assert log.records(Filters(types=("monitor_alert",))) == []


def test_no_drift_sentence(settings: Settings) -> None:
    write_log(settings, simulate(PROFILE, seed=11, baseline=300, window=300), window=300)
    view = monitoring_view(
        MonitoringSource(settings, references={KEY: PROFILE}, record=False).report(
            WindowSpec(days=30.0)
        )
    )
    (model,) = view.models
    assert model.status == "ok" and model.alerts == ()
    assert [s.text for s in model.sentences] == ["No drift detected in the last 30 days."]


def test_write_report_is_the_commands_output(drifted: Settings, tmp_path: Path) -> None:
    source = MonitoringSource(drifted, references={KEY: PROFILE}, record=False)
    report = source.report(WindowSpec(days=30.0))
    out = write_report(report, "json", tmp_path / "m.json", settings=drifted, overwrite=False)
    assert json.loads(out.read_text("utf-8")) == json.loads(json.dumps(report))
    pdf = write_report(report, "pdf", tmp_path / "m.pdf", settings=drifted, overwrite=False)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5000
    with pytest.raises(BedsideError, match="already exists"):
        write_report(report, "pdf", pdf, settings=drifted, overwrite=False)
    with pytest.raises(BedsideError, match="Unknown report format"):
        write_report(report, "csv", tmp_path / "m.csv", settings=drifted, overwrite=False)


def test_cancelled_while_reading(drifted: Settings) -> None:
    seen: list[int] = []
    source = MonitoringSource(drifted, references={KEY: PROFILE}, record=False)
    with pytest.raises(MonitoringCancelledError):
        source.report(WindowSpec(days=30.0), progress=seen.append, cancelled=lambda: bool(seen))
    assert seen == [2000]  # stopped at the first check after a progress report
    source.report(WindowSpec(days=30.0), progress=seen.append)
    assert seen[1:] == [2000, 4000]  # about 5,300 rows: image_opened, results, decisions
