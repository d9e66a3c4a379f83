"""The reader's annotations drawn on the image view: tools, selection, moving, deleting.

The model and its maths are Qt-free (:mod:`viewer.dicom.annotations`, image pixel coordinates);
this layer turns mouse events on :class:`viewer.ui.qt_image_view.QtImageView` into annotations,
paints them through the view's current transform (so they follow zoom, pan, rotation and flip)
with the shadowed text the measurement uses, and tells the window when they change
(``changed``) so the reading keeps them.

Tools (Weasis / OHIF habits): distance, arrow, rectangle and ellipse ROI are one drag; an angle
is a drag along the first arm to the vertex, then a click (or drag) for the second arm's end; a
cardiothoracic ratio is two horizontal drags, the cardiac width then the thoracic width; text is
a click, then the words. With the Pan tool a click on an annotation selects it and a drag moves
it; a selected annotation's points can be dragged with any tool; Delete removes it. A click of
an annotation tool that does not drag selects what is under it instead of drawing.

ROI statistics touch only the ROI's box (numpy slicing), a few ms even on 3000 x 3000, and are
cached per annotation, so they run on the GUI thread without a stall.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol, cast

from PySide6.QtCore import QCoreApplication, QLineF, QObject, QPointF, QRectF, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QInputDialog, QLineEdit, QWidget

import viewer.dicom.annotations as model
from viewer.dicom.annotations import Annotation, Kind, Point


class ImageViewLike(Protocol):
    """What the layer uses of :class:`viewer.ui.qt_image_view.QtImageView` (a protocol, not an
    import: the view imports this module, and modules never import each other)."""

    image: Any
    tool: str

    def to_image(self, pos: QPointF) -> tuple[float, float]: ...

    def to_widget(self, x: float, y: float) -> QPointF: ...

    def update(self) -> None: ...

    def width(self) -> int: ...

    def height(self) -> int: ...

    def fontMetrics(self) -> QFontMetrics: ...

    def _shadow_text(self, p: QPainter, at: QPointF, text: str, color: QColor) -> None: ...


TOOLS: tuple[Kind, ...] = model.KINDS
HIT_PX = 6.0  # how near (screen pixels) a click must be to pick an annotation or a point
_MIN_DRAG_PX = 3.0
_DRAFT_PIXELS = 250_000
COLOR = QColor(255, 220, 0)
SELECTED = QColor(0, 230, 255)


def _length_text(length: model.Length) -> str:
    if length.unit == "mm":
        return QCoreApplication.translate("QtAnnotations", "{0:.1f} mm").format(length.value)
    return QCoreApplication.translate("QtAnnotations", "{0:.1f} px").format(length.value)


def _draft_step(p1: Point, p2: Point) -> int:
    """While a ROI is drawn its numbers follow every move from at most ~250,000 sampled pixels
    (about 1 ms); the exact ones are computed once, when the button is released."""
    box = abs(p2[0] - p1[0]) * abs(p2[1] - p1[1])
    return max(1, math.ceil(math.sqrt(box / _DRAFT_PIXELS)))


def _seg_distance(p: QPointF, a: QPointF, b: QPointF) -> float:
    dx, dy = b.x() - a.x(), b.y() - a.y()
    n = dx * dx + dy * dy
    t = 0.0 if n == 0 else max(0.0, min(1.0, ((p.x() - a.x()) * dx + (p.y() - a.y()) * dy) / n))
    return math.hypot(p.x() - a.x() - t * dx, p.y() - a.y() - t * dy)


class QtAnnotationLayer(QObject):
    """Several annotations on the image shown by ``view``; one may be selected."""

    changed = Signal()  # the list changed (added, moved, deleted, replaced)

    def __init__(self, view: QWidget) -> None:
        super().__init__(view)
        self._widget = view
        self.view = cast(ImageViewLike, view)
        self.items: list[Annotation] = []
        self.selected: int | None = None
        self.visible = True  # False: not painted (e.g. an export without annotations)
        self._draft: Annotation | None = None
        self._stage = 0  # angle: 1 = waiting for the second arm; CTR: 1 = the thoracic width
        self._drag: dict[str, Any] | None = None
        self._labels: dict[Annotation, list[str]] = {}
        # the text tool asks for the words here (tests replace it)
        self.ask_text: Callable[[], str | None] = self._ask_text

    # ------------------------------------------------------------------ list
    def set_items(self, items: list[Annotation]) -> None:
        """Replace the annotations (a newly shown image's, from the reading)."""
        self.items = list(items)
        self.selected = None
        self.cancel_draft()
        self.view.update()

    def cancel_draft(self) -> None:
        self._draft = None
        self._stage = 0
        self._drag = None

    def delete_selected(self) -> bool:
        if self.selected is None or not 0 <= self.selected < len(self.items):
            return False
        del self.items[self.selected]
        self.selected = None
        self.changed.emit()
        self.view.update()
        return True

    def retranslate(self) -> None:
        self._labels.clear()
        self.view.update()

    # ------------------------------------------------------------------ numbers
    def label_lines(self, a: Annotation) -> list[str]:
        """What is written beside the annotation (cached per annotation)."""
        cached = self._labels.get(a)
        if cached is None:
            cached = self._compute_label(a)
            if len(self._labels) > 1000:  # moved annotations leave old entries behind
                self._labels.clear()
            self._labels[a] = cached
        return cached

    def _compute_label(self, a: Annotation, *, draft: bool = False) -> list[str]:
        image = self.view.image
        spacing = image.meta.pixel_spacing if image is not None else None
        pts = a.points
        if a.kind == "distance":
            return [_length_text(model.distance(pts[0], pts[1], spacing))]
        if a.kind == "angle":
            deg = model.angle(pts[0], pts[1], pts[2], spacing)
            return (
                []
                if math.isnan(deg)
                else [QCoreApplication.translate("QtAnnotations", "{0:.1f}°").format(deg)]
            )
        if a.kind == "ctr":
            r = model.ctr(pts, spacing)
            ratio = "—" if math.isnan(r.ratio) else f"{r.ratio:.2f}"
            return [
                QCoreApplication.translate("QtAnnotations", "CTR {0}").format(ratio),
                QCoreApplication.translate("QtAnnotations", "cardiac {0} / thoracic {1}").format(
                    _length_text(r.cardiac), _length_text(r.thoracic)
                ),
            ]
        if a.kind in ("rect", "ellipse") and image is not None:
            s = model.roi_stats(
                image.modality,
                a.kind,
                pts[0],
                pts[1],
                spacing=spacing,
                stored=image.stored,
                header=image.header,
                step=_draft_step(pts[0], pts[1]) if draft else 1,
            )
            if s is None:
                return [QCoreApplication.translate("QtAnnotations", "no pixels")]
            area = (
                QCoreApplication.translate("QtAnnotations", "area {0:.1f} mm²")
                if s.area_unit == "mm²"
                else QCoreApplication.translate("QtAnnotations", "area {0:.0f} px²")
            )
            unit = model.modality_unit(image.header, str(image.meta.modality or ""))
            suffix = f" {unit}" if unit else ""  # values in modality units (HU for CT)
            return [
                QCoreApplication.translate("QtAnnotations", "mean {0:.1f}  SD {1:.1f}").format(
                    s.mean, s.sd
                )
                + suffix,
                QCoreApplication.translate("QtAnnotations", "min {0:.1f}  max {1:.1f}").format(
                    s.min, s.max
                )
                + suffix,
                area.format(s.area),
            ]
        if a.kind == "text":
            return [a.text]
        return []

    # ------------------------------------------------------------------ mouse
    def press(self, pos: QPointF) -> bool:
        """A left press at widget ``pos``; True if the layer takes the drag."""
        view = self.view
        if view.image is None:
            return False
        p = view.to_image(pos)
        tool = view.tool
        if self._draft is not None and self._stage == 1:
            self._continue_draft(p)
            return True
        handle = self._handle_at(pos)
        if handle is not None:
            item = self.items[self.selected] if self.selected is not None else None
            self._drag = {"kind": "point", "index": handle, "item": item}
            return True
        if tool in TOOLS:
            kind = tool
            if kind == "text":
                self._add_text(p, pos)
                return True
            self.selected = None
            n = model.POINTS[kind]
            self._draft = Annotation(kind, (p,) * min(n, 3) if kind == "angle" else (p,) * n)
            self._drag = {"kind": "draw", "index": 1, "start_pos": pos}
            view.update()
            return True
        if tool == "pan":
            hit = self.hit(pos)
            self.selected = hit
            view.update()
            if hit is not None:
                self._drag = {"kind": "move", "start": p, "item": self.items[hit]}
                return True
        return False

    def _continue_draft(self, p: Point) -> None:
        draft = self._draft
        assert draft is not None  # noqa: S101 - the caller checked
        if draft.kind == "angle":
            self._draft = draft.with_point(2, p)
            self._drag = {"kind": "draw", "index": 2}
        else:  # CTR: the thoracic width starts here
            self._draft = draft.with_point(2, p).with_point(3, p)
            self._drag = {"kind": "draw", "index": 3}
        self.view.update()

    def move(self, pos: QPointF) -> bool:
        drag = self._drag
        if drag is None:
            return False
        p = self.view.to_image(pos)
        if drag["kind"] == "draw" and self._draft is not None:
            self._draft = self._draft_with(self._draft, drag["index"], p)
        elif drag["kind"] == "move" and self.selected is not None:
            dx, dy = p[0] - drag["start"][0], p[1] - drag["start"][1]
            self.items[self.selected] = drag["item"].moved(dx, dy)
        elif drag["kind"] == "point" and self.selected is not None:
            item = self.items[self.selected]
            self.items[self.selected] = self._draft_with(item, drag["index"], p)
        self.view.update()
        return True

    @staticmethod
    def _draft_with(a: Annotation, index: int, p: Point) -> Annotation:
        if a.kind == "ctr":  # widths are horizontal: both ends of a width share one y
            other = index - 1 if index % 2 else index + 1
            return a.with_point(index, (p[0], a.points[other][1]))
        if a.kind == "angle" and index == 1 and a.points[2] == a.points[1]:
            return a.with_point(1, p).with_point(2, p)  # the vertex follows until the 2nd arm
        return a.with_point(index, p)

    def release(self, pos: QPointF) -> bool:
        drag = self._drag
        if drag is None:
            return False
        self._drag = None
        if drag["kind"] in ("move", "point"):
            if self.selected is not None and self.items[self.selected] != drag["item"]:
                self.changed.emit()  # a click without a move changes nothing
            return True
        draft = self._draft
        if draft is None:
            return True
        if self._stage == 0 and self._too_small(drag.get("start_pos"), pos):
            self.cancel_draft()  # a click, not a drag: select what is under it
            self.selected = self.hit(pos)
            self.view.update()
            return True
        if draft.kind in ("angle", "ctr") and self._stage == 0:
            self._stage = 1  # the second arm / the thoracic width comes next
            self.view.update()
            return True
        self.items.append(draft)
        self.selected = len(self.items) - 1
        self.cancel_draft()
        self.changed.emit()
        self.view.update()
        return True

    @staticmethod
    def _too_small(start: Any, pos: QPointF) -> bool:
        if start is None:
            return False
        return math.hypot(pos.x() - start.x(), pos.y() - start.y()) < _MIN_DRAG_PX

    def _add_text(self, p: Point, pos: QPointF) -> None:
        hit = self.hit(pos)
        if hit is not None:
            self.selected = hit
            self.view.update()
            return
        words = self.ask_text()
        text = model.clean_text(words or "")
        if not text:
            return
        self.items.append(Annotation("text", (p,), text))
        self.selected = len(self.items) - 1
        self.changed.emit()
        self.view.update()

    def _ask_text(self) -> str | None:
        dialog = QInputDialog(self._widget)
        dialog.setObjectName("annotationTextDialog")
        dialog.setWindowTitle(QCoreApplication.translate("QtAnnotations", "Text annotation"))
        dialog.setLabelText(
            QCoreApplication.translate("QtAnnotations", "Text (at most {0} characters):").format(
                model.TEXT_MAX
            )
        )
        dialog.setAccessibleName(dialog.windowTitle())
        dialog.setInputMode(QInputDialog.InputMode.TextInput)
        edit = dialog.findChild(QLineEdit)
        if edit is not None:
            edit.setObjectName("annotationText")
            edit.setAccessibleName(dialog.windowTitle())
            edit.setMaxLength(model.TEXT_MAX)
        ok = dialog.exec() == QInputDialog.DialogCode.Accepted
        text = dialog.textValue()
        dialog.deleteLater()
        return text if ok else None

    # ------------------------------------------------------------------ hit testing
    def _widget_points(self, a: Annotation) -> list[QPointF]:
        return [self.view.to_widget(x, y) for x, y in a.points]

    def _outline(self, a: Annotation) -> list[tuple[QPointF, QPointF]]:
        w = self._widget_points(a)
        if a.kind in ("distance", "arrow"):
            return [(w[0], w[1])]
        if a.kind == "angle":
            return [(w[0], w[1]), (w[1], w[2])]
        if a.kind == "ctr":
            return [(w[0], w[1]), (w[2], w[3])]
        if a.kind in ("rect", "ellipse"):
            poly = self._shape_points(a)
            return [(poly[i], poly[(i + 1) % len(poly)]) for i in range(len(poly))]
        return []

    def _shape_points(self, a: Annotation) -> list[QPointF]:
        (x1, y1), (x2, y2) = a.points[0], a.points[1]
        if a.kind == "rect":
            corners = [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]
        else:
            cx, cy, rx, ry = (x1 + x2) / 2, (y1 + y2) / 2, abs(x2 - x1) / 2, abs(y2 - y1) / 2
            corners = [
                (cx + rx * math.cos(t), cy + ry * math.sin(t))
                for t in (2 * math.pi * i / 48 for i in range(48))
            ]
        return [self.view.to_widget(x, y) for x, y in corners]

    def hit(self, pos: QPointF) -> int | None:
        """The topmost annotation within HIT_PX of ``pos`` (its outline or its points)."""
        for i in range(len(self.items) - 1, -1, -1):
            a = self.items[i]
            if any(
                math.hypot(pos.x() - q.x(), pos.y() - q.y()) <= HIT_PX * 1.5
                for q in self._widget_points(a)
            ):
                return i
            if any(_seg_distance(pos, s, e) <= HIT_PX for s, e in self._outline(a)):
                return i
            if a.kind == "text" and self._text_rect(a).contains(pos):
                return i
        return None

    def _handle_at(self, pos: QPointF) -> int | None:
        if self.selected is None or not 0 <= self.selected < len(self.items):
            return None
        a = self.items[self.selected]
        if a.kind == "text":
            return None
        for j, q in enumerate(self._widget_points(a)):
            if math.hypot(pos.x() - q.x(), pos.y() - q.y()) <= HIT_PX:
                return j
        return None

    def _text_rect(self, a: Annotation) -> QRectF:
        fm = self.view.fontMetrics()
        at = self.view.to_widget(*a.points[0])
        return QRectF(at.x(), at.y() - fm.ascent(), fm.horizontalAdvance(a.text), fm.height())

    # ------------------------------------------------------------------ painting
    def paint(self, p: QPainter) -> None:
        """Paint every annotation (and the one being drawn) in widget coordinates."""
        if not self.visible:
            return
        for i, a in enumerate(self.items):
            self._paint_one(p, a, SELECTED if i == self.selected else COLOR, i == self.selected)
        if self._draft is not None:
            self._paint_one(p, self._draft, COLOR, False)

    def _pen(self, p: QPainter, color: QColor) -> None:
        pen = QPen(color)
        pen.setCosmetic(True)
        pen.setWidthF(2.0)
        p.setPen(pen)

    def _paint_one(self, p: QPainter, a: Annotation, color: QColor, selected: bool) -> None:
        w = self._widget_points(a)
        self._pen(p, color)
        if a.kind in ("distance", "arrow"):
            p.drawLine(QLineF(w[0], w[1]))
        if a.kind == "arrow":
            self._arrow_head(p, w[0], w[1])
        elif a.kind == "angle":
            p.drawPolyline(QPolygonF(w))
        elif a.kind == "ctr":
            p.drawLine(QLineF(w[0], w[1]))
            p.drawLine(QLineF(w[2], w[3]))
            for q in w:  # end ticks
                p.drawLine(QLineF(q + QPointF(0, -5), q + QPointF(0, 5)))
        elif a.kind in ("rect", "ellipse"):
            p.drawPolygon(QPolygonF(self._shape_points(a)))
        if selected:
            for q in w if a.kind != "text" else []:
                p.fillRect(QRectF(q.x() - 3, q.y() - 3, 7, 7), color)
        lines = self._compute_label(a, draft=True) if a is self._draft else self.label_lines(a)
        if not lines:
            return
        fm = p.fontMetrics()
        if a.kind == "text":
            at = w[0]
        elif a.kind == "angle":
            at = self._outside_vertex(w, fm.horizontalAdvance(lines[0]), fm.ascent())
        else:
            # right of the shape's rightmost point on screen, so it follows rotation and flip
            right = max(w, key=lambda q: q.x())
            top = min(q.y() for q in w)
            at = QPointF(right.x() + 8, top + fm.ascent())
        # kept inside the view: a shape near the edge has its numbers beside it, never cut
        wide = max(fm.horizontalAdvance(line) for line in lines)
        x = max(4.0, min(at.x(), self.view.width() - wide - 4.0))
        bottom = self.view.height() - (len(lines) - 1) * fm.height() - fm.descent() - 2
        at = QPointF(x, max(fm.ascent() + 2.0, min(at.y(), bottom)))
        for k, line in enumerate(lines):
            self.view._shadow_text(p, at + QPointF(0, k * fm.height()), line, color)

    @staticmethod
    def _outside_vertex(w: list[QPointF], wide: int, ascent: int) -> QPointF:
        """Where an angle's number goes: beside the vertex, away from both arms."""
        bx = by = 0.0
        for q in (w[0], w[2]):
            dx, dy = q.x() - w[1].x(), q.y() - w[1].y()
            n = math.hypot(dx, dy) or 1.0
            bx, by = bx + dx / n, by + dy / n
        n = math.hypot(bx, by)
        ux, uy = (-bx / n, -by / n) if n > 1e-6 else (1.0, 0.0)
        cx, cy = w[1].x() + ux * (12 + wide / 2), w[1].y() + uy * (12 + ascent / 2)
        return QPointF(cx - wide / 2, cy + ascent / 2)

    @staticmethod
    def _arrow_head(p: QPainter, tail: QPointF, head: QPointF) -> None:
        ang = math.atan2(head.y() - tail.y(), head.x() - tail.x())
        for side in (-1, 1):
            t = ang + math.pi - side * math.radians(25)
            p.drawLine(QLineF(head, head + QPointF(12 * math.cos(t), 12 * math.sin(t))))
