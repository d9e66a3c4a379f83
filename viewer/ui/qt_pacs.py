"""PACS in the reading window: the status under the decision and the worker that drains the outbox.

Why it looks like this (issue 17 item 3): a reader must see whether the result reached PACS
("Sent to PACS 12:04", "Waiting: PACS unreachable since 11:58", a refusal held for IT) without
waiting for it: the network is never touched on the GUI thread. One single-thread job runner
("pacs") builds and queues the objects of a saved decision (``PacsLink.queue``) and drains the
outbox (``PacsDelivery.drain``), after each decision and on a timer; its jobs run one at a time,
so the outbox and its delivery are used by one thread at a time. The runner's results come back
as plain :class:`~viewer.session.pacs_link.PacsState` values; only the GUI thread writes widgets
and audit rows (``PacsLink.record``). Closing the window cancels the worker's drain, which breaks
off a send a silent PACS holds (the transports abort on cancel), waits ``SHUTDOWN_WAIT_MS`` at
most, and queues any decision still waiting for the worker itself, on its own outbox connection
(``QtPacsLink.shutdown``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from viewer.config import Settings
from viewer.pacs.state import clock_text
from viewer.session.pacs_link import PacsLink, PacsLinkError, PacsState, Queued
from viewer.ui.workers import JobRunner, error_text

if TYPE_CHECKING:
    import numpy as np
    from pydicom.dataset import Dataset

    from viewer.session.reading import DecisionOutcome, ReadingSession
    from viewer.session.trail import AuditTrail

# how often the outbox is drained while the window is open (a due retry is sent on the next tick;
# the outbox's own backoff decides whether an item is due)
DRAIN_INTERVAL_MS = 15_000
# each connection check's own limit (issue 17: a pass or fail within 5 s)
CHECK_TIMEOUT_S = 5.0
# how long closing the window waits for the worker (the GUI thread is blocked meanwhile): a send
# in flight is broken off at the close's cancel; its object stays in the outbox
SHUTDOWN_WAIT_MS = 2_000
# states shown in red, and shown on an image with no reading of this run (never its "sent")
TROUBLE = ("held", "waiting", "blocked")


class _HandOver:
    """A saved decision's objects waiting for the worker: run at shutdown if it never started,
    so closing the window right after a decision (while a slow PACS holds the worker in a
    drain) never drops them without a trace."""

    def __init__(self, work: Callable[[], Queued], finish: Callable[[Queued], None]) -> None:
        self.work, self.finish = work, finish
        self.started = False
        self.result: Queued | None = None  # set by the worker; its signal may never arrive

    def run(self) -> Queued:
        self.started = True
        self.result = self.work()
        return self.result


class QtPacsStatus(QLabel):
    """The PACS line under the decision (``pacsStatus``): hidden while PACS is off."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pacsStatus")
        self.setWordWrap(True)
        self.state = PacsState("off")
        self.note = ""  # a hand-over that failed before the outbox (the decision is saved)
        self.hide()
        self.retranslate()

    def set_state(self, state: PacsState, note: str = "") -> None:
        self.state, self.note = state, note
        self._render()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.setAccessibleName(self.tr("PACS status"))
        self._render()

    def text_for(self, state: PacsState) -> str:
        """The line in the reader's language (the core's reason stays as written)."""
        when = clock_text(state.when) if state.when is not None else ""
        if state.kind == "sent":
            return self.tr("Sent to PACS {0}").format(when)
        if state.kind == "waiting":
            text = self.tr("Waiting: PACS unreachable since {0}").format(when)
            if state.waiting > 1:
                text += " " + self.tr("({0} objects waiting)").format(state.waiting)
            return text
        if state.kind == "held":
            return self.tr(
                "Not sent: PACS refused the result ({0}). It is kept; IT can send it again "
                "(bedside pacs outbox retry)."
            ).format(state.error or self.tr("no reason given"))
        if state.kind == "blocked":
            return self.tr(
                "Not sent to PACS ({0} waiting): {1} They are kept and go out once this is fixed."
            ).format(state.waiting, state.error)
        if state.kind == "queued":
            return self.tr("Queued for PACS")
        return ""

    def _render(self) -> None:
        if self.state.kind == "off":
            self.setText("")
            self.setToolTip("")
            self.hide()
            return
        text = self.text_for(self.state)
        if self.note:
            text = self.tr("Not queued for PACS: {0} The decision is saved.").format(self.note)
        self.setText(text)
        self.setToolTip(self.state.error if self.state.kind == "waiting" else "")
        bad = self.note or self.state.kind in TROUBLE
        self.setStyleSheet("color: #b00020;" if bad else "color: #1b5e20;")
        self.setVisible(bool(text))


class QtPacsLink(QObject):
    """The window's hand-over to PACS: queue after a saved decision, drain off the GUI thread,
    show the state in :class:`QtPacsStatus`."""

    state_changed = Signal(object)  # PacsState, after each drain (tests wait for it)

    def __init__(self, settings: Settings, trail: AuditTrail, status: QtPacsStatus) -> None:
        super().__init__(status)
        self.link = PacsLink(settings, trail, delivery=self._delivery)
        self.trail = trail
        self.status = status
        self.runner = JobRunner(1, self, name="pacs", nice=5)
        self._delivery_obj: Any = None  # made and used on the runner's thread only
        self._handovers: list[_HandOver] = []  # submitted, not finished
        self._closed = False
        self._draining = False
        self._again = False
        self._reading: str = ""  # the reading id of the image on screen, when queued in this run
        self._readings: dict[str, str] = {}  # session path -> its last queued reading id
        self._notes: dict[str, str] = {}  # reading path -> why its hand-over failed
        self._path = ""
        self.timer = QTimer(self)
        self.timer.setInterval(DRAIN_INTERVAL_MS)
        self.timer.timeout.connect(self.drain)
        self.apply_settings(settings)

    # -------------------------------------------------------------- settings
    @property
    def enabled(self) -> bool:
        return self.link.enabled

    def apply_settings(self, settings: Settings) -> None:
        self.link.apply_settings(settings)
        if self.enabled:
            self.timer.start()
        else:
            self.timer.stop()
            self.status.set_state(PacsState("off"))

    def _delivery(self) -> Any:
        """The delivery, opened once on the runner's thread (its outbox is SQLite); its send
        and failure rows wait for the audit log to be open, as a model load does."""
        if self._delivery_obj is None:
            from viewer.pacs.delivery import PacsDelivery

            log = self.trail.wait_open(60)
            if log is None:  # every send is an audit row: nothing goes out without the log
                raise PacsLinkError(
                    "The audit log is not open; nothing is sent to PACS until it is."
                )
            self._delivery_obj = PacsDelivery(self.link.settings, log)
        return self._delivery_obj

    # -------------------------------------------------------------- a decision
    def decision_saved(
        self,
        session: ReadingSession,
        outcome: DecisionOutcome,
        *,
        source: Dataset | None,
        render: Any = None,
        heatmap: np.ndarray | None = None,
    ) -> None:
        """After the decision's rows committed: the report here (it reads the session), the
        building and queueing in the worker (``render`` makes the displayed image there), the
        audit row and the status back here."""
        if not self.enabled or not outcome.saved:
            return
        self._path = session.path
        self._notes.pop(session.path, None)  # an earlier hand-over's failure is not this one's
        self.status.set_state(PacsState("queued"))
        kinds = self.link.kinds

        def run(work: Callable[[], Queued], finish: Callable[[Queued], None]) -> None:
            handover = _HandOver(work, finish)
            self._handovers.append(handover)

            def done(queued: Queued) -> None:
                if handover in self._handovers:
                    self._handovers.remove(handover)
                    finish(queued)

            self.runner.submit(
                lambda _p, _c: handover.run(),
                on_result=done,
                on_error=lambda exc: done(Queued("", kinds, error=error_text(exc))),
                priority=10,
                name="pacs-queue",
            )

        self.link.after_decision(
            session,
            outcome,
            source=source,
            display=render,
            heatmap=heatmap,
            run=run,
            done=lambda queued: self._after_queue(session, queued),
        )

    def _after_queue(self, session: ReadingSession, queued: Queued) -> None:
        """The hand-over's audit row is written (``PacsLink.record``); now the status."""
        if queued.ok:
            self._readings[session.path] = queued.reading_id
            self._notes.pop(session.path, None)
        else:
            self._notes[session.path] = queued.error
        if self._closed:
            return
        if session.path == self._path:
            self.show_for(session.path)
        self.drain()

    # -------------------------------------------------------------- the image on screen
    def show_for(self, path: str) -> None:
        """The reader is on ``path``: its reading's state if queued in this run, else the
        outbox's; a failed hand-over of this image says so."""
        self._path = path
        self._reading = self._readings.get(path, "")
        if not self.enabled:
            return
        note = self._notes.get(path, "")
        if note:
            self.status.set_state(self.status.state, note)
        else:
            self.drain()

    # -------------------------------------------------------------- draining
    def drain(self) -> None:
        """One drain in the worker (a second request while one runs runs once after it)."""
        if not self.enabled or self._closed:
            return
        if self._draining:
            self._again = True
            return
        self._draining = True
        self._again = False
        reading, deliver = self._reading, self._delivery

        def job(_p: Any, cancelled: Any) -> PacsState:
            from viewer.session.pacs_link import drain_state

            return drain_state(deliver(), reading_id=reading or None, should_stop=cancelled)

        self.runner.submit(
            job,
            on_result=lambda state: self._drained(reading, state),
            on_error=lambda exc: self._drained(
                reading, PacsState("waiting", error=error_text(exc))
            ),
            priority=0,
            name="pacs-drain",
        )

    def _drained(self, reading: str, state: PacsState) -> None:
        """A drain's state, shown if the reader is still where it was asked for. On an image
        with no reading queued in this run only trouble is shown (waiting, refused): another
        reading's "Sent to PACS" must never look like this image's."""
        self._draining = False
        current = reading == self._reading and self.enabled and not self._notes.get(self._path)
        if current:
            if not reading and state.kind not in TROUBLE:
                state = PacsState("idle")
            self.status.set_state(state)
        self.state_changed.emit(state)
        if self._again:
            self.drain()

    def shutdown(self) -> None:
        """Stop the timer and the worker within ``SHUTDOWN_WAIT_MS`` (the drain is cancelled, and
        a send in flight broken off, its object kept in the outbox). A decision's hand-over the
        worker had not started is queued here, on a delivery of its own, and every finished one
        gets its audit row: a slow PACS never drops a decision's objects or their record."""
        if self._closed:
            return
        self._closed = True
        self.timer.stop()
        idle = self.runner.shutdown(SHUTDOWN_WAIT_MS)
        if not idle:
            self._delivery_obj = None  # the worker still uses it: never closed under it
        handovers, self._handovers = self._handovers, []
        try:
            for handover in handovers:
                if not handover.started:
                    handover.finish(handover.run())
                elif handover.result is not None:  # done, but its result was not delivered
                    handover.finish(handover.result)
        finally:
            close = getattr(self._delivery_obj, "close", None)
            if callable(close):
                close()
            self._delivery_obj = None


class QtPacsCheck(QGroupBox):
    """The settings dialog's PACS page: where results go (set by IT in the site file) and a
    "Test connection" that runs ``viewer.pacs.query.test_connection`` in a worker (C-ECHO, a QIDO
    request: each check passes or fails within ``CHECK_TIMEOUT_S``)."""

    checked = Signal(object)  # the list of ConnectionCheck, once a test finished

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pacsSettings")
        self.settings = settings
        self.runner = JobRunner(1, self, name="pacs-check", nice=5)
        self.summary = QLabel(self)
        self.summary.setObjectName("pacsDestination")
        self.summary.setWordWrap(True)
        self.test_button = QPushButton(self)
        self.test_button.setObjectName("pacsTestButton")
        self.results = QLabel(self)
        self.results.setObjectName("pacsTestResults")
        self.results.setWordWrap(True)
        self.results.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._checks: list[Any] | None = None
        self._error = ""
        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        row = QHBoxLayout()
        row.addWidget(self.test_button)
        row.addStretch(1)
        lay.addLayout(row)
        lay.addWidget(self.results)
        self.test_button.clicked.connect(self.test)
        self.test_button.setEnabled(self._configured())
        self.retranslate()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.setTitle(self.tr("PACS"))
        pacs = self.settings.values.pacs
        if not self._configured():
            text = self.tr("Not set up: IT turns PACS on in the site file ([pacs]).")
        else:
            places = []
            if pacs.dicomweb_url:
                places.append(self.tr("DICOMweb {0}").format(pacs.dicomweb_url))
            if pacs.host:
                places.append(
                    self.tr("DICOM {0} at {1}:{2} (this workstation: {3})").format(
                        pacs.called_aet, pacs.host, pacs.port, pacs.calling_aet
                    )
                )
            text = self.tr("PACS: {0}. Set by your site.").format("; ".join(places))
            if not pacs.enabled:
                text += " " + self.tr("Sending is off ([pacs] enabled = false).")
        self.summary.setText(text)
        self.summary.setAccessibleName(self.tr("PACS destination"))
        self.test_button.setText(self.tr("Test connection"))
        self.test_button.setAccessibleName(self.tr("Test the connection to PACS"))
        self.results.setAccessibleName(self.tr("PACS connection test results"))
        self._render()

    def _configured(self) -> bool:
        """An address to test is set (IT tests before turning PACS on)."""
        pacs = self.settings.values.pacs
        return bool(pacs.dicomweb_url or pacs.host)

    def test(self) -> None:
        """Every check in a worker; the button waits for the answer (at most a few seconds)."""
        if not self._configured() or not self.test_button.isEnabled():
            return
        settings = self.settings

        def job(_p: Any, cancelled: Any) -> list[Any]:
            from viewer.pacs.query import test_connection

            return list(test_connection(settings, timeout_s=CHECK_TIMEOUT_S, cancel=cancelled))

        self.test_button.setEnabled(False)
        self._checks, self._error = None, ""
        self.results.setText(self.tr("Testing…"))
        self.runner.submit(job, on_result=self._done, on_error=self._failed, name="pacs-check")

    def _done(self, checks: list[Any]) -> None:
        self._checks = checks
        self.test_button.setEnabled(True)
        self._render()
        self.checked.emit(checks)

    def _failed(self, exc: BaseException) -> None:
        self._error = error_text(exc)
        self.test_button.setEnabled(True)
        self._render()
        self.checked.emit([])

    def _render(self) -> None:
        if self._error:
            self.results.setText(self.tr("The test could not run: {0}").format(self._error))
            self.results.setStyleSheet("color: #b00020;")
            QTimer.singleShot(0, self, self._fit)
            return
        if self._checks is None:
            return
        lines = []
        for check in self._checks:
            verdict = self.tr("PASS") if check.ok else self.tr("FAIL")
            lines.append(
                self.tr("{0} {1} ({2} s): {3}").format(
                    verdict, check.name, f"{check.elapsed_s:.2f}", check.message
                )
            )
        self.results.setText("\n".join(lines))
        failed = any(not c.ok for c in self._checks)
        self.results.setStyleSheet("color: #b00020;" if failed else "color: #1b5e20;")
        QTimer.singleShot(0, self, self._fit)  # once the label has taken its new text

    def _fit(self) -> None:
        """The dialog grows to show every result line (never cut; a screen's height at most)."""
        top = self.window()
        layout = top.layout()
        if layout is None:
            return
        layout.activate()
        wanted = layout.totalHeightForWidth(top.width()) if layout.hasHeightForWidth() else -1
        wanted = max(wanted, layout.totalMinimumSize().height())
        screen = top.screen().availableGeometry().height() if top.screen() else wanted
        if top.height() < wanted:
            top.resize(top.width(), min(wanted, screen))

    def shutdown(self) -> None:
        self.runner.shutdown(10_000)
