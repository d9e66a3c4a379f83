"""Where the audit rows stand on their way out (issue 18): a line per configured destination —
the department audit store and the hospital's ATNA repository — in the main window's status bar
and the audit window.

Why: forwarding runs in the background and a failure keeps the rows safely queued, so a store
that had been down for hours looked exactly like one that worked. Each line says "up to date",
how many rows wait since when and the last error, or that rows were refused and held (a warning
for IT); its tooltip has the details and the command to run. The state comes from
:class:`viewer.session.forwarding_status.ForwardingStatus`, polled on a timer in a single-thread
job runner (a few SQLite reads, never on the GUI thread); only the GUI thread sets the labels. A
destination the site did not configure has no line.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QBoxLayout, QLabel, QWidget

from viewer.config import Settings
from viewer.pacs.state import clock_text
from viewer.session.forwarding_status import ForwardingState, ForwardingStatus
from viewer.ui.workers import JobRunner, error_text

__all__ = ["POLL_INTERVAL_MS", "QtForwardingStatus"]

# how often the outboxes are read while the window is open (a failure shows within this long)
POLL_INTERVAL_MS = 10_000
# in a status bar a line asks for at most this much room (and a third of the screen), may
# shrink to LINE_MIN_PX when the window is narrow, and is elided to what it gets (the tooltip and
# the accessible description carry all of it): the bar's messages and model and user keep room
MAX_LINE_PX = 620
LINE_MIN_PX = 120
# each destination's label, by ForwardingState.destination
_OBJECT_NAMES = {"central": "forwardingStatusCentral", "atna": "forwardingStatusAtna"}


class QtForwardingStatus(QWidget):
    """One label per configured destination (``forwardingStatusCentral``,
    ``forwardingStatusAtna``) in a row (status bar) or a column (``vertical``); hidden while none
    is configured."""

    states_changed = Signal(list)  # the list of ForwardingState shown (tests wait for it)

    def __init__(
        self, status: ForwardingStatus, parent: QWidget | None = None, *, vertical: bool = False
    ) -> None:
        super().__init__(parent)
        self.setObjectName("forwardingStatus")
        self.status = status
        self.elide = not vertical
        self.states: list[ForwardingState] = []
        self.labels: dict[str, _Line] = {}
        self.runner = JobRunner(1, self, name="forwarding-status", nice=10)
        self._polling = False
        self._again = False
        self._closed = False
        self._error = ""  # a poll that failed (shown on every line: nothing is known)
        direction = (
            QBoxLayout.Direction.TopToBottom if vertical else QBoxLayout.Direction.LeftToRight
        )
        self._layout = QBoxLayout(direction, self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4 if vertical else 12)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_INTERVAL_MS)
        self.timer.timeout.connect(self.refresh)
        self.apply_settings(status.settings)

    # -------------------------------------------------------------- settings and polling
    def apply_settings(self, settings: Settings) -> None:
        """Lines for the destinations now configured, then a fresh look."""
        self.status.apply_settings(settings)
        wanted = self.status.destinations
        for name in list(self.labels):
            if name not in wanted:
                label = self.labels.pop(name)
                self._layout.removeWidget(label)
                label.deleteLater()
        for name in wanted:
            if name not in self.labels:
                label = _Line(self, elide=self.elide)
                label.setObjectName(_OBJECT_NAMES[name])
                label.hide()  # until its first state
                self.labels[name] = label
                self._layout.addWidget(label)
        self.states = [s for s in self.states if s.destination in wanted]
        self.setVisible(bool(wanted))
        if wanted and not self._closed:
            self.timer.start()
            self.refresh()
        else:
            self.timer.stop()
        self.retranslate()

    def refresh(self) -> None:
        """One poll in the worker; a request while one runs runs once after it (it may have
        been made for a change the running poll has not seen)."""
        if self._closed or not self.labels:
            return
        if self._polling:
            self._again = True
            return
        self._polling = True
        self._again = False
        poll = self.status.poll
        self.runner.submit(
            lambda _p, _c: poll(),
            on_result=self._polled,
            on_error=self._failed,
            name="forwarding-status",
        )

    def _polled(self, states: list[ForwardingState]) -> None:
        self._error = ""
        self._done()
        self.set_states(states)

    def _failed(self, exc: BaseException) -> None:
        self._error = error_text(exc)
        self._done()
        self._render()
        self.states_changed.emit(self.states)

    def _done(self) -> None:
        self._polling = False
        if self._again:
            self.refresh()

    def set_states(self, states: list[ForwardingState]) -> None:
        self.states = [s for s in states if s.destination in self.labels]
        self._render()
        self.states_changed.emit(self.states)

    def shutdown(self) -> None:
        self._closed = True
        self.timer.stop()
        self.runner.shutdown(5_000)

    # -------------------------------------------------------------- text
    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.setAccessibleName(self.tr("Audit forwarding status"))
        for name, label in self.labels.items():
            label.setAccessibleName(self.tr("{0}: forwarding status").format(self.name_of(name)))
        self._render()

    def name_of(self, destination: str) -> str:
        if destination == "atna":
            return self.tr("Hospital audit repository (ATNA)")
        return self.tr("Department audit store")

    def _rows(self, n: int) -> str:
        return self.tr("1 row") if n == 1 else self.tr("{0} rows").format(n)

    def text_for(self, state: ForwardingState) -> str:
        """The line in the reader's language (the core's error sentence stays as written);
        ``forwarding_status.state_text`` says the same in English."""
        name = self.name_of(state.destination)
        since = clock_text(state.since) if state.since is not None else ""
        reason = " — " + state.error if state.error else ""
        if state.kind == "up_to_date":
            return self.tr("{0}: up to date").format(name)
        if state.kind == "sending":
            return self.tr("{0}: {1} waiting to be sent").format(name, self._rows(state.waiting))
        if state.kind == "held":
            return (
                self.tr("{0}: {1} refused and held, {2} waiting since {3}").format(
                    name, self._rows(state.held), self._rows(state.waiting), since
                )
                + reason
            )
        if state.kind == "failing":
            return (
                self.tr("{0}: {1} waiting since {2}").format(name, self._rows(state.waiting), since)
                + reason
            )
        return self.tr("{0}: not forwarding").format(name) + reason

    def details_for(self, state: ForwardingState) -> str:
        """The tooltip: every figure, where the queue is, what IT runs."""

        def when(value: dt.datetime | None) -> str:
            return clock_text(value) if value is not None else self.tr("never")

        lines = [self.text_for(state), ""]
        lines.append(
            self.tr("Waiting: {0} (refused and held: {1}); sent so far: {2}").format(
                state.waiting, state.held, state.sent
            )
        )
        if state.since is not None:
            lines.append(self.tr("Oldest waiting row queued: {0}").format(when(state.since)))
        if state.failing_since is not None:
            lines.append(self.tr("Failing since: {0}").format(when(state.failing_since)))
        lines.append(self.tr("Last sent: {0}").format(when(state.last_sent)))
        lines.append(self.tr("Queue: {0}").format(state.outbox))
        if state.warning:
            lines.append(
                self.tr(
                    "Every row stays in this workstation's audit log and its queue; nothing is "
                    "lost. Tell IT."
                )
            )
        if state.held:
            lines.append(
                self.tr("Refused rows are kept; once IT resolved why: {0}").format(
                    state.retry_command
                )
            )
        lines.append(self.tr("Details for IT: {0}").format(state.command))
        return "\n".join(lines)

    def _render(self) -> None:
        shown: dict[str, ForwardingState] = {s.destination: s for s in self.states}
        for name, label in self.labels.items():
            state = shown.get(name)
            if self._error:
                text = self.tr("{0}: status unknown — {1}").format(self.name_of(name), self._error)
                details, bad = text, True
            elif state is None:
                label.hide()
                continue
            else:
                text, details, bad = self.text_for(state), self.details_for(state), state.warning
            if bad:
                text = "⚠ " + text
            label.setToolTip(details)
            label.setAccessibleDescription(details)
            label.set_line(text)
            label.setStyleSheet(_style(label.objectName(), bad, state))
            label.show()


def _style(name: str, bad: bool, state: ForwardingState | None) -> str:
    """Red for rows that do not move, green when up to date, the palette's colour otherwise;
    for the label only (by its object name): a tooltip takes its widget's style sheet, and red
    bold paragraphs on yellow read badly."""
    if bad:
        return f"#{name} {{ color: #b00020; font-weight: bold; }}"
    if state is not None and state.kind == "up_to_date":
        return f"#{name} {{ color: #1b5e20; }}"
    return ""


class _Line(QLabel):
    """One destination's line: wrapped whole in a column; in a row (a status bar) elided to the
    width the layout gives it, between ``LINE_MIN_PX`` and ``MAX_LINE_PX``."""

    def __init__(self, parent: QWidget, *, elide: bool) -> None:
        super().__init__(parent)
        self.elide = elide
        self.full = ""
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(not elide)

    def set_line(self, text: str) -> None:
        self.full = text
        self.updateGeometry()
        self._show()

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        if not self.elide:
            return hint
        screen = self.screen()
        cap = MAX_LINE_PX if screen is None else min(MAX_LINE_PX, screen.size().width() // 3)
        wanted = self.fontMetrics().horizontalAdvance(self.full) + 2 * self.margin() + 4
        return QSize(max(LINE_MIN_PX, min(wanted, cap)), hint.height())

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(LINE_MIN_PX, hint.height()) if self.elide else hint

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._show()

    def _show(self) -> None:
        if not self.elide:
            self.setText(self.full)
            return
        room = max(LINE_MIN_PX, self.contentsRect().width())
        self.setText(self.fontMetrics().elidedText(self.full, Qt.TextElideMode.ElideRight, room))
