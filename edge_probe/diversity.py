"""Resizes as constant matrices (numpy only; shared by the torch path and the runtime): DI²-FGSM's resize-and-pad,
and the bilinear resize inside the trunk probe.

For a draw (inner, outer, top, left), ``rows @ x @ colsᵀ`` equals
:func:`trust_core.attacks.diversity.input_diversity`: nearest-resize to ``inner``, zero-pad to ``outer`` at
(top, left), bilinear-resize back (PyTorch's ``nearest`` and ``bilinear``, ``align_corners=False``, indexing).
"""
from __future__ import annotations

import numpy as np


def diversity_matrix(size: int, inner: int, outer: int, offset: int) -> np.ndarray:
    """The (size, size) 1-D factor: nearest ``size -> inner``, pad to ``outer`` at ``offset``, bilinear back."""
    if not 0 < size <= inner < outer or not 0 <= offset <= outer - inner:
        raise ValueError(f"bad resize-and-pad draw: size {size}, inner {inner}, outer {outer}, offset {offset}")
    nearest = np.zeros((inner, size), np.float32)
    scale = np.float32(size) / np.float32(inner)
    nearest[np.arange(inner), np.minimum(np.floor(np.arange(inner, dtype=np.float32) * scale).astype(int), size - 1)] = 1
    padded = np.zeros((outer, size), np.float32)
    padded[offset:offset + inner] = nearest
    return bilinear_matrix(outer, size) @ padded


def bilinear_matrix(source: int, target: int) -> np.ndarray:
    """The (target, source) 1-D factor of a bilinear resize (``align_corners=False``, no antialiasing):
    ``m_rows @ x @ m_colsᵀ`` resizes a (source, source) map to (target, target) as ``F.interpolate`` does."""
    scale = np.float32(source) / np.float32(target)
    src = np.maximum(scale * (np.arange(target, dtype=np.float32) + np.float32(0.5)) - np.float32(0.5), np.float32(0))
    low = np.minimum(np.floor(src).astype(int), source - 1)
    high = low + (low < source - 1)
    weight = (src - low).astype(np.float32)
    out = np.zeros((target, source), np.float32)
    np.add.at(out, (np.arange(target), low), 1 - weight)
    np.add.at(out, (np.arange(target), high), weight)
    return out
