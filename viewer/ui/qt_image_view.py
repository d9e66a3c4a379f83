"""The image view: one radiograph, its grey scale, and the reader's tools on it.

Why a custom widget painting a QImage: the display buffer comes from
:class:`viewer.dicom.DisplayRenderer` (a lookup table over the stored values, PS3.3 C.11), so the
only per-drag cost is one LUT pass. On a 3000 x 3000 image even that is ~20 ms, so window/level
drags are coalesced (the latest position wins, rendered from a 0 ms timer once the event queue is
drained) and rendered from a decimated copy at about screen resolution; the full-resolution buffer
is rendered when the button is released.

Mouse: right-drag = window/level, left-drag = pan (or measure when the measure tool is on),
wheel = zoom about the cursor, double-click = fit. ``set_left_drag("window")`` (the ``ui.left_drag``
setting, as Weasis and RadiAnt do) swaps the two drags: left = window/level, right = pan.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from viewer.inference.heatmap import heatmap_rgba
from viewer.ui.qt_annotations import TOOLS, QtAnnotationLayer
from viewer.ui.workers import JobRunner

# Above this many pixels, full-resolution renders run in a worker (a 3000 x 3000 LUT pass plus
# its smooth downscale is ~50-70 ms on two cores: too long for the GUI thread).
LARGE_PIXELS = 1_500_000


def box_downscale(buf: np.ndarray, k: int) -> np.ndarray:
    """Mean of each k x k block of a uint8 image (area averaging: no aliasing of fine lines)."""
    h, w = buf.shape[0] // k, buf.shape[1] // k
    total = np.zeros((h, w), dtype=np.uint32)
    for i in range(k):  # k*k strided adds: much faster than a 4-D reduction
        for j in range(k):
            total += buf[i : h * k : k, j : w * k : k]
    total += (k * k) // 2
    total //= k * k
    return total.astype(np.uint8)


def gray_qimage(buf: np.ndarray) -> QImage:
    """A QImage viewing a contiguous uint8 2-D buffer (the caller keeps ``buf`` alive)."""
    h, w = buf.shape
    return QImage(buf.data, w, h, buf.strides[0], QImage.Format.Format_Grayscale8)


def distance_text(
    p1: tuple[float, float], p2: tuple[float, float], spacing: Any | None
) -> tuple[float, str, str]:
    """Length of the segment p1-p2 (image x, y) as (value, unit, text naming the spacing source).

    Millimetres only with a spacing from the file (PS3.3 C.8.11.1 / 10.7.1.3: Pixel Spacing
    (0028,0030), Imager Pixel Spacing (0018,1164), possibly corrected by Estimated Radiographic
    Magnification Factor (0018,1114)); otherwise pixels, saying why.
    """
    dx = p2[0] - p1[0]
    dy = p2[1] - p1[1]
    if spacing is None:
        px = math.hypot(dx, dy)
        text = QCoreApplication.translate(
            "QtImageView", "{0:.1f} px (no pixel spacing in the file: not a physical length)"
        )
        return px, "px", text.format(px)
    mm = math.hypot(dx * float(spacing.col_mm), dy * float(spacing.row_mm))
    source = str(getattr(spacing, "source", ""))
    if source == "PixelSpacing":
        note = QCoreApplication.translate("QtImageView", "Pixel Spacing (0028,0030)")
    elif source == "ImagerPixelSpacingCorrected":
        note = QCoreApplication.translate(
            "QtImageView", "Imager Pixel Spacing corrected for magnification"
        )
    elif source == "ImagerPixelSpacing":
        note = QCoreApplication.translate(
            "QtImageView",
            "Imager Pixel Spacing (0018,1164): at the detector, not corrected for magnification",
        )
    else:
        note = source
    return mm, "mm", QCoreApplication.translate("QtImageView", "{0:.1f} mm ({1})").format(mm, note)


def make_preview(image: Any, target: int = 1100) -> tuple[int, Any] | None:
    """A (stride, DisplayRenderer) over a decimated copy for large images; None for small ones.

    Run in the decoding worker: building the renderer's lookup domain is ~20-60 ms on a
    3000 x 3000 image.
    """
    rows, cols = image.stored.shape[:2]
    if rows * cols <= LARGE_PIXELS:
        return None
    from viewer.dicom import DisplayRenderer

    stride = max(2, -(-max(rows, cols) // target))
    small = dataclasses.replace(
        image,
        stored=np.ascontiguousarray(image.stored[::stride, ::stride]),
        modality=np.ascontiguousarray(image.modality[::stride, ::stride]),
    )
    return stride, DisplayRenderer(small)


class QtImageView(QWidget):
    """Shows one :class:`viewer.dicom.DicomImage` through a DisplayRenderer."""

    window_changed = Signal(object)  # viewer.dicom.Window
    measurement_changed = Signal(str)
    view_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("imageView")
        self.setAccessibleName(self.tr("Image view"))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 320)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(False)
        self.setAutoFillBackground(False)
        self.image: Any | None = None
        self.renderer: Any | None = None
        self._preview: tuple[int, Any] | None = None  # (stride, renderer on a decimated copy)
        self.voi: Any = None
        self.invert = False
        self.rotation = 0
        self.flip_h = False
        self.zoom = 1.0
        self.fit_mode = True
        self.pan = QPointF(0.0, 0.0)
        self.tool = "pan"
        self.left_drag = "pan"  # or "window": the ui.left_drag setting
        self.measurement: tuple[tuple[float, float], tuple[float, float]] | None = None
        self.measurement_text = ""
        self.show_overlay = True
        # an export being painted (render_view): the image alone, or another header's text
        self._image_only = False
        self._header_meta: Any | None = None
        self._buf: np.ndarray | None = None
        self._qimage: QImage | None = None
        self._qimage_stride = 1
        # ((id of the buffer, factor), QImage view, the uint8 array it views)
        self._scaled_cache: tuple[tuple[int, int], QImage, np.ndarray] | None = None
        self._heat: np.ndarray | None = None
        self._heat_img: QImage | None = None
        self.heatmap_visible = False
        self.heatmap_opacity = 0.45
        self._drag: dict[str, Any] | None = None
        self._pending_window: Any | None = None
        self._dragging_window = False
        self.render_count = 0
        self._generation = 0
        self._full_pending = 0
        self._loading = False
        # (QImage, the uint8 array it views): a reduced-resolution first look while the full
        # image decodes (viewer.dicom.preview); inert, never scored or measured
        self._loading_preview: tuple[QImage, np.ndarray] | None = None
        self._runner = JobRunner(1, self, name="render")
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(0)
        self._render_timer.timeout.connect(self._render_pending)
        # several annotations per image (distance, angle, ROI, CTR, arrow, text)
        self.annotations = QtAnnotationLayer(self)

    # ----------------------------------------------------------------- image and grey scale
    def set_image(self, image: Any, renderer: Any, preview: tuple[int, Any] | None = None) -> None:
        """Show a decoded image with its stored default window (PS3.3 C.11.2).

        ``preview`` is a (stride, renderer) pair over a decimated copy, made by
        :func:`make_preview` in the decoding worker so a large image appears at once.
        """
        self.image = image
        self.renderer = renderer
        self._preview = preview
        self._loading = False
        self._loading_preview = None
        self.voi = image.default_window
        self.invert = False
        self.rotation = 0
        self.flip_h = False
        self.fit_mode = True
        self.pan = QPointF(0.0, 0.0)
        self.measurement = None
        self.measurement_text = ""
        self.annotations.set_items([])  # the window hands over the reading's own
        self.clear_heatmap()
        self._fit_zoom()  # before rendering: the worker pre-scales for this zoom
        self._render(full=True)
        self.window_changed.emit(self.voi)
        self.measurement_changed.emit("")
        self.view_changed.emit()
        self.update()

    def clear(self, *, loading: bool = False) -> None:
        """Show nothing (``loading``: an image is on its way, so no "open a file" hint)."""
        self._loading = loading
        self._loading_preview = None
        self._generation += 1  # a full-size render still in flight is for the old image
        self.image = None
        self.renderer = None
        self._preview = None
        self._buf = None
        self._qimage = None
        self._scaled_cache = None
        self.clear_heatmap()
        self.update()

    def show_loading_preview(self, pixels: np.ndarray) -> None:
        """Paint a reduced-resolution display buffer of the image being decoded, fitted and
        captioned as a preview; ignored once the full image (or another file) is on screen.
        Nothing can act on it: every tool needs ``self.image``, which stays None."""
        if self.image is not None or not self._loading:
            return
        buf = np.ascontiguousarray(pixels, dtype=np.uint8)
        self._loading_preview = (gray_qimage(buf), buf)
        self.update()

    def showing_loading_preview(self) -> bool:
        return self._loading_preview is not None

    def _paint_loading_preview(self, p: QPainter) -> None:
        if self._loading_preview is None:
            return
        qimg, buf = self._loading_preview
        h, w = buf.shape
        scale = min(self.width() / w, self.height() / h)
        target = QRectF(
            (self.width() - w * scale) / 2, (self.height() - h * scale) / 2, w * scale, h * scale
        )
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        p.drawImage(target, qimg)
        self._shadow_text(
            p,
            QPointF(12, self.height() - 14),
            self.tr("Preview at reduced resolution: loading the full image…"),
            QColor(255, 220, 0),
        )

    def presets(self) -> list[Any]:
        """The image's window menu (``DicomImage.presets``: the default first, then automatic,
        chest presets, full range, too-wide stored windows); for an image without one, the
        stored windows then the automatic one."""
        if self.image is None:
            return []
        menu = getattr(self.image, "presets", ())
        if menu:
            return list(menu)
        out = list(self.image.windows)
        auto = self.image.auto_window
        if auto not in out:
            out.append(auto)
        return out

    def apply_preset(self, index: int) -> bool:
        presets = self.presets()
        if not 0 <= index < len(presets):
            return False
        self.set_window(presets[index])
        return True

    def set_window(self, window: Any) -> None:
        if self.image is None:
            return
        self.voi = window
        self._render(full=True)
        self.window_changed.emit(window)
        self.update()

    def set_invert(self, on: bool) -> None:
        if self.image is None or on == self.invert:
            return
        self.invert = on
        self._render(full=True)
        self.view_changed.emit()
        self.update()

    def rotate90(self) -> None:
        self.rotation = (self.rotation + 90) % 360
        self._after_geometry_change()

    def flip(self) -> None:
        self.flip_h = not self.flip_h
        self._after_geometry_change()

    def reset_view(self) -> None:
        self.annotations.cancel_draft()  # Esc also drops an angle or CTR half drawn
        if self.image is None:
            return
        self.rotation = 0
        self.flip_h = False
        self.invert = False
        self.voi = self.image.default_window
        self._render(full=True)
        self.window_changed.emit(self.voi)
        self.fit()

    def _after_geometry_change(self) -> None:
        if self.fit_mode:
            self._fit_zoom()
        self.view_changed.emit()
        self.update()

    def _make_window(self, center: float, width: float) -> Any:
        base: Any = self.voi
        if base is not None and hasattr(base, "lut_index"):
            return dataclasses.replace(
                base, center=center, width=width, explanation="", lut_index=None
            )
        if base is not None:
            return dataclasses.replace(base, center=center, width=width, explanation="")
        from viewer.dicom import Window  # only reached with an image open, so viewer.dicom loaded

        return Window(center=center, width=width)

    def _preview_renderer(self) -> tuple[int, Any]:
        """A renderer over a decimated copy of the stored values, about screen resolution.

        The stride follows the zoom (one stored pixel per screen pixel or coarser), and is at
        least 2 for large images so a drag at 1:1 stays cheap; the release renders full size.
        """
        if self.image is None:
            raise RuntimeError("no image")
        rows, cols = self.image.stored.shape[:2]
        stride = max(1, int(1.0 / max(self.zoom, 1e-3)))
        if rows * cols > LARGE_PIXELS:
            stride = max(2, stride)
        if self._preview is not None and (
            self._preview[0] == stride or 2 <= self._preview[0] <= stride + 1
        ):
            return self._preview
        if stride == 1:
            self._preview = (1, self.renderer)
            return self._preview
        try:
            from viewer.dicom import DisplayRenderer

            small = dataclasses.replace(
                self.image,
                stored=np.ascontiguousarray(self.image.stored[::stride, ::stride]),
                modality=np.ascontiguousarray(self.image.modality[::stride, ::stride]),
            )
            self._preview = (stride, DisplayRenderer(small))
        except Exception:  # the renderer may need more than the arrays: fall back to full size
            self._preview = (1, self.renderer)
        return self._preview

    def _is_large(self) -> bool:
        return self.image is not None and int(self.image.stored.size) > LARGE_PIXELS

    def _render(self, *, full: bool) -> None:
        """Render the display buffer; a full render of a large image goes to a worker.

        Small images render synchronously (a few ms). For a large one the decimated preview is
        shown at once and the full-resolution buffer (and its smooth downscale for the current
        zoom) is computed off the GUI thread, then swapped in unless superseded.
        """
        if self.renderer is None:
            return
        self._generation += 1
        if full and self._is_large():
            self._render_with(*self._preview_renderer())
            self._request_full()
            return
        if full:
            self._render_with(1, self.renderer)
        else:
            self._render_with(*self._preview_renderer())

    def _render_with(self, stride: int, renderer: Any) -> None:
        buf = np.ascontiguousarray(renderer.render(self.voi, invert=self.invert))
        self._buf = buf
        self._qimage = gray_qimage(buf)
        self._qimage_stride = stride
        self._scaled_cache = None
        self.render_count += 1

    def _request_full(self) -> None:
        gen = self._generation
        renderer: Any = self.renderer
        voi, invert, eff = self.voi, self.invert, self.zoom

        def work(_p: Any, _c: Any) -> tuple[int, np.ndarray, QImage, Any]:
            buf = np.ascontiguousarray(renderer.render(voi, invert=invert))
            qimg = gray_qimage(buf)
            scaled = None
            k = int(1.0 / max(eff, 1e-3))
            if k >= 2:  # pre-shrunk here so the first paint does not do it
                small = box_downscale(buf, k)
                scaled = (k, gray_qimage(small), small)
            return gen, buf, qimg, scaled

        self._full_pending += 1
        self._runner.submit(work, on_result=self._full_ready, on_error=self._full_failed)

    def _full_ready(self, value: tuple[int, np.ndarray, QImage, Any]) -> None:
        self._full_pending -= 1
        gen, buf, qimg, scaled = value
        if gen != self._generation or self._dragging_window:
            return  # superseded by a newer window or a drag in progress
        self._buf = buf
        self._qimage = qimg
        self._qimage_stride = 1
        self._scaled_cache = None
        if scaled is not None:
            k, small_img, small = scaled
            self._scaled_cache = ((id(buf), k), small_img, small)
        self.render_count += 1
        self.update()

    def _full_failed(self, _exc: BaseException) -> None:
        self._full_pending -= 1

    def render_idle(self) -> bool:
        """No full-resolution render in flight (tests wait on this)."""
        return self._full_pending == 0

    def shutdown(self) -> None:
        self._runner.shutdown()

    def _render_pending(self) -> None:
        if self._pending_window is None:
            return
        self.voi = self._pending_window
        self._pending_window = None
        self._render(full=not self._dragging_window)
        self.window_changed.emit(self.voi)
        self.update()

    def displayed_buffer(self) -> np.ndarray | None:
        """The uint8 buffer currently shown (tests and screenshots)."""
        return self._buf

    # ----------------------------------------------------------------- heatmap overlay
    def set_heatmap(self, heat: np.ndarray | None) -> None:
        self._heat = None if heat is None else np.asarray(heat, dtype=np.float32)
        self._heat_img = None
        if self._heat is not None:
            rgba = heatmap_rgba(self._heat)
            self._heat_rgba = rgba
            h, w = rgba.shape[:2]
            self._heat_img = QImage(rgba.data, w, h, rgba.strides[0], QImage.Format.Format_RGBA8888)
        self.update()

    def clear_heatmap(self) -> None:
        self._heat = None
        self._heat_img = None

    def has_heatmap(self) -> bool:
        return self._heat_img is not None

    def set_heatmap_visible(self, on: bool) -> None:
        self.heatmap_visible = on
        self.update()

    def set_heatmap_opacity(self, opacity: float) -> None:
        self.heatmap_opacity = max(0.0, min(1.0, opacity))
        self.update()

    # ----------------------------------------------------------------- geometry
    def image_size(self) -> tuple[int, int]:
        if self.image is None:
            return (1, 1)
        rows, cols = self.image.stored.shape[:2]
        return int(cols), int(rows)

    def _rotated_size(self) -> tuple[int, int]:
        w, h = self.image_size()
        return (h, w) if self.rotation in (90, 270) else (w, h)

    def _fit_scale(self) -> float:
        """The zoom at which the whole (rotated) image fits the widget."""
        rw, rh = self._rotated_size()
        return max(1e-3, min(self.width() / rw, self.height() / rh))

    def _fit_zoom(self) -> None:
        self.zoom = self._fit_scale()
        self.pan = QPointF(0.0, 0.0)
        self.fit_mode = True

    def fit(self) -> None:
        self._fit_zoom()
        self.view_changed.emit()
        self.update()

    def actual_size(self) -> None:
        """1:1: one image pixel per screen pixel."""
        self.zoom = 1.0
        self.fit_mode = False
        self.view_changed.emit()
        self.update()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        if self.image is None:
            return
        old = self.zoom
        new = max(0.02, min(32.0, old * factor))
        if anchor is not None:
            # keep the image point under the cursor where it is
            c = QPointF(self.width() / 2, self.height() / 2) + self.pan
            self.pan = self.pan + (anchor - c) * (1 - new / old)
        self.zoom = new
        self.fit_mode = False
        self.view_changed.emit()
        self.update()

    def view_state(self) -> tuple[float, float, float] | None:
        """(zoom relative to fit, pan x, pan y as fractions of the shown image's size).

        What synchronised viewports share (issue 14 item 1): two images of different sizes
        then show the same part of the chest at the same relative size.
        """
        if self.image is None:
            return None
        rw, rh = self._rotated_size()
        fit = self._fit_scale()
        return (self.zoom / fit, self.pan.x() / (self.zoom * rw), self.pan.y() / (self.zoom * rh))

    def set_view_state(self, state: tuple[float, float, float]) -> None:
        """Take another viewport's :meth:`view_state` (no ``view_changed``: no feedback loop)."""
        if self.image is None:
            return
        rel, fx, fy = state
        rw, rh = self._rotated_size()
        fit = self._fit_scale()
        self.zoom = max(0.02, min(32.0, rel * fit))
        self.pan = QPointF(fx * self.zoom * rw, fy * self.zoom * rh)
        self.fit_mode = abs(rel - 1.0) < 1e-9 and fx == 0.0 and fy == 0.0
        self.update()

    def transform(self) -> QTransform:
        """Image pixel coordinates -> widget coordinates."""
        w, h = self.image_size()
        t = QTransform()
        t.translate(self.width() / 2 + self.pan.x(), self.height() / 2 + self.pan.y())
        t.scale(self.zoom, self.zoom)
        t.rotate(self.rotation)
        if self.flip_h:
            t.scale(-1, 1)
        t.translate(-w / 2, -h / 2)
        return t

    def to_image(self, pos: QPointF) -> tuple[float, float]:
        inv, _ok = self.transform().inverted()
        p = inv.map(pos)
        return (p.x(), p.y())

    def to_widget(self, x: float, y: float) -> QPointF:
        return self.transform().map(QPointF(x, y))

    # ----------------------------------------------------------------- measurement
    def set_left_drag(self, mode: str) -> None:
        """``"pan"`` (left pans, right does window/level) or ``"window"`` (swapped)."""
        self.left_drag = "window" if mode == "window" else "pan"

    def _drawing(self) -> bool:
        """The tool draws with the left button (measure or an annotation tool)."""
        return self.tool == "measure" or self.tool in TOOLS

    def set_tool(self, tool: str) -> None:
        self.tool = tool
        self.annotations.cancel_draft()
        cursor = Qt.CursorShape.CrossCursor if self._drawing() else Qt.CursorShape.ArrowCursor
        self.setCursor(cursor)
        self.update()

    def set_measurement(self, p1: tuple[float, float], p2: tuple[float, float]) -> str:
        """Set a distance measurement in image coordinates; returns its text."""
        self.measurement = (p1, p2)
        spacing = self.image.meta.pixel_spacing if self.image is not None else None
        _, _, text = distance_text(p1, p2, spacing)
        self.measurement_text = text
        self.measurement_changed.emit(text)
        self.update()
        return text

    def clear_measurement(self) -> None:
        self.measurement = None
        self.measurement_text = ""
        self.measurement_changed.emit("")
        self.update()

    # ----------------------------------------------------------------- events
    def resizeEvent(self, event: QResizeEvent) -> None:
        if self.fit_mode and self.image is not None:
            self._fit_zoom()
        self._scaled_cache = None
        super().resizeEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.image is None:
            return
        pos = event.position()
        button = event.button()
        if self.left_drag == "window" and button != Qt.MouseButton.MiddleButton:
            if button == Qt.MouseButton.LeftButton and not self._drawing():
                # left drag: window/level, unless it grabs an annotation (select and move)
                if self.annotations.hit(pos) is None:
                    button = Qt.MouseButton.RightButton
            elif button == Qt.MouseButton.RightButton:
                button = Qt.MouseButton.MiddleButton  # right drag: pan
        if button == Qt.MouseButton.RightButton:
            win = self.voi
            self._dragging_window = True
            self._drag = {
                "kind": "window",
                "start": pos,
                "center": float(win.center),
                "width": float(win.width),
            }
        elif button == Qt.MouseButton.LeftButton and self.annotations.press(pos):
            pass  # drawing, selecting or moving an annotation
        elif button == Qt.MouseButton.LeftButton:
            if self.tool == "measure":
                p = self.to_image(pos)
                self._drag = {"kind": "measure", "p1": p}
                self.set_measurement(p, p)
            else:
                self._drag = {"kind": "pan", "start": pos, "pan": QPointF(self.pan)}
        elif button == Qt.MouseButton.MiddleButton:
            self._drag = {"kind": "pan", "start": pos, "pan": QPointF(self.pan)}
        event.accept()

    def _window_scale(self) -> float:
        if self.image is None:
            raise RuntimeError("no image")
        auto = self.image.auto_window
        return max(float(auto.width), 1.0) / 400.0

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self.annotations.move(event.position()):
            event.accept()
            return
        drag = self._drag
        if drag is None:
            return
        pos = event.position()
        if drag["kind"] == "window":
            d = pos - drag["start"]
            s = self._window_scale()
            width = max(1.0, drag["width"] + d.x() * s)
            center = drag["center"] - d.y() * s
            self._pending_window = self._make_window(center, width)
            if not self._render_timer.isActive():
                self._render_timer.start()
        elif drag["kind"] == "pan":
            self.pan = drag["pan"] + (pos - drag["start"])
            self.fit_mode = False
            self.update()
            self.view_changed.emit()  # synchronised viewports follow the hand (qt_viewports)
        elif drag["kind"] == "measure":
            self.set_measurement(drag["p1"], self.to_image(pos))
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.annotations.release(event.position()):
            event.accept()
            return
        drag = self._drag
        self._drag = None
        if drag is not None and drag["kind"] == "window":
            self._dragging_window = False
            self._render_timer.stop()
            if self._pending_window is not None:
                self.voi = self._pending_window
                self._pending_window = None
            self._render(full=True)  # the full-resolution buffer once the drag ends
            self.window_changed.emit(self.voi)
            self.update()
        elif drag is not None and drag["kind"] == "pan":
            self.view_changed.emit()
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and not self._drawing():
            self.fit()
        event.accept()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.15**steps, event.position())
        event.accept()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.setAccessibleName(self.tr("Image view"))
            if self.measurement is not None:
                self.set_measurement(*self.measurement)
            self.annotations.retranslate()
        super().changeEvent(event)

    # ----------------------------------------------------------------- painting
    def _scaled_image(self) -> tuple[QImage, float]:
        """The buffer box-downscaled by the whole factor of the current zoom (cached).

        The painter then scales by the remaining factor (< 2) with bilinear filtering. Done with
        numpy, not ``QImage.scaled``: PySide holds the GIL through ``scaled`` (~90 ms on
        3000 x 3000), numpy's reductions do not.
        """
        if self._qimage is None or self._buf is None:
            raise RuntimeError("no image")
        eff = self.zoom * self._qimage_stride  # screen px per buffer px
        k = int(1.0 / max(eff, 1e-3))
        if k < 2 or self._dragging_window:
            return self._qimage, 1.0
        key = (id(self._buf), k)
        if self._scaled_cache is None or self._scaled_cache[0] != key:
            small = box_downscale(self._buf, k)
            self._scaled_cache = (key, gray_qimage(small), small)
        return self._scaled_cache[1], eff

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0))
        if self.image is None or self._qimage is None:
            if self._loading:
                self._paint_loading_preview(p)
                p.end()
                return
            p.setPen(QColor(160, 160, 160))
            p.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter,
                self.tr("Open a DICOM file or folder (File menu), or drop it here."),
            )
            p.end()
            return
        w, h = self.image_size()
        target = QRectF(0, 0, w, h)
        p.setTransform(self.transform())
        img, _ = self._scaled_image()
        if self.zoom < 4:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, not self._dragging_window)
        p.drawImage(target, img)
        if self._image_only:  # an export without overlays: everything below is an overlay
            p.end()
            return
        if self.heatmap_visible and self._heat_img is not None:
            p.setOpacity(self.heatmap_opacity)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            p.drawImage(target, self._heat_img)
            p.setOpacity(1.0)
        if self.measurement is not None:
            (x1, y1), (x2, y2) = self.measurement
            pen = QPen(QColor(255, 220, 0))
            pen.setCosmetic(True)
            pen.setWidthF(2.0)
            p.setPen(pen)
            p.drawLine(QPointF(x1, y1), QPointF(x2, y2))
        p.resetTransform()
        if self.measurement is not None and self.measurement_text:
            (x2, y2) = self.measurement[1]
            at = self.to_widget(x2, y2) + QPointF(8, -8)
            self._shadow_text(p, at, self.measurement_text, QColor(255, 220, 0))
        self.annotations.paint(p)
        if self.show_overlay:
            self._paint_corners(p)
        p.end()

    def render_view(self, *, overlays: bool = True, header_meta: Any | None = None) -> QImage:
        """The viewport's pixels as painted now (``QWidget.grab``: same transform, same window).

        ``overlays`` False paints the image alone (no corner text, heatmap, measurement or
        annotation); ``header_meta`` replaces the image's header in the corner text (the
        de-identified one of :func:`viewer.session.export.deidentified_meta`).
        """
        self._image_only, self._header_meta = not overlays, header_meta
        try:
            return self.grab().toImage()
        finally:
            self._image_only, self._header_meta = False, None

    def _shadow_text(self, p: QPainter, at: QPointF, text: str, color: QColor) -> None:
        p.setPen(QColor(0, 0, 0))
        p.drawText(at + QPointF(1, 1), text)
        p.setPen(color)
        p.drawText(at, text)

    def corner_texts(self) -> dict[str, list[str]]:
        """The four corner overlays (patient, study, view, window), as lines."""
        if self.image is None:
            return {}
        m = self._header_meta or self.image.meta
        win = self.voi
        no_name = self.tr("De-identified") if self._header_meta else self.tr("(no name)")
        tl = [
            m.patient_name or no_name,
            m.patient_id,
            " ".join([m.patient_sex]).strip(),
        ]
        tr_ = [
            m.study_date and _date_text(m.study_date),
            " ".join(x for x in (m.modality, m.view_position or self.tr("view ?")) if x),
            self.tr("Laterality: {0}").format(m.laterality) if m.laterality else "",
        ]
        bl = [
            self.tr("W {0:.0f}  C {1:.0f}").format(float(win.width), float(win.center)),
            self.tr("Inverted") if self.invert else "",
        ]
        flags = []
        if self.rotation:
            flags.append(self.tr("rot {0}°").format(self.rotation))
        if self.flip_h:
            flags.append(self.tr("flipped"))
        br = [
            self.tr("Zoom {0:.0f}%").format(self.zoom * 100),
            " ".join(flags),
            f"{m.columns} x {m.rows}",
        ]
        return {
            "tl": [x for x in tl if x],
            "tr": [x for x in tr_ if x],
            "bl": [x for x in bl if x],
            "br": [x for x in br if x],
        }

    def _paint_corners(self, p: QPainter) -> None:
        font = QFont(self.font())
        font.setPointSizeF(max(8.0, font.pointSizeF()))
        p.setFont(font)
        fm = p.fontMetrics()
        lh = fm.height()
        margin = 8
        color = QColor(230, 230, 160)
        for corner, lines in self.corner_texts().items():
            for i, line in enumerate(lines):
                tw = fm.horizontalAdvance(line)
                x = margin if corner in ("tl", "bl") else self.width() - margin - tw
                if corner in ("tl", "tr"):
                    y = margin + fm.ascent() + i * lh
                else:
                    y = self.height() - margin - (len(lines) - 1 - i) * lh - fm.descent()
                self._shadow_text(p, QPointF(x, y), line, color)


def _date_text(dicom_date: str) -> str:
    """DICOM DA (YYYYMMDD, PS3.5 6.2) -> YYYY-MM-DD; anything else as stored."""
    d = dicom_date.strip()
    if len(d) == 8 and d.isdigit():
        return f"{d[:4]}-{d[4:6]}-{d[6:]}"
    return d
