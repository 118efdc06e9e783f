"""Post-processing that manipulated (and real) photos go through when shared: JPEG re-compression and resizing."""
from __future__ import annotations

import cv2
import numpy as np


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """Re-encode an (H, W, 3) uint8 RGB image as JPEG at ``quality`` (1-100) and decode it."""
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must lie in [1, 100], got {quality}")
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def resize(image: np.ndarray, factor: float) -> np.ndarray:
    """Downscale by ``factor`` (area averaging) and scale back to the original size (bilinear)."""
    if not 0 < factor <= 1:
        raise ValueError(f"resize factor must lie in (0, 1], got {factor}")
    height, width = image.shape[:2]
    small = cv2.resize(image, (max(1, round(width * factor)), max(1, round(height * factor))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def random_variant(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """As it is, re-compressed (JPEG q 60-95) or resized (x0.5-0.9 and back), each with probability 1/3."""
    kind = rng.integers(3)
    if kind == 1:
        return jpeg(image, int(rng.integers(60, 96)))
    if kind == 2:
        return resize(image, float(rng.uniform(0.5, 0.9)))
    return image
