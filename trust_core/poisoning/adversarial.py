"""The adversarial training-set attack: perturb every training image within ε so that a model trained on the
perturbed set generalises badly — max_r test-loss(argmin_h train-loss(h; x + r)), ‖r‖∞ ≤ ε.

The bilevel problem (Biggio, Nelson & Laskov, ICML 2012; Muñoz-González et al., AISec 2017) is approximated as in
Fowl, Goldblum, Chiang, Geiping, Czaja & Goldstein, "Adversarial examples make strong poisons", NeurIPS 2021: fix a
surrogate trained on clean data (the inner argmin) and replace each image by a class-targeted adversarial example
of it (PGD from the attack core, target ``(y + 1) mod K``) while keeping its label. A model trained on the poisons
learns the non-robust features of the wrong class: its training error stays low, its clean test error rises.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from trust_core.attacks import PGD
from trust_core.models.train_mnist import evaluate


def adversarial_poison(surrogate: nn.Module, images: torch.Tensor, labels: torch.Tensor, *, eps: float,
                       steps: int = 10, num_classes: int = 10, targeted: bool = True, batch: int = 500,
                       seed: int = 0) -> torch.Tensor:
    """Perturbed training images (labels unchanged) within ``eps`` in L∞ of ``images``.

    ``targeted`` (the stronger variant in Fowl et al.) pushes each image toward class ``(y + 1) mod num_classes``;
    otherwise it maximises the surrogate's loss on the true label (error-maximising noise).
    """
    if not 0 < eps <= 1:
        raise ValueError(f"eps must lie in (0, 1] (images are in [0, 1]), got {eps!r}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if images.ndim != 4 or labels.shape != images.shape[:1]:
        raise ValueError(f"need images (N, C, H, W) and N labels, got {tuple(images.shape)} and {tuple(labels.shape)}")
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"unknown label: labels must lie in 0..{num_classes - 1}")
    attack = PGD(surrogate, eps=eps, alpha=2.5 * eps / steps, steps=steps, targeted=targeted, seed=seed)
    goal = (labels + 1) % num_classes if targeted else labels
    return torch.cat([attack(images[i : i + batch], goal[i : i + batch]) for i in range(0, len(images), batch)])


@dataclass(frozen=True)
class GapRow:
    """One row of the generalisation-gap table: errors of a model trained on ``data``."""

    data: str
    eps: float
    train_error: float
    test_error: float

    @property
    def gap(self) -> float:
        return self.test_error - self.train_error


def gap_row(model: nn.Module, train: tuple[torch.Tensor, torch.Tensor], test: tuple[torch.Tensor, torch.Tensor], *,
            data: str, eps: float) -> GapRow:
    """Training error on the (possibly poisoned) set the model saw and error on the clean test set."""
    return GapRow(data, eps, 1 - evaluate(model, *train), 1 - evaluate(model, *test))
