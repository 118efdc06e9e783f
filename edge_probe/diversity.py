"""DI²-FGSM's resize-and-pad as two constant matrices (numpy only; shared by the torch path and the runtime).

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
    scale = np.float32(outer) / np.float32(size)
    src = np.maximum(scale * (np.arange(size, dtype=np.float32) + np.float32(0.5)) - np.float32(0.5), np.float32(0))
    low = np.floor(src).astype(int)
    high = low + (low < outer - 1)
    weight = (src - low).astype(np.float32)
    back = np.zeros((size, outer), np.float32)
    np.add.at(back, (np.arange(size), low), 1 - weight)
    np.add.at(back, (np.arange(size), high), weight)
    return back @ padded
