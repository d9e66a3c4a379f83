"""The start-up import of torch never lets a result out early (issue 19 item 4).

The window's first model job waits for the prewarm (torch imported since the process started);
whether the prewarm ends before or after the first image is decoded, no AI result is shown
before the bundle was verified and self-tested (``bundle_verified`` comes before
``ai_result_shown`` in the log), and a window closed while the prewarm still runs closes at once
and loads nothing. Real demo bundle, real window, real audit log.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel, QPushButton

from tests.ui.mainwin import WAIT_MS, all_rows, demo_bundle, find, make_window
from viewer.session.prewarm import MODEL_MODULES, Prewarm

__all__ = ["demo_bundle", "make_window"]  # fixtures imported for pytest


def _types(settings: Any) -> list[str]:
    return [r.type for r in all_rows(settings)]


def _nothing_shown(window: Any) -> None:
    assert find(window, QLabel, "aiProbability").text() == ""
    assert not find(window, QPushButton, "confirmButton").isEnabled()
    assert window.model is None
    assert window.current is not None and window.current.prediction is None


def _shown_after_verification(qtbot: Any, window: Any, settings: Any, shown: list[Any]) -> None:
    qtbot.waitUntil(lambda: bool(shown), timeout=WAIT_MS)
    assert window.model is not None and window.model.loaded.selftest.passed
    assert find(window, QLabel, "aiProbability").text() != ""
    qtbot.waitUntil(lambda: "ai_result_shown" in _types(settings), timeout=WAIT_MS)
    types = _types(settings)
    assert types.index("bundle_verified") < types.index("ai_result_shown"), types


def test_prewarm_ending_after_the_first_decode_holds_the_result_back(
    qtbot: Any, make_window: Any, demo_settings: Any, demo_bundle: Path, cxr_path: Path
) -> None:
    for name in ("torch", *MODEL_MODULES):  # so a job that did not wait would load in ~0.1 s
        importlib.import_module(name)
    prewarm = Prewarm()  # not started yet: the image is decoded and shown long before it ends
    window = make_window(demo_settings, start=False, prewarm=prewarm)
    shown: list[Any] = []
    window.prediction_shown.connect(shown.append)
    with qtbot.waitSignal(window.image_shown, timeout=WAIT_MS):
        window.start([cxr_path])
    qtbot.waitUntil(lambda: "image_opened" in _types(demo_settings), timeout=WAIT_MS)
    end = time.monotonic() + 1.5  # the model job is waiting; give a wrong path time to show
    qtbot.waitUntil(lambda: time.monotonic() > end, timeout=WAIT_MS)
    _nothing_shown(window)
    assert not shown and "bundle_verified" not in _types(demo_settings)
    assert window.model_loading and not prewarm.done

    prewarm.start()
    _shown_after_verification(qtbot, window, demo_settings, shown)
    assert prewarm.done and prewarm.error is None


def _missing_module(_mark: object) -> None:
    import viewer.no_such_module  # type: ignore[import-not-found]  # noqa: F401


@pytest.mark.parametrize("fails", [False, True], ids=["imported", "import-failed"])
def test_prewarm_ended_before_the_first_decode_still_verifies_first(
    qtbot: Any,
    make_window: Any,
    demo_settings: Any,
    demo_bundle: Path,
    cxr_path: Path,
    fails: bool,
) -> None:
    # also when it failed: its error is kept, not shown; the load job imports for itself
    prewarm = (Prewarm(models=_missing_module) if fails else Prewarm()).start()
    assert prewarm.wait(WAIT_MS / 1000)
    if fails:
        assert isinstance(prewarm.error, ModuleNotFoundError)
    else:
        assert prewarm.error is None
    window = make_window(demo_settings, start=False, prewarm=prewarm)
    shown: list[Any] = []
    window.prediction_shown.connect(shown.append)
    window.start([cxr_path])
    _shown_after_verification(qtbot, window, demo_settings, shown)


def test_closing_while_the_prewarm_runs_loads_nothing_and_does_not_wait(
    qtbot: Any, make_window: Any, demo_settings: Any, demo_bundle: Path, cxr_path: Path
) -> None:
    prewarm = Prewarm()  # never started: an import that would take for ever
    window = make_window(demo_settings, start=False, prewarm=prewarm)
    window.start([cxr_path])
    qtbot.waitUntil(lambda: "app_start" in _types(demo_settings), timeout=WAIT_MS)
    window.close()  # the model job stops waiting when cancelled (a hang: the test's timeout)
    types = _types(demo_settings)
    assert "app_stop" in types
    assert "bundle_verified" not in types and "bundle_refused" not in types
