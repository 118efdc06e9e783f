"""The face geometry device and cloud share (numpy + OpenCV only).

APF works on the standard recognizer's crop: the MTCNN box plus margin, resized to 160 px (FaceNet's own
preprocessing, :func:`trust_core.faces.align.box_transform`). The probe sees that crop at 112 px
(:func:`probe_view`); the filter comes back at 112 px and is resized to the crop (:func:`filter_to_crop`)
and added to it (:func:`apply_filter`), optionally under a texture mask (:mod:`edge_probe.masking`), before it is
pasted into the photo with the crop's inverse warp.
"""
from __future__ import annotations

import cv2
import numpy as np

#: side of the probe's input, and of the crop the filter is applied to (the standard recognizer's input).
INPUT_SIZE = 112
CROP_SIZE = 160


def _resize(batch: np.ndarray, size: int, interpolation: int) -> np.ndarray:
    batch = np.asarray(batch, dtype=np.float32)
    if batch.ndim != 4 or batch.shape[1] != 3:
        raise ValueError(f"expected (N, 3, H, W) images, got shape {batch.shape}")
    return np.stack([cv2.resize(np.ascontiguousarray(a.transpose(1, 2, 0)), (size, size), interpolation=interpolation)
                     .transpose(2, 0, 1) for a in batch]) if len(batch) else np.zeros((0, 3, size, size), np.float32)


def probe_view(crops: np.ndarray) -> np.ndarray:
    """The probe's (N, 3, 112, 112) view of (N, 3, S, S) crops in [0, 1] (area interpolation)."""
    return _resize(crops, INPUT_SIZE, cv2.INTER_AREA)


def filter_to_crop(filters: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """(N, 3, 112, 112) filters resized (bilinear) to the (N, 3, size, size) crop they are added to."""
    return _resize(filters, size, cv2.INTER_LINEAR)


def gray_filter(filters: np.ndarray, eps: float) -> np.ndarray:
    """The filter for a grayscale photo: (N, 3, H, W) ``filters`` projected onto gray (the channels' sum, which is
    the gradient's gray direction for a sign-like filter) and clipped to ``eps``, the same in every channel."""
    filters = np.asarray(filters, dtype=np.float32)
    if filters.ndim != 4 or filters.shape[1] != 3:
        raise ValueError(f"expected (N, 3, H, W) filters, got shape {filters.shape}")
    return np.repeat(np.clip(filters.sum(1, keepdims=True), -eps, eps), 3, axis=1)


def apply_filter(crops: np.ndarray, filters: np.ndarray, *, masking: bool = False) -> np.ndarray:
    """The protected crops clip(x + m·s, 0, 1): (N, 3, 112, 112) ``filters`` resized to the (N, 3, S, S) ``crops``;
    m = 1, or with ``masking`` the crops' texture mask (:func:`edge_probe.masking.texture_mask`)."""
    crops = np.asarray(crops, dtype=np.float32)
    filters = filter_to_crop(filters, crops.shape[-1])
    if masking:
        from edge_probe.masking import texture_mask

        filters = filters * texture_mask(crops)
    return np.clip(crops + filters, 0, 1)
