"""Prefetch (issue 14): the next image in Next order is decoded ahead, in the background.

No timings here (bench/bench_ui.py ``prefetch`` measures the hit); these check what the
reader relies on: the decode happens without Next, a hit submits no read job and shows the
image, a file changed on disk is read again, and the audit rows are the same either way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.ui.mainwin import all_rows, make_window
from tests.waits import WAIT_MS

__all__ = ["make_window"]  # fixture imported for pytest


@pytest.fixture
def three(tmp_path: Path) -> list[Path]:
    from viewer.dicom.synthetic import make_cxr

    out = tmp_path / "three"
    out.mkdir()
    paths = []
    for i in range(3):
        path = out / f"img{i}.dcm"
        make_cxr(20 + i, opacity=bool(i % 2), size=(256, 256)).save_as(
            path, enforce_file_format=True
        )
        paths.append(path)
    return paths


def _read_jobs(window: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the jobs submitted to the window's io runner from now on."""
    names: list[str] = []
    submit = window.io.submit

    def spy(fn: Any, **kw: Any) -> Any:
        names.append(kw.get("name", ""))
        return submit(fn, **kw)

    monkeypatch.setattr(window.io, "submit", spy)
    return names


def _first_shown(qtbot: Any, make_window: Any, settings: Any, paths: list[Path]) -> Any:
    window = make_window(settings, paths)
    qtbot.waitUntil(lambda: len(window.browser.paths()) == 3, timeout=WAIT_MS)
    first = window.browser.paths()[0]
    if window.shown is None or window.shown.path != first:
        window.open_image(first)
    qtbot.waitUntil(lambda: window.shown.image is not None, timeout=WAIT_MS)
    return window


def test_next_image_is_decoded_in_the_background_and_next_uses_it(
    qtbot: Any, make_window: Any, settings: Any, three: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    window = _first_shown(qtbot, make_window, settings, three)
    order = window.browser.paths()
    # without pressing Next, the second image is decoded and kept
    qtbot.waitUntil(lambda: window.prefetched(order[1]), timeout=WAIT_MS)
    assert not window.prefetched(order[2])
    jobs = _read_jobs(window, monkeypatch)
    with qtbot.waitSignal(window.image_shown, timeout=WAIT_MS) as shown:
        window.act_next.trigger()
    assert shown.args == [order[1]]
    assert "read" not in jobs  # a hit: no new decode
    assert window.shown.path == order[1] and window.shown.image is not None
    assert window.view.image is window.shown.image
    assert not window.prefetched(order[1])  # handed out once
    # and the one after it is decoded next
    qtbot.waitUntil(lambda: window.prefetched(order[2]), timeout=WAIT_MS)


def test_a_file_changed_after_prefetch_is_read_again(
    qtbot: Any, make_window: Any, settings: Any, three: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from viewer.dicom.synthetic import make_cxr

    window = _first_shown(qtbot, make_window, settings, three)
    order = window.browser.paths()
    qtbot.waitUntil(lambda: window.prefetched(order[1]), timeout=WAIT_MS)
    # another image written over the file: another size and mtime on disk
    make_cxr(0, opacity=False, size=(128, 128)).save_as(order[1], enforce_file_format=True)
    jobs = _read_jobs(window, monkeypatch)
    with qtbot.waitSignal(window.image_shown, timeout=WAIT_MS):
        window.act_next.trigger()
    assert jobs.count("read") == 1
    assert window.shown.image.stored.shape[:2] == (128, 128)


def _opened_rows(settings: Any) -> list[dict[str, Any]]:
    rows = []
    for r in all_rows(settings):
        if r.type != "image_opened":
            continue
        row = {
            k: v
            for k, v in vars(r).items()
            if k not in ("seq", "time", "event_id", "detail_json") and "hash" not in k
        }
        detail = json.loads(r.detail_json)
        row["detail"] = {k: v for k, v in detail.items() if k != "reading_id"}
        rows.append(row)
    return rows


def test_audit_rows_are_the_same_with_and_without_a_hit(
    qtbot: Any, make_window: Any, settings: Any, three: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    window = _first_shown(qtbot, make_window, settings, three)
    order = window.browser.paths()
    qtbot.waitUntil(lambda: window.prefetched(order[1]), timeout=WAIT_MS)
    jobs = _read_jobs(window, monkeypatch)
    with qtbot.waitSignal(window.image_shown, timeout=WAIT_MS):
        window.act_next.trigger()  # a hit
    assert "read" not in jobs
    window._prefetch_enabled = False
    with qtbot.waitSignal(window.image_shown, timeout=WAIT_MS):
        window.act_prev.trigger()
    assert not window.prefetched(order[1])
    with qtbot.waitSignal(window.image_shown, timeout=WAIT_MS):
        window.act_next.trigger()  # no prefetch: read as before
    assert jobs.count("read") == 2
    qtbot.waitUntil(lambda: len(_opened_rows(settings)) == 4, timeout=WAIT_MS)
    rows = _opened_rows(settings)
    assert rows[1] == rows[3]  # image 2 with the hit, then without
    assert rows[0] == rows[2]  # image 1, read both times
