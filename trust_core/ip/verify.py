"""Ownership decisions shared by the watermarks: a one-sided binomial test against the chance agreement rate."""
from __future__ import annotations

from dataclasses import dataclass

from scipy.stats import binom


@dataclass(frozen=True)
class Verification:
    """``matches`` of ``total`` secret items reproduced; ``verified`` when ``p_value`` (chance would do as well) < alpha."""

    matches: int
    total: int
    chance: float
    p_value: float
    verified: bool

    @property
    def rate(self) -> float:
        return self.matches / self.total


def binomial_verification(matches: int, total: int, *, chance: float, alpha: float = 1e-4) -> Verification:
    """Claim ownership when ``matches`` successes out of ``total`` are unlikely (p < ``alpha``) at rate ``chance``."""
    if total < 1 or not 0 <= matches <= total:
        raise ValueError(f"need 0 <= matches <= total and total >= 1, got {matches} of {total}")
    if not 0 < chance < 1 or not 0 < alpha < 1:
        raise ValueError(f"chance and alpha must lie in (0, 1), got {chance}, {alpha}")
    p_value = float(binom.sf(matches - 1, total, chance))
    return Verification(matches, total, chance, p_value, p_value < alpha)
