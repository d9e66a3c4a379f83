"""Study browser: folder scan in a worker with progress, tree, thumbnails, cancel, next/previous."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QThreadPool

from tests.waits import WAIT_MS
from viewer.dicom.synthetic import write_demo_set
from viewer.ui.qt_study_browser import PATH_ROLE, QtStudyBrowser
from viewer.ui.workers import JobRunner


@pytest.fixture
def browser(qtbot: Any) -> Any:
    runner = JobRunner(2)
    b = QtStudyBrowser(runner)
    qtbot.addWidget(b)
    b.show()
    yield b
    runner.shutdown()
    assert QThreadPool.globalInstance().waitForDone(WAIT_MS), "a worker outlived its test"


def _leaves(b: QtStudyBrowser) -> list[str]:
    out = []
    stack = [b.tree.topLevelItem(i) for i in range(b.tree.topLevelItemCount())]
    while stack:
        item = stack.pop()
        if item.data(0, PATH_ROLE):
            out.append(item.data(0, PATH_ROLE))
        stack.extend(item.child(i) for i in range(item.childCount()))
    return out


def test_open_folder_with_progress(qtbot: Any, browser: QtStudyBrowser, cxr_dir: Path) -> None:
    progress: list[int] = []
    browser.progress.valueChanged.connect(progress.append)
    with qtbot.waitSignal(browser.scan_finished, timeout=WAIT_MS) as sig:
        browser.scan([cxr_dir])
        assert browser.progress.isVisible() and browser.cancel_button.isVisible()
    metas = sig.args[0]
    assert len(metas) == 4
    assert sorted(_leaves(browser)) == sorted(str(p) for p in cxr_dir.glob("*.dcm"))
    assert progress and max(progress) == 4
    assert not browser.progress.isVisible()
    assert "4 image(s)" in browser.summary.text()
    # patients at the top level, images below study and series
    assert browser.tree.topLevelItemCount() == len({m.patient_id for m in metas})
    qtbot.waitUntil(lambda: browser.thumbnail_count() == 4, timeout=WAIT_MS)


def test_cancel_a_large_scan(
    qtbot: Any, browser: QtStudyBrowser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import viewer.dicom

    folder = tmp_path / "many"
    write_demo_set(folder, n=60, seed=1, size=(64, 64))
    # the real scan, held after its first file until the test has pressed Cancel: a GUI thread
    # a loaded machine paused between scan() and cancel_scan() let it finish all 60 first
    started, release = threading.Event(), threading.Event()
    original = viewer.dicom.iter_scan

    def held_scan(*args: Any, **kwargs: Any) -> Any:
        steps = original(*args, **kwargs)
        yield next(steps)
        started.set()
        release.wait(WAIT_MS / 1000)
        yield from steps

    monkeypatch.setattr(viewer.dicom, "iter_scan", held_scan)
    with qtbot.waitSignal(browser.scan_finished, timeout=WAIT_MS):
        browser.scan([folder])
        qtbot.waitUntil(started.is_set, timeout=WAIT_MS)
        browser.cancel_scan()
        release.set()
    assert "cancelled" in browser.summary.text()
    assert len(browser.paths()) < 60


def test_a_cancel_after_the_last_file_is_not_said_to_have_cancelled(
    qtbot: Any, browser: QtStudyBrowser, cxr_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancel pressed once every file is read (the worker has not handed the list over yet):
    all four are listed, and the summary does not say "scan cancelled" over a complete list."""
    import threading

    import viewer.dicom

    done, release = threading.Event(), threading.Event()
    original = viewer.dicom.iter_scan

    def held_scan(*args: Any, **kwargs: Any) -> Any:
        yield from original(*args, **kwargs)
        done.set()  # the last file is read; the result waits until Cancel was pressed
        release.wait(WAIT_MS / 1000)

    monkeypatch.setattr(viewer.dicom, "iter_scan", held_scan)
    with qtbot.waitSignal(browser.scan_finished, timeout=WAIT_MS) as sig:
        browser.scan([cxr_dir])
        qtbot.waitUntil(done.is_set, timeout=WAIT_MS)
        browser.cancel_scan()
        release.set()
    assert len(sig.args[0]) == 4 and len(browser.paths()) == 4
    assert browser.summary.text() == "4 image(s)"


def test_next_previous_in_display_order(qtbot: Any, browser: QtStudyBrowser, cxr_dir: Path) -> None:
    with qtbot.waitSignal(browser.scan_finished, timeout=WAIT_MS):
        browser.scan([cxr_dir])
    paths = browser.paths()
    assert browser.neighbour(paths[0], 1) == paths[1]
    assert browser.neighbour(paths[1], -1) == paths[0]
    assert browser.neighbour(paths[-1], 1) is None
    activated: list[str] = []
    browser.image_activated.connect(activated.append)
    item = browser._items[paths[2]]
    browser.tree.itemActivated.emit(item, 0)
    assert activated == [paths[2]]


def test_unreadable_files_are_counted_not_fatal(
    qtbot: Any, browser: QtStudyBrowser, cxr_dir: Path
) -> None:
    (cxr_dir / "notes.txt").write_bytes(b"this is not DICOM at all" * 10)
    good = sorted(cxr_dir.glob("*.dcm"))[0].read_bytes()
    (cxr_dir / "truncated.dcm").write_bytes(good[:300])
    with qtbot.waitSignal(browser.scan_finished, timeout=WAIT_MS) as sig:
        browser.scan([cxr_dir])
    assert len(sig.args[0]) == 4
    assert "1 file(s) could not be read" in browser.summary.text()
    assert "truncated.dcm" in browser.summary.toolTip()
    assert "1 non-DICOM file(s) skipped" in browser.summary.text()


def test_second_folder_adds_without_duplicates(
    qtbot: Any, browser: QtStudyBrowser, cxr_dir: Path, tmp_path: Path
) -> None:
    with qtbot.waitSignal(browser.scan_finished, timeout=WAIT_MS):
        browser.scan([cxr_dir])
    with qtbot.waitSignal(browser.scan_finished, timeout=WAIT_MS):
        browser.scan([cxr_dir])
    assert len(_leaves(browser)) == 4
    other = tmp_path / "other"
    write_demo_set(other, n=3, seed=50, size=(64, 64))
    with qtbot.waitSignal(browser.scan_finished, timeout=WAIT_MS) as sig:
        browser.scan([other])
    assert len(sig.args[0]) == 7
    assert sorted(_leaves(browser)) == sorted(browser.paths())


def test_two_files_with_one_uid_are_both_listed_and_none_unreadable(
    qtbot: Any, browser: QtStudyBrowser, tmp_path: Path
) -> None:
    """A UID clash is a warning to check, not "1 file could not be read" (issue 12)."""
    from viewer.dicom.synthetic import make_cxr

    folder = tmp_path / "clash"
    folder.mkdir()
    first = make_cxr(1, opacity=False, size=(64, 64))
    second = make_cxr(2, opacity=True, size=(64, 64))
    second.SOPInstanceUID = first.SOPInstanceUID
    second.file_meta.MediaStorageSOPInstanceUID = first.SOPInstanceUID
    first.save_as(folder / "a.dcm", enforce_file_format=True)
    second.save_as(folder / "b.dcm", enforce_file_format=True)
    with qtbot.waitSignal(browser.scan_finished, timeout=WAIT_MS) as sig:
        browser.scan([folder])
    assert len(sig.args[0]) == 2 and browser.errors() == []
    text = browser.summary.text()
    assert "could not be read" not in text
    assert "share a SOP Instance UID with a different image" in text
    assert "b.dcm" in browser.summary.toolTip()


def test_a_copy_cut_short_is_an_error_not_a_uid_clash(
    qtbot: Any, browser: QtStudyBrowser, cxr_dir: Path
) -> None:
    """The window's folder scan: a copy cut inside its pixels beside its whole original is a
    file that could not be read, in the words opening it gives, not a second image under the
    original's SOP Instance UID."""
    original = sorted(cxr_dir.glob("*.dcm"))[0]
    data = original.read_bytes()
    (cxr_dir / "cut.dcm").write_bytes(data[: len(data) - 1000])
    with qtbot.waitSignal(browser.scan_finished, timeout=WAIT_MS) as sig:
        browser.scan([cxr_dir])
    assert len(sig.args[0]) == 4 and "cut.dcm" not in " ".join(_leaves(browser))
    [error] = browser.errors()
    assert error.startswith(f"{cxr_dir / 'cut.dcm'}: has truncated pixel data (")
    text = browser.summary.text()
    assert "1 file(s) could not be read" in text
    assert "share a SOP Instance UID" not in text
