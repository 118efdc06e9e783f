"""Photos as QImages (safe to build off the UI thread), face outlines and verdict colours."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QImageReader, QPainter, QPen

#: verdict -> colour; ``None`` is a detected face that has not been checked yet.
VERDICT_COLORS: dict[str | None, str] = {"protected": "#2e7d32", "weak": "#ef8f00", "not protected": "#c62828", None: "#1e88e5"}
_SEVERITY = ("protected", "weak", "not protected")
THUMB = 160


def worst(verdicts: Iterable[str | None]) -> str | None:
    """The least protected verdict of a photo's faces (``None`` when none was checked)."""
    known = [v for v in verdicts if v in _SEVERITY]
    return max(known, key=_SEVERITY.index) if known else None


def load_qimage(path: Path) -> QImage:
    """The photo upright (EXIF orientation applied, as the pipeline reads it); formats Qt cannot read (HEIC, AVIF)
    are read as the pipeline reads them; ValueError if unreadable."""
    from trust_core.faces.io import FaceImageError, load_image

    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    image = reader.read()
    if not image.isNull():
        return image
    try:
        pixels = load_image(path)
    except FaceImageError:
        raise ValueError(f"{path.name}: {reader.errorString()}") from None
    height, width = pixels.shape[:2]
    return QImage(pixels.data, width, height, pixels.strides[0], QImage.Format.Format_RGB888).copy()


def box_rect(box: Sequence[float] | np.ndarray, scale: float = 1.0) -> QRectF:
    x0, y0, x1, y1 = (float(v) * scale for v in box)
    return QRectF(x0, y0, x1 - x0, y1 - y0)


def draw_boxes(painter: QPainter, boxes: Sequence[tuple[np.ndarray, str | None]], *, scale: float = 1.0,
               width: float = 2.0) -> None:
    """Outline each face box in its verdict colour (``scale``: photo px -> painter px)."""
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for box, verdict in boxes:
        pen = QPen(QColor(VERDICT_COLORS[verdict]), width)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.drawRect(box_rect(box, scale))


def placeholder(text: str, size: int = THUMB) -> QImage:
    """A grey ``size``-px tile with ``text`` (for a photo that cannot be read)."""
    tile = QImage(size, size * 3 // 4, QImage.Format.Format_RGB32)
    tile.fill(QColor("#e8eaed"))
    painter = QPainter(tile)
    painter.setPen(QColor(VERDICT_COLORS["not protected"]))
    font = painter.font()
    font.setPointSize(28)
    painter.setFont(font)
    painter.drawText(tile.rect(), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return tile


def thumbnail(image: QImage, boxes: Sequence[tuple[np.ndarray, str | None]], size: int = THUMB) -> QImage:
    """A ``size``-px thumbnail of ``image`` with the faces outlined."""
    thumb = image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    thumb = thumb.convertToFormat(QImage.Format.Format_RGB32)
    painter = QPainter(thumb)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    draw_boxes(painter, boxes, scale=thumb.width() / image.width())
    painter.end()
    return thumb
