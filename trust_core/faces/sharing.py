"""What sharing a photo does to it: JPEG recompression and resizing, as social networks do.

Each condition maps an (H, W, 3) uint8 RGB photo to the shared copy and the scale of its coordinates, so face
boxes found on the original can be carried over (:func:`scaled`).
"""
from __future__ import annotations

import cv2
import numpy as np

from trust_core.faces.align import Face

#: the conditions: as saved, JPEG quality 75, a 0.5× resize, and both (resize, then JPEG q75).
CONDITIONS = ("saved", "jpeg75", "half", "half+jpeg75")


def jpeg(pixels: np.ndarray, quality: int = 75) -> np.ndarray:
    """A JPEG round trip of an RGB photo at ``quality``."""
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def half(pixels: np.ndarray) -> np.ndarray:
    """The photo at half its width and height (area interpolation)."""
    h, w = pixels.shape[:2]
    return cv2.resize(pixels, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)


def shared_copy(pixels: np.ndarray, condition: str) -> tuple[np.ndarray, float]:
    """The photo after ``condition`` (one of :data:`CONDITIONS`) and the scale applied to its coordinates."""
    if condition == "saved":
        return pixels, 1.0
    if condition == "jpeg75":
        return jpeg(pixels), 1.0
    if condition == "half":
        return half(pixels), 0.5
    if condition == "half+jpeg75":
        return jpeg(half(pixels)), 0.5
    raise ValueError(f"unknown condition {condition!r}; choose from {', '.join(CONDITIONS)}")


def scaled(face: Face, scale: float) -> Face:
    """``face`` in a copy of the photo resized by ``scale``."""
    return Face(face.box * scale, face.landmarks * scale, face.score)
