"""Texture masking: the filter is scaled down where the face is smooth, where added noise shows most.

Luo et al., "Towards Imperceptible and Robust Adversarial Example Attacks against Neural Networks", AAAI 2018:
a change is less visible where the image varies more, so each pixel's share of the budget follows the local
standard deviation. The mask needs the photo, so it is applied on the device, after the enhancer: the wire and
the service are unchanged. At the same L∞ it costs protection; at the same SSIM it buys protection (README).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: side of the box window the local standard deviation is taken over (SSIM's own window is 7 px).
WINDOW = 7
#: local standard deviation (of luminance in [0, 1]) at and above which a pixel gets the whole budget.
TEXTURE = 0.04
#: the share of the budget the smoothest regions keep.
FLOOR = 0.2


@dataclass(frozen=True)
class Strength:
    """A strength preset: the filter's L∞ budget (pixel units in [0, 1]) under the texture mask (the default) and
    without it, paired so that both look about alike (measured SSIM and protection per preset in the README)."""

    masked: float
    uniform: float

    def eps(self, *, masking: bool) -> float:
        return self.masked if masking else self.uniform


STRENGTHS = {"low": Strength(masked=6 / 255, uniform=4 / 255), "mid": Strength(masked=12 / 255, uniform=8 / 255),
             "high": Strength(masked=16 / 255, uniform=12 / 255)}


def texture_mask(crops: np.ndarray, *, window: int = WINDOW, texture: float = TEXTURE,
                 floor: float = FLOOR) -> np.ndarray:
    """(N, 1, S, S) weights in [``floor``, 1] for (N, 3, S, S) crops in [0, 1]: local std of luminance / ``texture``."""
    crops = np.asarray(crops, dtype=np.float32)
    if crops.ndim != 4 or crops.shape[1] != 3:
        raise ValueError(f"expected (N, 3, H, W) crops, got shape {crops.shape}")
    if not (texture > 0 and 0 <= floor <= 1 and window >= 1):
        raise ValueError(f"need texture > 0, 0 <= floor <= 1 and window >= 1, got {texture}, {floor}, {window}")
    masks = []
    for crop in crops:
        luminance = crop.mean(axis=0)
        mean = cv2.blur(luminance, (window, window))
        std = np.sqrt(np.maximum(cv2.blur(luminance * luminance, (window, window)) - mean * mean, 0))
        masks.append(np.clip(std / texture, floor, 1))
    return np.stack(masks)[:, None] if masks else np.zeros((0, 1, *crops.shape[2:]), np.float32)
