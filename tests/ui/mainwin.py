"""Fixtures and helpers for the main-window tests (imported by tests/ui/test_main_*.py).

Every window made here is closed at teardown, its worker pools are drained (``shutdown`` waits for
them), and the global pool too, so no worker or dialog outlives its test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.waits import WAIT_MS

DEMO_BUNDLE = Path(__file__).resolve().parents[2] / "resources" / "demo" / "demo-cxr.bundle"


@pytest.fixture
def demo_bundle() -> Path:
    if not DEMO_BUNDLE.is_file():
        pytest.skip("resources/demo/demo-cxr.bundle is not built (make demo-bundle)")
    return DEMO_BUNDLE


@pytest.fixture
def make_window(qtbot: Any) -> Iterator[Callable[..., Any]]:
    from PySide6.QtCore import QThreadPool

    from viewer.ui.qt_main_window import QtMainWindow

    made: list[Any] = []

    def make(
        settings: Any,
        paths: list[Path] | tuple[Path, ...] = (),
        *,
        demo_study: bool = False,
        start: bool = True,
        prewarm: Any = None,
    ) -> Any:
        window = QtMainWindow(settings, prewarm=prewarm)
        qtbot.addWidget(window)
        window.show()
        if start:
            window.start(list(paths), demo_study=demo_study)
        made.append(window)
        return window

    yield make
    for window in made:
        window.close()
        window.shutdown()
    assert QThreadPool.globalInstance().waitForDone(WAIT_MS), "a worker outlived its test"


def find(window: Any, cls: Any, name: str) -> Any:
    widget = window.findChild(cls, name)
    assert widget is not None, f"no {cls.__name__} named {name!r}"
    return widget


def wait_for_result(qtbot: Any, window: Any) -> None:
    """Wait until the AI panel shows a score (or fail with what it shows instead)."""
    from PySide6.QtWidgets import QLabel

    prob = find(window, QLabel, "aiProbability")
    state = find(window, QLabel, "aiState")

    def shown() -> bool:
        assert window.model_error == "", window.model_error
        assert window.ai_panel.state() not in ("refused", "no_model"), state.text()
        return prob.text() != ""

    qtbot.waitUntil(shown, timeout=WAIT_MS)


def decision_rows(settings: Any) -> list[Any]:
    from viewer.audit import AuditLog

    log = AuditLog.open(settings)
    try:
        return [r for r in log.records() if r.type in ("decision", "amendment")]
    finally:
        log.close()


def all_rows(settings: Any) -> list[Any]:
    from viewer.audit import AuditLog

    # read-only: tests poll this while the window writes; a writable open per poll competed
    # with the window's writer for the lock ("the audit log is busy" once under heavy load)
    from viewer.errors import AuditError

    try:
        log = AuditLog.open_readonly(settings.audit_db_path, settings=settings)
    except AuditError:  # not created yet, or being created: the poll asks again
        return []
    try:
        return list(log.records())
    finally:
        log.close()


def tamper_demo_bundle(demo_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo bundle with one byte flipped mid-file becomes the one the session opens."""
    import viewer.session.models as session_models

    data = bytearray(demo_bundle.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tampered = tmp_path / "tampered.bundle"
    tampered.write_bytes(bytes(data))
    monkeypatch.setattr(session_models, "demo_bundle_path", lambda: tampered)


def refused_without_score(qtbot: Any, window: Any, settings: Any) -> str:
    """Wait for the model job to end with no model and the image shown; check no score and no
    Confirm are offered and the refusal is in the log; returns the AI panel's text."""
    from PySide6.QtWidgets import QLabel, QPushButton

    with qtbot.waitSignal(window.model_ready, timeout=WAIT_MS) as sig:
        pass
    assert sig.args == [None]
    qtbot.waitUntil(lambda: window.view.image is not None, timeout=WAIT_MS)
    state = str(find(window, QLabel, "aiState").text())
    assert state.startswith("No AI result:")
    assert find(window, QLabel, "aiProbability").text() == ""
    assert not find(window, QPushButton, "confirmButton").isEnabled()
    window.close()
    assert "bundle_refused" in [r.type for r in all_rows(settings)]
    return state
