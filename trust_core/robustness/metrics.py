"""Corruption error and mCE (Hendrycks & Dietterich, ICLR 2019).

``CE_c = Σ_s E(model, c, s) / Σ_s E(baseline, c, s)``, ``mCE`` = mean over corruptions; relative CE subtracts the
clean errors first (``Σ_s (E_cs - E_clean)`` over the baseline's), measuring the *drop* under corruption.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from trust_core.models.train_mnist import evaluate
from trust_core.robustness.corruptions import SEVERITIES, corrupt, corruption_names


@dataclass
class CorruptionErrors:
    """Top-1 errors of one model: clean, and per corruption per severity."""

    clean: float
    errors: dict[str, list[float]] = field(default_factory=dict)

    def mean(self, name: str) -> float:
        return sum(self.errors[name]) / len(self.errors[name])


def corruption_errors(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *,
                      names: list[str] | None = None, seed: int = 0) -> CorruptionErrors:
    """Errors of ``model`` on every (corruption, severity) of ``images`` (the same corrupted set for every model)."""
    names = names or list(corruption_names())
    result = CorruptionErrors(clean=1 - evaluate(model, images, labels))
    for name in names:
        result.errors[name] = [1 - evaluate(model, corrupt(images, name, s, seed=seed), labels) for s in SEVERITIES]
    return result


def corruption_error(model: CorruptionErrors, baseline: CorruptionErrors, name: str, *, relative: bool = False) -> float:
    """CE_c of ``model`` relative to ``baseline`` (x 100, as in the paper)."""
    if relative:
        num = sum(e - model.clean for e in model.errors[name])
        den = sum(e - baseline.clean for e in baseline.errors[name])
    else:
        num, den = sum(model.errors[name]), sum(baseline.errors[name])
    if den <= 0:
        raise ValueError(f"the baseline's error sum on {name!r} is {den:.4f}; CE is undefined")
    return 100 * num / den


def mce(model: CorruptionErrors, baseline: CorruptionErrors, *, relative: bool = False) -> float:
    """Mean corruption error over the corruptions both were evaluated on."""
    names = [n for n in model.errors if n in baseline.errors]
    if not names:
        raise ValueError("no corruption in common")
    return sum(corruption_error(model, baseline, n, relative=relative) for n in names) / len(names)
