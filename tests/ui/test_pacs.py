"""PACS from the reading window against a real Orthanc (issue 17: "a decision sent and its status
shown; the PACS search and retrieve into the browser"), plus the settings' connection test.

Real parts only: Debian's Orthanc with its DICOMweb plugin (tests/pacs/orthanc.py, skipped with
the reason when absent), the demo bundle scoring a generated chest X-ray, the window's own
workers. Geometry, not existence: the status line is visible inside the decision panel at
1280 x 720 and holds its whole text; the search dialog fits that screen.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QWidget,
)

from tests.pacs.helpers import pacs_site
from tests.pacs.orthanc import OrthancServer, missing_reason
from tests.ui.mainwin import (
    WAIT_MS,
    all_rows,
    demo_bundle,
    find,
    make_window,
    wait_for_result,
)
from viewer.config import Settings, load_settings

__all__ = ["demo_bundle", "make_window"]  # fixtures imported for pytest


@pytest.fixture
def server(tmp_path: Path) -> Iterator[OrthancServer]:
    """An Orthanc of this test's own, not started yet (some tests start it late or stop it)."""
    reason = missing_reason()
    if reason is not None:
        pytest.skip(reason)
    orthanc = OrthancServer(tmp_path / "orthanc")
    try:
        yield orthanc
    finally:
        orthanc.remove()


@pytest.fixture
def pacs_settings(server: OrthancServer, site_file: Path) -> Settings:
    """Demo mode (the demo bundle scores) with PACS turned on by the site file."""
    site_file.write_text(pacs_site(server, transport="dicomweb"), encoding="utf-8")
    from viewer.config import save_user_settings

    return save_user_settings(
        load_settings(demo=True), {"user.name": "Dr Test", "user.role": "Radiologist"}
    )


def _status(window: Any) -> QLabel:
    label = find(window, QLabel, "pacsStatus")
    assert isinstance(label, QLabel)
    return label


def _fully_shown(qtbot: Any, label: QLabel, panel: QWidget) -> None:
    """Visible, inside its panel, and (once the layout has run) tall enough for its wrapped
    text: nothing cut."""
    assert label.isVisible() and label.accessibleName()
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()), timeout=WAIT_MS)
    top_left = label.mapTo(panel, QPoint(0, 0))
    assert QRect(top_left, label.size()).intersected(panel.rect()) == QRect(
        top_left, label.size()
    ), "the PACS status runs outside the decision panel"


def _decided(qtbot: Any, make_window: Any, settings: Settings, path: Path, says: str) -> Any:
    """A 1280 x 720 window confirms the AI result on ``path``; then the PACS line says ``says``
    (its start), fully shown in the decision panel. Returns the window."""
    window = make_window(settings, [path])
    window.resize(1280, 720)
    label = _status(window)
    assert not label.isVisible()  # nothing decided yet: nothing to say about PACS
    wait_for_result(qtbot, window)
    qtbot.mouseClick(find(window, QPushButton, "confirmButton"), Qt.MouseButton.LeftButton)
    status = find(window, QLabel, "decisionStatus")
    qtbot.waitUntil(lambda: status.text().startswith("Saved "), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: label.text().startswith(says), timeout=WAIT_MS)
    _fully_shown(qtbot, label, window.decision)
    # the right column scrolls it into view whole (a small screen never cuts it off)
    viewport = window.right_scroll.viewport()
    window.right_scroll.ensureWidgetVisible(label, 0, 0)

    def in_view() -> bool:
        top_left = label.mapTo(viewport, QPoint(0, 0))
        return bool(viewport.rect().contains(QRect(top_left, label.size())))

    qtbot.waitUntil(in_view, timeout=WAIT_MS)
    return window


@pytest.fixture
def decide(
    qtbot: Any, make_window: Any, demo_bundle: Path, pacs_settings: Settings, cxr_path: Path
) -> Callable[[str], Any]:
    """``decide(says)``: :func:`_decided` on the generated chest X-ray with PACS on."""
    return lambda says: _decided(qtbot, make_window, pacs_settings, cxr_path, says)


def _outbox(settings: Settings) -> tuple[int, int, int]:
    """(pending, held, sent) in the PACS outbox."""
    from viewer.outbox import Outbox

    with Outbox(settings.pacs_outbox_path) as box:
        status = box.status()
    return status.pending, status.held, status.sent


def test_decision_sent_to_orthanc_and_status_shown(
    qtbot: Any,
    decide: Any,
    server: OrthancServer,
    pacs_settings: Settings,
    cxr_path: Path,
    tmp_path: Path,
) -> None:
    import pydicom

    from viewer.dicom.synthetic import make_cxr

    server.start()
    window = decide("Sent to PACS ")
    assert _outbox(pacs_settings) == (0, 0, 2)
    # another image, not decided: this reading's "Sent" is not shown on it; back, it is
    other = tmp_path / "other.dcm"
    make_cxr(7, opacity=False, size=(256, 256)).save_as(other, enforce_file_format=True)
    label = _status(window)
    window.open_image(str(other))
    qtbot.waitUntil(
        lambda: window.view.image is not None and window.shown.path == str(other), timeout=WAIT_MS
    )
    qtbot.waitUntil(lambda: not label.isVisible(), timeout=WAIT_MS)
    window.open_image(str(cxr_path))
    qtbot.waitUntil(lambda: label.text().startswith("Sent to PACS "), timeout=WAIT_MS)
    study = pydicom.dcmread(cxr_path, stop_before_pixels=True).StudyInstanceUID
    studies = server.get_json("/studies?expand")
    assert isinstance(studies, list) and len(studies) == 1
    assert studies[0]["MainDicomTags"]["StudyInstanceUID"] == study
    series = server.get_json("/series?expand")
    assert isinstance(series, list)
    modalities = sorted(s["MainDicomTags"]["Modality"] for s in series)
    assert len(modalities) == 2 and "SR" in modalities, modalities  # the SR and the SC


def test_unreachable_pacs_keeps_the_result_then_sends_it(
    qtbot: Any, decide: Any, server: OrthancServer, pacs_settings: Settings
) -> None:
    window = decide("Waiting: PACS unreachable")  # Orthanc not started: nobody answers
    label = _status(window)
    assert "#b00020" in label.styleSheet()  # said in the warning colour
    assert _outbox(pacs_settings) == (2, 0, 0)
    server.start()
    window.pacs.timer.setInterval(300)  # the window's own timer, sooner than its 15 s
    qtbot.waitUntil(lambda: label.text().startswith("Sent to PACS "), timeout=WAIT_MS)
    assert len(server.sop_instance_uids()) == 2  # once each: SR and SC
    assert _outbox(pacs_settings) == (0, 0, 2)


def test_a_refusal_is_held_and_said_in_the_decision_area(
    decide: Any, server: OrthancServer, pacs_settings: Settings
) -> None:
    from tests.pacs.test_delivery import REFUSE_ALL

    server.lua = REFUSE_ALL  # this PACS refuses every object (a Lua filter)
    server.start()
    window = decide("Not sent: PACS refused")
    label = _status(window)
    assert "did not store the object" in label.text()  # PACS's answer, in the core's words
    assert "bedside pacs outbox retry" in label.text()  # what IT can do about it
    assert _outbox(pacs_settings) == (0, 2, 0)  # both held: kept, not lost
    assert server.sop_instance_uids() == []


def test_a_reading_that_cannot_become_objects_says_why_and_stays_saved(
    qtbot: Any,
    make_window: Any,
    demo_bundle: Path,
    server: OrthancServer,
    pacs_settings: Settings,
    tmp_path: Path,
) -> None:
    from viewer.dicom.synthetic import make_cxr

    server.start()
    orphan = tmp_path / "no-patient-id.dcm"
    ds = make_cxr(3, opacity=True, size=(256, 256))
    del ds.PatientID  # PACS would file its objects under a new, nameless patient
    ds.save_as(orphan, enforce_file_format=True)
    window = _decided(qtbot, make_window, pacs_settings, orphan, "Not queued for PACS: ")
    text = _status(window).text()
    assert "PatientID" in text and text.endswith("The decision is saved.")
    rows = all_rows(pacs_settings)
    assert [r.type for r in rows if r.type.startswith("pacs_")] == ["pacs_not_queued"]
    assert any(r.type == "decision" for r in rows)
    assert not pacs_settings.pacs_outbox_path.exists() or _outbox(pacs_settings) == (0, 0, 0)
    assert server.sop_instance_uids() == []


def test_pacs_off_in_demo_mode_sends_nothing_and_says_nothing(
    qtbot: Any, make_window: Any, demo_bundle: Path, demo_settings: Settings, cxr_path: Path
) -> None:
    assert not demo_settings.values.pacs.enabled  # the built-in default, demo mode included
    window = make_window(demo_settings, [cxr_path])
    wait_for_result(qtbot, window)
    qtbot.mouseClick(find(window, QPushButton, "confirmButton"), Qt.MouseButton.LeftButton)
    status = find(window, QLabel, "decisionStatus")
    qtbot.waitUntil(lambda: status.text().startswith("Saved "), timeout=WAIT_MS)
    assert not _status(window).isVisible() and _status(window).text() == ""
    assert not demo_settings.pacs_outbox_path.exists()  # nothing was queued, nothing opened
    dialog = window.show_pacs_search()
    find(dialog, QLineEdit, "pacsPatientId").setText("anyone")
    qtbot.mouseClick(find(dialog, QPushButton, "pacsSearchButton"), Qt.MouseButton.LeftButton)
    message = find(dialog, QLabel, "pacsSearchMessage")
    assert message.text() == "PACS is not set up on this workstation (ask IT)."
    assert message.isVisible()


def test_search_pacs_and_retrieve_into_the_browser(
    qtbot: Any,
    make_window: Any,
    server: OrthancServer,
    pacs_settings: Settings,
    cxr_path: Path,
) -> None:
    import pydicom

    server.start()
    server.upload(cxr_path.read_bytes())
    source = pydicom.dcmread(cxr_path, stop_before_pixels=True)
    window = make_window(pacs_settings)
    window.resize(1280, 720)
    dialog = window.show_pacs_search()
    qtbot.waitExposed(dialog, timeout=WAIT_MS)
    _accessible(dialog)
    screen = QRect(0, 0, 1280, 720)
    assert dialog.width() <= screen.width() and dialog.height() <= screen.height()
    find(dialog, QLineEdit, "pacsPatientId").setText(str(source.PatientID))
    qtbot.mouseClick(find(dialog, QPushButton, "pacsSearchButton"), Qt.MouseButton.LeftButton)
    table = find(dialog, QTableWidget, "pacsResults")
    qtbot.waitUntil(lambda: table.rowCount() == 1, timeout=WAIT_MS)
    assert table.isVisible() and table.viewport().height() > table.rowHeight(0)
    assert table.item(0, 0).text() == str(source.PatientID)
    retrieve = find(dialog, QPushButton, "pacsRetrieveButton")
    assert retrieve.isEnabled() and retrieve.isVisible()
    qtbot.mouseClick(retrieve, Qt.MouseButton.LeftButton)
    cache = pacs_settings.data_dir / "pacs-cache"

    def opened() -> bool:
        image = window.view.image
        return image is not None and Path(image.meta.path).is_relative_to(cache)

    qtbot.waitUntil(opened, timeout=WAIT_MS)
    assert window.view.image.meta.sop_instance_uid == str(source.SOPInstanceUID)
    assert [Path(p).is_relative_to(cache) for p in window.browser.paths()] == [True]
    assert "Retrieved into" in find(dialog, QLabel, "pacsSearchMessage").text()
    retrieved = [r for r in all_rows(pacs_settings) if r.type == "pacs_retrieved"]
    assert [(r.outcome, r.detail["instances"]) for r in retrieved] == [("success", 1)]
    assert retrieved[0].study_pseudonym and str(source.StudyInstanceUID) not in str(retrieved[0])


def test_retrieve_can_be_cancelled_and_opens_nothing(
    qtbot: Any,
    make_window: Any,
    server: OrthancServer,
    pacs_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    from pydicom.uid import generate_uid

    from viewer.dicom.synthetic import make_cxr
    from viewer.pacs import query

    # the real retrieval, held at its first count until the test has pressed Cancel: a GUI
    # thread a loaded machine paused between the two clicks let all six arrive first
    started, release = threading.Event(), threading.Event()
    original = query.retrieve

    def held_retrieve(*args: Any, progress: Any = None, **kwargs: Any) -> Any:
        def hold(done: int, total: int) -> None:
            if progress is not None:
                progress(done, total)
            if not started.is_set():
                started.set()
                release.wait(WAIT_MS / 1000)

        return original(*args, progress=hold, **kwargs)

    monkeypatch.setattr(query, "retrieve", held_retrieve)

    server.start()
    study = generate_uid()
    for seed in range(6):  # one study of six images: Cancel arrives between two of them
        ds = make_cxr(seed, opacity=False, size=(256, 256))
        ds.PatientID, ds.StudyInstanceUID = "CANCEL-ME", study
        ds.SOPInstanceUID = generate_uid()
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        server.upload(buffer.getvalue())
    window = make_window(pacs_settings)
    dialog = window.show_pacs_search()
    find(dialog, QLineEdit, "pacsPatientId").setText("CANCEL-ME")
    qtbot.mouseClick(find(dialog, QPushButton, "pacsSearchButton"), Qt.MouseButton.LeftButton)
    table = find(dialog, QTableWidget, "pacsResults")
    qtbot.waitUntil(lambda: table.rowCount() == 1, timeout=WAIT_MS)
    cancel = find(dialog, QPushButton, "pacsCancelButton")
    assert not cancel.isEnabled()  # nothing to cancel yet
    progress = find(dialog, QProgressBar, "pacsProgress")
    qtbot.mouseClick(find(dialog, QPushButton, "pacsRetrieveButton"), Qt.MouseButton.LeftButton)
    assert cancel.isEnabled() and progress.isVisible()
    qtbot.waitUntil(started.is_set, timeout=WAIT_MS)
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    release.set()
    message = find(dialog, QLabel, "pacsSearchMessage")
    qtbot.waitUntil(lambda: message.text() == "Cancelled.", timeout=WAIT_MS)
    assert not progress.isVisible() and not cancel.isEnabled()
    assert window.browser.paths() == [] and window.view.image is None  # nothing opened
    # a retrieval stopped half-way leaves no partial study behind (the core removes its files)
    folder = pacs_settings.data_dir / "pacs-cache" / study
    assert not folder.exists() or len(list(folder.glob("*.dcm"))) in (0, 6)


def _accessible(root: QWidget) -> None:
    """Every interactive widget has an object name and an accessible name (Qt's own parts of a
    compound widget aside)."""
    interactive = (QAbstractButton, QAbstractItemView, QAbstractSpinBox, QComboBox, QLineEdit)
    compound = (QComboBox, QAbstractSpinBox, QAbstractItemView)
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, (*interactive, QProgressBar)):
            continue
        parent = widget.parentWidget()
        inside = False
        while parent is not None and parent is not root:
            inside = inside or isinstance(parent, compound)
            parent = parent.parentWidget()
        if inside:
            continue
        assert widget.objectName() and widget.accessibleName(), (
            type(widget).__name__,
            widget.objectName(),
        )


def _test_connection(qtbot: Any, settings: Settings) -> list[Any]:
    from viewer.ui.qt_settings import QtSettingsDialog

    dialog = QtSettingsDialog(settings)
    qtbot.addWidget(dialog)
    dialog.resize(dialog.sizeHint())
    dialog.show()
    button = find(dialog, QPushButton, "pacsTestButton")
    assert button.isVisible() and button.isEnabled()
    with qtbot.waitSignal(dialog.pacs.checked, timeout=WAIT_MS) as got:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    results = find(dialog, QLabel, "pacsTestResults")
    assert results.isVisible()
    # every line shown: the label gets the height its wrapped text needs (after the layout ran)
    qtbot.waitUntil(
        lambda: results.heightForWidth(results.width()) <= results.height(), timeout=WAIT_MS
    )
    checks: list[Any] = got.args[0]
    assert checks, results.text()
    lines = results.text().splitlines()
    assert len(lines) == len(checks)
    for check, line in zip(checks, lines, strict=True):  # each check's own line, saying so
        assert line.startswith(("PASS " if check.ok else "FAIL ") + check.name), line
    dialog.close()
    return checks


def test_connection_test_passes_and_fails(
    qtbot: Any, server: OrthancServer, pacs_settings: Settings, site_file: Path
) -> None:
    server.check_called_aet = True  # a wrong called AE title is refused, as a real PACS does
    server.start()
    passed = _test_connection(qtbot, pacs_settings)
    assert [(c.name, c.ok) for c in passed] == [("C-ECHO", True), ("QIDO-RS", True)], passed
    # IT typed the PACS's AE title wrong: the echo fails and says which setting, the DICOMweb
    # check still passes (each check on its own line)
    site_file.write_text(
        pacs_site(server, transport="dicomweb", called_aet="NOT_ORTHANC"), encoding="utf-8"
    )
    failed = _test_connection(qtbot, load_settings(demo=True))
    assert [(c.name, c.ok) for c in failed] == [("C-ECHO", False), ("QIDO-RS", True)], failed
    assert "NOT_ORTHANC" in failed[0].message


def test_the_status_line_says_what_the_command_line_says(qtbot: Any) -> None:
    """One wording: the window's line (untranslated) is ``viewer.pacs.state.state_text`` of the
    same state, for every state a reader can see."""
    import datetime as dt

    from viewer.pacs.state import PacsState, state_text
    from viewer.ui.qt_pacs import QtPacsStatus

    label = QtPacsStatus()
    qtbot.addWidget(label)
    now = dt.datetime.now(dt.UTC)
    states = [
        PacsState("sent", now),
        PacsState("waiting", now - dt.timedelta(days=2), 1, "refused"),
        PacsState("waiting", now, 3, "refused"),
        PacsState("held", now, 2, "0xA700"),
        PacsState("held", now, 1, ""),
        PacsState("queued", None, 2),
        PacsState("idle"),
    ]
    for state in states:
        assert label.text_for(state) == state_text(state), state
    assert state_text(PacsState("held", now, 1, "")).startswith(
        "Not sent: PACS refused the result (no reason given)."
    )


def test_closing_while_pacs_hangs_keeps_the_last_decision(
    qtbot: Any, make_window: Any, demo_bundle: Path, site_file: Path, cxr_path: Path
) -> None:
    """A PACS that accepts connections and never answers holds the worker in a send (an object
    an earlier run left waiting); the reader decides and closes the window at once. The send is
    broken off by the close; the decision's objects, queued behind that send, are still queued
    (with their pacs_queued row) and the earlier object still waits: nothing is dropped."""
    import contextlib
    import socket

    from tests.pacs.helpers import source_image, text_report
    from viewer.config import save_user_settings
    from viewer.outbox import Outbox
    from viewer.pacs.delivery import PacsDelivery

    silent = socket.socket()  # the kernel accepts connections; nobody ever reads or answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        site_file.write_text(
            '[pacs]\nenabled = true\ntransport = "dicomweb"\nquery = "dicomweb"\n'
            f'dicomweb_url = "http://127.0.0.1:{silent.getsockname()[1]}/dicom-web"\n'
            # ten times any wait here: a worker ending within one was broken off by the close
            f"connect_timeout_s = 3.0\ntimeout_s = {10 * WAIT_MS / 1000:g}\n",
            encoding="utf-8",
        )
        settings = save_user_settings(
            load_settings(demo=True), {"user.name": "Dr Test", "user.role": "Radiologist"}
        )
        with PacsDelivery(settings) as earlier:
            assert earlier.queue([text_report(source_image(41))], reading_id="earlier") == 1
        window = make_window(settings, [cxr_path])
        silent.setblocking(False)
        callers: list[socket.socket] = []

        def connected() -> bool:  # the worker's drain sends the earlier object: no answer
            with contextlib.suppress(BlockingIOError):
                callers.append(silent.accept()[0])
            return bool(callers)

        qtbot.waitUntil(connected, timeout=WAIT_MS)
        wait_for_result(qtbot, window)
        qtbot.mouseClick(find(window, QPushButton, "confirmButton"), Qt.MouseButton.LeftButton)
        status = find(window, QLabel, "decisionStatus")
        qtbot.waitUntil(lambda: status.text().startswith("Saved "), timeout=WAIT_MS)
        # the hand-over waits behind the stuck send
        qtbot.waitUntil(lambda: window.pacs.runner.active() == 2, timeout=WAIT_MS)
        window.close()
        # the send in flight was broken off by the close, not left to pacs.timeout_s (1200 s);
        # how soon (the close waits 2 s) is not a loaded machine's to prove
        assert window.pacs.runner.pool.waitForDone(WAIT_MS)
        with Outbox(settings.pacs_outbox_path) as box:
            assert box.status("earlier").pending == 1
            queued = [item.kind for item in box.waiting() if item.kind != "earlier"]
        assert len(queued) == 2  # the decision's SR and SC
        rows = [r for r in all_rows(settings) if r.type == "pacs_queued"]
        assert len(rows) == 1 and rows[0].detail["objects"] == 2
        callers[0].close()
    finally:
        silent.close()  # the stuck send fails now, so the worker ends before the fixture's wait
