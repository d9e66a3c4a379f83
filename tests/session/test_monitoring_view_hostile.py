"""The Monitoring window's view model over log rows holding terminal escapes and bidirectional
overrides: every text it hands to widgets is printable (a visible mark instead)."""

from __future__ import annotations

import copy
from typing import Any

from tests.session.test_monitoring_view import KEY, PROFILE, drifted
from viewer.config import Settings
from viewer.monitoring import WindowSpec
from viewer.session.monitoring_view import MonitoringSource, monitoring_view

__all__ = ["drifted"]  # the fixture, used here

EVIL = "Zenith\u202e LACIDEM\x1b[2J\x9b31m"


def _texts(view: Any) -> list[str]:
    out: list[str] = []
    for model in view.models:
        out += [model.key, model.reference, *model.notes, *(r for r, _ in model.refusals)]
        out += [s.text for s in model.sentences] + [a.sentence.text for a in model.alerts]
        for plot in (*model.histograms, *model.mixes, *model.rates):
            out += list(plot.x_labels)
    return out


def test_log_text_reaches_the_window_printable(drifted: Settings) -> None:
    report = MonitoringSource(drifted, references={KEY: PROFILE}).report(WindowSpec(days=30.0))
    hostile = copy.deepcopy(report)
    model = hostile["models"][0]
    model["model"] = f"sim-cxr {EVIL}"
    model["reference"] = EVIL
    model["notes"] = [EVIL]
    model["refusals_by_reason"] = {EVIL: 3}
    for test in model["tests"]:
        if test["kind"] == "category":
            test["table"]["categories"] = [EVIL for _ in test["table"]["categories"]]
    for entry in [*model["sentences"], *model["alerts"]]:
        for k, v in (entry.get("params") or {}).items():
            if isinstance(v, str):
                entry["params"][k] = EVIL
    texts = _texts(monitoring_view(hostile))
    assert any("\ufffd" in t for t in texts)
    for raw in ("\u202e", "\x1b", "\x9b"):
        assert not any(raw in t for t in texts), raw
