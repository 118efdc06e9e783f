"""The enhancer object: signal batch in, filter batch out. The same code runs embedded and behind ``apf serve``."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import torch

from cloud_enhancer.model import CROP, APFFilter
from edge_probe import wire

#: the largest budget the enhancer accepts (L∞, pixel units in [0, 1]).
MAX_EPS = 16 / 255
WEIGHTS_NAME = "apf_filter"


class Enhancer:
    """Turns probe signals into filters s = clip(T(g) + α·û, −eps, eps). Thread-safe; CPU or GPU."""

    def __init__(self, filt: APFFilter, *, device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self.filter = filt.to(self.device).eval()
        self._lock = threading.Lock()

    @classmethod
    def load(cls, *, device: str | torch.device | None = None, weights: Path | None = None) -> Enhancer:
        """The shipped enhancer (``apf train enhancer``), or the ``weights`` an experiment wrote (``apf train enhancer
        --out DIR``); on the GPU when one is present."""
        from trust_core.models.registry import weights_path

        filt = APFFilter()
        filt.load_state_dict(torch.load(weights or weights_path(WEIGHTS_NAME), map_location="cpu", weights_only=True))
        return cls(filt, device=device or ("cuda" if torch.cuda.is_available() else "cpu"))

    def filters(self, signals: np.ndarray, eps: np.ndarray) -> np.ndarray:
        """``signals`` float32 (N, 3, 112, 112) within ±eps, ``eps`` (N,) -> filters float32 (N, 3, 112, 112)."""
        signals = np.asarray(signals, dtype=np.float32)
        eps = np.asarray(eps, dtype=np.float32).reshape(-1)
        if signals.ndim != 4 or signals.shape[1:] != (3, CROP, CROP):
            raise ValueError(f"signals must have shape (N, 3, {CROP}, {CROP}), got {signals.shape}")
        if eps.shape != (signals.shape[0],):
            raise ValueError(f"need one eps per signal: {signals.shape[0]} signals, {eps.shape[0]} eps")
        if not (np.isfinite(signals).all() and np.isfinite(eps).all()):
            raise ValueError("signals or eps contain NaN or inf")
        if (eps <= 0).any() or (eps > MAX_EPS + 1e-6).any():
            raise ValueError(f"eps must lie in (0, {MAX_EPS:.4f}]")
        if (np.abs(signals) > eps.reshape(-1, 1, 1, 1) * (1 + 1e-3) + 1e-6).any():
            raise ValueError("a signal exceeds its eps")
        with self._lock, torch.inference_mode():
            g = torch.from_numpy(signals).to(self.device)
            e = torch.from_numpy(eps).to(self.device)
            return self.filter(g, e).float().cpu().numpy()

    def enhance(self, signal: bytes) -> bytes:
        """Wire in, wire out (``edge_probe/WIRE.md``): the in-process twin of ``POST /v1/filter``.

        Raises :class:`~edge_probe.wire.WireFormatError` for a malformed message and ``ValueError`` for a signal
        the enhancer cannot take (shape, eps), as the service answers 400 and 422.
        """
        message = wire.decode(signal, kind="signal")
        check_shape(message.values)
        filters = self.filters(message.values, np.full(len(message.values), message.eps, np.float32))
        return encode_filter(filters, message.eps)


def check_shape(values: np.ndarray) -> None:
    """A signal's values must be (N, 3, 112, 112): the probe's crops."""
    if values.shape[1:] != (3, CROP, CROP):
        raise ValueError(f"signal must be (N, 3, {CROP}, {CROP}), got {values.shape}")


def encode_filter(filters: np.ndarray, eps: float) -> bytes:
    """The filter message the enhancer answers."""
    return wire.encode(filters, kind="filter", eps=eps, encoding="int8-deflate")
