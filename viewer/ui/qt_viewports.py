"""Comparison layouts (issue 14 item 1): 1x1, 1x2 and 2x2 viewports, drag and drop, sync.

A chest reading is PA beside lateral, and today beside the prior. The window's one
:class:`QtImageView` (object name ``imageView``) stays the *primary* viewport, top left: it shows
the current image, the one the AI result and the decision belong to (``viewer.session.reading``).
The other viewports are for looking only: no scoring, no decision, no annotation kept; each says
so in its caption ("Prior 2024-03-02 — view only"). A click makes a viewport the active one for
the view tools (zoom, fit, rotate, flip; window/level is the mouse's in each); the active one has
a highlighted border.

An image dropped on a viewport (a study-tree or worklist item: the file path in
:data:`MIME_IMAGE`, never logged) is shown there; dropped on the primary viewport it becomes the
current image through the window, as a click in the tree would. The extra viewports decode
through the window's reader (the ``io`` job runner): never on the GUI thread, a result for an
image the viewport has left is dropped.

Sync (a toggle, on in 1x2): zoom relative to fit and pan in fractions of the image
(:meth:`QtImageView.view_state`) go from the viewport the hand moves to the others, which take
them without signalling back (:meth:`QtImageView.set_view_state`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from viewer.session.priors import study_date_text
from viewer.ui.image_drag import path_from_mime
from viewer.ui.qt_image_view import QtImageView

__all__ = [
    "LAYOUTS",
    "ImageReader",
    "QtViewport",
    "QtViewportGrid",
]

# layout name -> (rows, columns)
LAYOUTS: dict[str, tuple[int, int]] = {"1x1": (1, 1), "1x2": (1, 2), "2x2": (2, 2)}
ACTIVE_STYLE = "QFrame#{name} {{ border: 2px solid {color}; }}"


class ImageReader(Protocol):
    """Decode ``path`` off the GUI thread; call back on the GUI thread with
    ``(DicomImage, DisplayRenderer, preview)`` or the exception."""

    def __call__(
        self,
        path: str,
        on_result: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
    ) -> None: ...


class QtViewport(QFrame):
    """One cell: a caption above a :class:`QtImageView`; takes dropped images."""

    activated = Signal(object)  # this viewport (a click on its image)
    dropped = Signal(object, str)  # this viewport, the dropped image's path

    def __init__(self, view: QtImageView, index: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = index
        self.view = view
        self.path = ""  # the image it shows (or is decoding)
        self.generation = 0  # a decode result for an older request is dropped
        self.setObjectName(f"viewport{index}")
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.Box)
        self.caption = QLabel(self)
        self.caption.setObjectName(f"viewportCaption{index}")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(1)
        lay.addWidget(self.caption)
        view.setParent(self)
        lay.addWidget(view, 1)
        view.installEventFilter(self)
        self.set_active(False)

    def set_active(self, on: bool) -> None:
        color = "#ffb300" if on else "#424242"
        self.setStyleSheet(ACTIVE_STYLE.format(name=self.objectName(), color=color))
        self.setProperty("active", on)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view and event.type() == QEvent.Type.MouseButtonPress:
            self.activated.emit(self)
        return False

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if path_from_mime(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()  # files from a file manager: the window opens them

    def dropEvent(self, event: QDropEvent) -> None:
        path = path_from_mime(event.mimeData())
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.activated.emit(self)
        self.dropped.emit(self, path)


class QtViewportGrid(QWidget):
    """The viewports of the reading window; viewport 0 holds the window's primary view."""

    primary_dropped = Signal(str)  # a path dropped on the primary viewport: the window opens it
    layout_changed = Signal(str)
    shown = Signal(int, str)  # viewport index, path: an extra viewport shows a decoded image

    def __init__(
        self, primary: QtImageView, read: ImageReader, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("viewportGrid")
        self._read = read
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(2)
        self.viewports: list[QtViewport] = []
        for i in range(4):
            view = primary if i == 0 else QtImageView(self)
            if i:
                view.setObjectName(f"imageView{i}")
            vp = QtViewport(view, i, self)
            vp.activated.connect(self.set_active)
            vp.dropped.connect(self._dropped)
            view.view_changed.connect(lambda v=view: self._view_moved(v))
            self.viewports.append(vp)
        self.layout_name = ""
        self.active = self.viewports[0]
        self.sync = False
        self._syncing = False
        self._captions: dict[int, tuple[str, str]] = {}  # index -> (kind, ISO date)
        self.set_layout("1x1")
        self.set_active(self.active)
        self.retranslate()

    # ----------------------------------------------------------------- layout
    @property
    def primary(self) -> QtImageView:
        return self.viewports[0].view

    def visible_viewports(self) -> list[QtViewport]:
        rows, cols = LAYOUTS[self.layout_name]
        return self.viewports[: rows * cols]

    def set_layout(self, name: str) -> None:
        if name not in LAYOUTS or name == self.layout_name:
            return
        rows, cols = LAYOUTS[name]
        for vp in self.viewports:
            self._grid.removeWidget(vp)
        for i, vp in enumerate(self.viewports):
            if i < rows * cols:
                self._grid.addWidget(vp, i // cols, i % cols)
                vp.setVisible(True)
            else:
                vp.setVisible(False)
        self.layout_name = name
        for vp in self.viewports:  # one viewport looks as the window always did
            vp.caption.setVisible(name != "1x1")
            vp.setFrameShape(QFrame.Shape.NoFrame if name == "1x1" else QFrame.Shape.Box)
        visible = self.visible_viewports()
        self.set_active(self.active if self.active in visible else self.viewports[0])
        self.layout_changed.emit(name)

    def set_active(self, viewport: QtViewport) -> None:
        self.active = viewport
        for vp in self.viewports:
            vp.set_active(vp is viewport and self.layout_name != "1x1")

    def active_view(self) -> QtImageView:
        return self.active.view

    def set_sync(self, on: bool) -> None:
        self.sync = on
        if on:
            self._view_moved(self.active.view)

    def _view_moved(self, source: QtImageView) -> None:
        if not self.sync or self._syncing:
            return
        state = source.view_state()
        if state is None:
            return
        self._syncing = True
        try:
            for vp in self.visible_viewports():
                if vp.view is not source:
                    vp.view.set_view_state(state)
        finally:
            self._syncing = False

    # ----------------------------------------------------------------- images
    def _dropped(self, viewport: QtViewport, path: str) -> None:
        if viewport.index == 0:
            self.primary_dropped.emit(path)
        else:
            self.show_path(viewport.index, path)

    def show_path(self, index: int, path: str, *, prior_date: str = "") -> None:
        """Decode ``path`` (through the window's reader) and show it in viewport ``index`` (>0).

        ``prior_date`` (DICOM DA): the caption says "Prior <date>"; without it the caption
        says the image's study date.
        """
        if index <= 0:
            raise ValueError("the primary viewport shows the current image through the window")
        vp = self.viewports[index]
        vp.generation += 1
        generation = vp.generation
        vp.path = path
        vp.view.clear(loading=True)
        self._captions[index] = ("prior" if prior_date else "other", prior_date)
        self._render_caption(index)

        def done(value: Any) -> None:
            if vp.generation != generation:
                return  # another image was put there meanwhile
            image, renderer, preview = value
            vp.view.set_image(image, renderer, preview)
            kind, date = self._captions.get(index, ("other", ""))
            self._captions[index] = (kind, date or image.meta.study_date)
            self._render_caption(index)
            if self.sync:
                self._view_moved(self.primary if self.primary.image is not None else vp.view)
            self.shown.emit(index, path)

        def failed(_exc: BaseException) -> None:
            if vp.generation != generation:
                return
            vp.view.clear()
            self._captions[index] = ("error", "")
            self._render_caption(index)

        self._read(path, done, failed)

    def mark_other_patient(self, index: int) -> None:
        """The image in viewport ``index`` is another patient's: its caption says so."""
        self._captions[index] = ("stranger", "")
        self._render_caption(index)

    def set_current_date(self, study_date: str) -> None:
        """The primary's caption: "Current <date>" (the image the AI and decision are for)."""
        self._captions[0] = ("current", study_date)
        self._render_caption(0)

    def clear_extra_one(self, index: int) -> None:
        """Empty an extra viewport (another patient is opened in the primary)."""
        vp = self.viewports[index]
        vp.generation += 1
        vp.path = ""
        vp.view.clear()
        self._captions.pop(index, None)
        self._render_caption(index)

    def _render_caption(self, index: int) -> None:
        vp = self.viewports[index]
        kind, date = self._captions.get(index, ("", ""))
        day = study_date_text(date)
        if kind == "current":
            text = self.tr("Current {0} — AI and decision").format(day).replace("  ", " ")
        elif kind == "prior":
            text = self.tr("Prior {0} — view only").format(day)
        elif kind == "other":
            text = self.tr("{0} — view only").format(day) if day else self.tr("View only")
        elif kind == "stranger":
            text = self.tr("ANOTHER PATIENT — view only")
        elif kind == "error":
            text = self.tr("This file cannot be shown")
        else:
            text = (
                self.tr("Current — AI and decision")
                if index == 0
                else self.tr("Drop a series here")
            )
        vp.caption.setText(text)
        vp.caption.setStyleSheet(
            "padding: 1px 4px; font-weight: bold;"
            + (" background: #b71c1c; color: white;" if kind == "stranger" else "")
        )
        vp.caption.setAccessibleName(self.tr("Viewport {0} caption").format(index + 1))
        vp.setAccessibleName(self.tr("Viewport {0}").format(index + 1))
        if index:
            vp.view.setAccessibleName(self.tr("Image view {0} (view only)").format(index + 1))

    def shutdown(self) -> None:
        for vp in self.viewports[1:]:
            vp.view.shutdown()

    # ----------------------------------------------------------------- translation
    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        for vp in self.viewports:
            self._render_caption(vp.index)
