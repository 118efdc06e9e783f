"""Randomised response on the signal, on the device, before it is sent: a counter-measure to what the payload
reveals of the face (:mod:`edge_probe.leakage`).

Each element of the signal is, independently with probability ``rate``, replaced by a fresh uniform draw from the
signal's own range — ±eps for an FGSM sign map, [−eps, eps] for a multi-step perturbation — so the cloud cannot tell
which elements are the photo's (randomised response, Warner 1965; local differential privacy, Erlingsson et al.,
RAPPOR, CCS 2014). A replaced sign keeps its value half the time: each sign bit is flipped with probability
``rate / 2`` and is ε-locally private with ε = ln((2 − rate) / rate). That bound is per bit: the 37,632 bits of one
face compose, so the measured reconstruction attack (``apf eval channel --randomize``), not ε, says what a rate buys.

numpy only, like the rest of the device side. The default generator draws from the operating system's entropy, so
the cloud cannot replay the draws.
"""
from __future__ import annotations

import math

import numpy as np

#: methods whose signal is a sign map (±eps); the others send a perturbation anywhere in [−eps, eps].
SIGN_METHODS = frozenset({"fgsm"})


def check_rate(rate: float) -> float:
    """``rate`` as a float in [0, 1), else ``ValueError`` (1 would send pure noise)."""
    rate = float(rate)
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"the randomised-response rate must lie in [0, 1), got {rate}")
    return rate


def bit_epsilon(rate: float) -> float:
    """The local-DP ε of one sign bit sent at ``rate`` (infinite at rate 0: the bit is sent as it is)."""
    rate = check_rate(rate)
    return math.inf if rate == 0 else math.log((2 - rate) / rate)


def randomize(signal: np.ndarray, *, method: str, eps: float, rate: float,
              rng: np.random.Generator | None = None) -> np.ndarray:
    """``signal`` with each element replaced, with probability ``rate``, by a uniform draw from its range (a new
    float32 array; the input is left as it is)."""
    rate = check_rate(rate)
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")
    signal = np.asarray(signal, dtype=np.float32)
    if rate == 0:
        return signal.copy()
    rng = np.random.default_rng() if rng is None else rng
    replaced = rng.random(signal.shape) < rate
    if method in SIGN_METHODS:
        draws = np.where(rng.random(signal.shape) < 0.5, -eps, eps)
    else:
        draws = rng.uniform(-eps, eps, signal.shape)
    return np.where(replaced, draws, signal).astype(np.float32)
