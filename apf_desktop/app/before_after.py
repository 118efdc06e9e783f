"""The before/after view: the original and the protected photo under a draggable split, with zoom and pan."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QWheelEvent
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from apf_desktop.app.imaging import draw_boxes

MODES = ("before", "split", "after")
ZOOM_RANGE = (0.25, 32.0)
_GRAB = 8  # px either side of the split line that start a split drag


class BeforeAfterView(QWidget):
    """Draws ``before`` left of the split line and ``after`` right of it (or either alone).

    Zoom is relative to fitting the photo in the view; the wheel zooms about the cursor, dragging pans,
    dragging the split line moves it.
    """

    zoomChanged = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.before: QImage | None = None
        self.after: QImage | None = None
        self.boxes: list[tuple[np.ndarray, str | None]] = []
        self.mode = "split"
        self.split = 0.5
        self.zoom = 1.0
        self._center = QPointF()
        self._drag: tuple[str, QPointF] | None = None
        self.setMinimumSize(360, 280)
        self.setMouseTracking(True)

    def set_photo(self, before: QImage | None, after: QImage | None = None,
                  boxes: Sequence[tuple[np.ndarray, str | None]] = (), *, keep_view: bool = False) -> None:
        """Show a photo; ``keep_view`` keeps zoom and pan (the same photo, now protected)."""
        self.before, self.after, self.boxes = before, after, list(boxes)
        if not keep_view or before is None:
            self.fit()
        self.update()

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.mode = mode
        self.update()

    def fit(self) -> None:
        self._center = QPointF(self.before.width() / 2, self.before.height() / 2) if self.before else QPointF()
        self._set_zoom(1.0)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Multiply the zoom, keeping the photo point under ``anchor`` (default: the view centre) in place."""
        if self.before is None:
            return
        anchor = anchor if anchor is not None else self._view_center()
        point = self.to_image(anchor)
        self._set_zoom(self.zoom * factor)
        self._center = point - (anchor - self._view_center()) / self._scale()
        self.update()

    def actual_size(self) -> None:
        """One photo pixel per screen pixel."""
        if self.before is not None:
            self._set_zoom(1.0 / self._fit_scale())
            self.update()

    def to_image(self, pos: QPointF) -> QPointF:
        """View coordinates -> photo pixel coordinates."""
        return self._center + (pos - self._view_center()) / self._scale()

    def _set_zoom(self, zoom: float) -> None:
        self.zoom = min(max(zoom, ZOOM_RANGE[0]), ZOOM_RANGE[1])
        self.zoomChanged.emit(self.zoom * self._fit_scale() if self.before else 1.0)

    def _view_center(self) -> QPointF:
        return QPointF(self.width() / 2, self.height() / 2)

    def _fit_scale(self) -> float:
        if self.before is None:
            return 1.0
        return min(self.width() / self.before.width(), self.height() / self.before.height())

    def _scale(self) -> float:
        return self._fit_scale() * self.zoom

    def _photo_rect(self) -> QRectF:
        scale = self._scale()
        top_left = self._view_center() - self._center * scale
        return QRectF(top_left.x(), top_left.y(), self.before.width() * scale, self.before.height() * scale)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#202124"))
        if self.before is None:
            painter.setPen(QColor("#9aa0a6"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Add photos (button, folder, or drag and drop)")
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.zoom * self._fit_scale() < 2)
        target = self._photo_rect()
        shown = self.after if self.mode == "after" and self.after is not None else self.before
        split_x = self.split * self.width()
        if self.mode == "split" and self.after is not None:
            painter.setClipRect(QRectF(0, 0, split_x, self.height()))
            painter.drawImage(target, self.before)
            painter.setClipRect(QRectF(split_x, 0, self.width() - split_x, self.height()))
            painter.drawImage(target, self.after)
            painter.setClipping(False)
        else:
            painter.drawImage(target, shown)
        painter.save()
        painter.translate(target.topLeft())
        draw_boxes(painter, self.boxes, scale=self._scale())
        painter.restore()
        if self.mode == "split" and self.after is not None:
            self._paint_split(painter, split_x)

    def _paint_split(self, painter: QPainter, x: float) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("white"), 2))
        painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        painter.setBrush(QColor("white"))
        painter.drawEllipse(QPointF(x, self.height() / 2), 7, 7)
        for text, left in (("Before", True), ("After", False)):
            rect = QRectF(x - 90 if left else x + 10, 8, 80, 22)
            painter.fillRect(rect, QColor(0, 0, 0, 150))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        pos = event.position()
        on_line = self.mode == "split" and self.after is not None and abs(pos.x() - self.split * self.width()) <= _GRAB
        self._drag = ("split" if on_line else "pan", pos)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        pos = event.position()
        near = self.mode == "split" and self.after is not None and abs(pos.x() - self.split * self.width()) <= _GRAB
        self.setCursor(Qt.CursorShape.SplitHCursor if near or (self._drag and self._drag[0] == "split") else Qt.CursorShape.ArrowCursor)
        if self._drag is None or self.before is None:
            return
        kind, last = self._drag
        if kind == "split":
            self.split = min(max(pos.x() / max(self.width(), 1), 0.0), 1.0)
        else:
            self._center -= (pos - last) / self._scale()
        self._drag = (kind, pos)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        self._drag = None

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        self.zoom_by(1.25 ** (event.angleDelta().y() / 120), event.position())


class BeforeAfter(QWidget):
    """The view with its controls: Before / Split / After, zoom out, fit, 100 %, zoom in."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = BeforeAfterView(self)
        bar = QHBoxLayout()
        self.modes = QButtonGroup(self)
        for mode in MODES:
            button = QPushButton(mode.capitalize())
            button.setCheckable(True)
            button.setChecked(mode == self.view.mode)
            button.setObjectName(f"mode-{mode}")
            button.clicked.connect(lambda _=False, m=mode: self.view.set_mode(m))
            self.modes.addButton(button)
            bar.addWidget(button)
        bar.addStretch(1)
        for label, slot in (("−", lambda: self.view.zoom_by(1 / 1.25)), ("Fit", self.view.fit),
                            ("100%", self.view.actual_size), ("+", lambda: self.view.zoom_by(1.25))):
            button = QPushButton(label)
            button.setObjectName(f"zoom-{label}")
            button.setMaximumWidth(56)
            button.clicked.connect(slot)
            bar.addWidget(button)
        self.zoom_label = QLabel("100%")
        self.zoom_label.setMinimumWidth(48)
        self.view.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f}%"))
        bar.addWidget(self.zoom_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
