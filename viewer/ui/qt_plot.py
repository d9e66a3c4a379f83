"""A small chart widget drawn with QPainter: the Monitoring window's histograms, p-charts and
category mixes (:class:`viewer.session.monitoring_view.Plot`).

Why QPainter and not a plotting library (issue 15, item 4):

- QtCharts is not in PySide6-Essentials, which is what we ship; it is in PySide6-Addons (about
  100 MB more in the frozen app) and Qt licenses it under the GPL or a commercial licence, not
  the LGPL the rest of the Qt we redistribute is under.
- pyqtgraph 0.14.0 (MIT, pure Python) would do: its wheel is 1.9 MB and 5 MB unpacked (examples,
  icons, colour maps, OpenGL and flowchart modules we would not use), one more dependency to pin,
  audit and prove in the PyInstaller build, for three static chart shapes.
- The charts here are static (no zoom, no live data): grouped bars (reference vs window share)
  and lines (a rate per window with its centre line and 3-sigma limits). About 200 lines of
  QPainter draw them with the fonts, colours and translations the rest of the window uses, and
  add nothing to the frozen app (0 MB; no new licence).

The widget draws what it is given and knows no statistics; the window passes the translated
title, legend and axis texts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from viewer.session.monitoring_view import Plot
from viewer.ui.plain_text import plain_tooltip

__all__ = ["QtPlot"]

COLOURS: dict[str, QColor] = {
    "reference": QColor("#9e9e9e"),
    "window": QColor("#1f6fb2"),
    "rate": QColor("#1f6fb2"),
    "center": QColor("#616161"),
    "upper": QColor("#c62828"),
    "lower": QColor("#c62828"),
}
ALERT = QColor("#b00020")


def _nice_step(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above ``value`` (a tick step)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * power * (1 + 1e-9):
            return step * power
    return 10.0 * power


def _ticks(highest: float) -> list[float]:
    """Round ticks (percent) from 0 past ``highest`` plus a margin, at most 100 % when the data
    stays within it: 3 to 5 steps of 1, 2, 2.5 or 5 x 10^k."""
    top = max(highest, 0.0) * 1.08 or 1.0
    if highest <= 100.0 < top:
        top = 100.0
    step = _nice_step(top / 4)
    return [step * k for k in range(math.ceil(top / step - 1e-9) + 1)]


def _tick_text(value: float) -> str:
    return f"{value:.6g} %"


class QtPlot(QWidget):
    """One chart: bars or lines (module doc). ``plot()`` is the data it draws."""

    def __init__(self, plot: Plot, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._plot = plot
        self._title = plot.wording
        self._legend: dict[str, str] = {}
        self._empty_text = ""
        self.setObjectName(f"plot:{plot.key}")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumSize(320, 210)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)

    def plot(self) -> Plot:
        return self._plot

    def set_texts(self, title: str, legend: Mapping[str, str], empty: str) -> None:
        """The translated title, the legend per series role, and the text for no data."""
        self._title, self._legend, self._empty_text = title, dict(legend), empty
        self.setAccessibleName(title)
        self.setToolTip(plain_tooltip(title))
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(440, 210)

    # -- geometry -----------------------------------------------------------------------------
    def _ticks(self) -> list[float]:
        values = [v for s in self._plot.series for v in s.values if v is not None]
        return _ticks(max(values, default=0.0))

    def _area(self, fm: QFontMetrics) -> QRectF:
        left = max(fm.horizontalAdvance(_tick_text(t)) for t in self._ticks()) + 12
        top = fm.height() * 2 + 8
        bottom = fm.height() + 10
        return QRectF(
            left, top, max(10.0, self.width() - left - 10), max(10.0, self.height() - top - bottom)
        )

    # -- painting -----------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.fillRect(self.rect(), self.palette().base())
        font = QFont(self.font())
        fm = QFontMetrics(font)
        area = self._area(fm)
        self._draw_title(painter, fm)
        if not self._plot.has_data:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, self._empty_text)
            painter.end()
            return
        ticks = self._ticks()
        top = ticks[-1]
        self._draw_axes(painter, fm, area, ticks)
        if self._plot.style == "bars":
            self._draw_bars(painter, area, top)
        else:
            self._draw_lines(painter, area, top)
        self._draw_x_labels(painter, fm, area)
        painter.end()

    def _draw_title(self, painter: QPainter, fm: QFontMetrics) -> None:
        bold = QFont(self.font())
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(ALERT if self._plot.alert else self.palette().text().color())
        title = ("⚠ " if self._plot.alert else "") + self._title
        bfm = QFontMetrics(bold)
        painter.drawText(
            QPointF(6, bfm.ascent() + 3),
            bfm.elidedText(title, Qt.TextElideMode.ElideRight, self.width() - 12),
        )
        painter.setFont(self.font())
        # legend: one line under the title, right-aligned
        x = float(self.width() - 8)
        y = bfm.height() + 6
        for role in reversed([s.role for s in self._plot.series if s.role in self._legend]):
            text = self._legend[role]
            x -= fm.horizontalAdvance(text)
            painter.setPen(self.palette().text().color())
            painter.drawText(QPointF(x, y + fm.ascent()), text)
            x -= 16
            colour = COLOURS.get(role, QColor("black"))
            mid = y + fm.height() / 2
            if self._plot.style == "bars":
                painter.fillRect(QRectF(x, mid - 5, 11, 10), colour)
            else:
                pen = QPen(colour, 2)
                if role in ("upper", "lower"):
                    pen.setStyle(Qt.PenStyle.DashLine)
                painter.setPen(pen)
                painter.drawLine(QPointF(x, mid), QPointF(x + 12, mid))
            x -= 10

    def _y(self, area: QRectF, top: float, value: float) -> float:
        return area.bottom() - area.height() * min(value, top) / top

    def _draw_axes(
        self, painter: QPainter, fm: QFontMetrics, area: QRectF, ticks: list[float]
    ) -> None:
        grid = QPen(QColor("#e0e0e0"), 1)
        for value in ticks:
            y = self._y(area, ticks[-1], value)
            painter.setPen(grid)
            painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            painter.setPen(self.palette().text().color())
            painter.drawText(
                QRectF(0, y - fm.height() / 2, area.left() - 5, fm.height()),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                _tick_text(value),
            )
        painter.setPen(QPen(self.palette().text().color(), 1))
        painter.drawLine(area.bottomLeft(), area.bottomRight())

    def _slot(self, area: QRectF) -> float:
        return area.width() / max(1, len(self._plot.x_labels))

    def _draw_bars(self, painter: QPainter, area: QRectF, top: float) -> None:
        series = [s for s in self._plot.series if s.role in ("reference", "window")]
        slot = self._slot(area)
        bar = max(1.0, (slot * 0.8) / max(1, len(series)))
        for j, s in enumerate(series):
            colour = COLOURS[s.role]
            for i, value in enumerate(s.values):
                if value is None or value <= 0:
                    continue
                x = area.left() + i * slot + slot * 0.1 + j * bar
                y = self._y(area, top, value)
                painter.fillRect(QRectF(x, y, bar, area.bottom() - y), colour)

    def _draw_lines(self, painter: QPainter, area: QRectF, top: float) -> None:
        slot = self._slot(area)

        def x_of(i: int) -> float:
            return area.left() + (i + 0.5) * slot

        for s in self._plot.series:
            pen = QPen(COLOURS.get(s.role, QColor("black")), 2.0 if s.role == "rate" else 1.3)
            if s.role in ("upper", "lower"):
                pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            path = QPainterPath()
            started = False
            for i, value in enumerate(s.values):
                if value is None:
                    started = False
                    continue
                point = QPointF(x_of(i), self._y(area, top, value))
                if started:
                    path.lineTo(point)
                else:
                    path.moveTo(point)
                    started = True
            painter.drawPath(path)
        rates = self._plot.values("rate")
        for i, value in enumerate(rates):
            if value is None:
                continue
            out = i < len(self._plot.out) and self._plot.out[i]
            colour = ALERT if out else COLOURS["rate"]
            painter.setPen(QPen(colour, 1))
            painter.setBrush(colour)
            radius = 4.5 if out else 3.0
            painter.drawEllipse(QPointF(x_of(i), self._y(area, top, value)), radius, radius)
        painter.setBrush(Qt.BrushStyle.NoBrush)

    def _draw_x_labels(self, painter: QPainter, fm: QFontMetrics, area: QRectF) -> None:
        labels: Sequence[str] = self._plot.x_labels
        if not labels:
            return
        slot = self._slot(area)
        widest = max(fm.horizontalAdvance(t) for t in labels) + 8
        step = max(1, math.ceil(widest / slot))
        painter.setPen(self.palette().text().color())
        for i in range(0, len(labels), step):
            width = slot * step
            centre = area.left() + (i + 0.5) * slot
            rect = QRectF(centre - width / 2, area.bottom() + 3, width, fm.height())
            text = fm.elidedText(labels[i], Qt.TextElideMode.ElideRight, int(width))
            painter.drawText(
                rect, int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop), text
            )
