"""Expectation over transformation (Athalye et al., "Synthesizing robust adversarial examples", ICML 2018).

The adversary optimises ``E_{t~T}[loss(model(t(x)), y)]``: each step of the gradient loop feeds ``samples``
random transforms of the batch (via :meth:`GradientAttack.transform_input`) and averages the loss over them,
so the step follows the expected gradient. Any GradientAttack keyword (eps, alpha, steps, norm, momentum...) applies.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from trust_core.attacks.gradient import GradientAttack
from trust_core.attacks.losses import AttackLoss, CrossEntropy


class ExpectedLoss:
    """The loss averaged over ``samples`` stacked copies of the batch (outputs ``(samples·N, ...)``)."""

    def __init__(self, loss: AttackLoss, samples: int) -> None:
        self.loss, self.samples = loss, samples

    def _repeat(self, labels: torch.Tensor) -> torch.Tensor:
        return labels.repeat(self.samples, *([1] * (labels.ndim - 1)))

    def validate(self, outputs: torch.Tensor, labels: torch.Tensor) -> None:
        validate = getattr(self.loss, "validate", None)
        if validate is not None:
            validate(outputs, self._repeat(labels))

    def __call__(self, outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.loss(outputs, self._repeat(labels)).view(self.samples, -1).mean(0)


class EOT(GradientAttack):
    """PGD (random start by default) on the expectation over ``transform`` (a random, differentiable map of a batch)."""

    def __init__(self, model: nn.Module, *, transform: Callable[[torch.Tensor], torch.Tensor], samples: int = 10,
                 eps: float, alpha: float | None = None, steps: int = 10, loss: AttackLoss | None = None,
                 random_start: bool = True, **kwargs) -> None:
        if samples < 1:
            raise ValueError(f"samples must be >= 1, got {samples}")
        super().__init__(model, eps=eps, alpha=alpha, steps=steps, random_start=random_start,
                         loss=ExpectedLoss(loss or CrossEntropy(), samples), **kwargs)
        self.transform, self.samples = transform, samples

    def transform_input(self, x: torch.Tensor) -> torch.Tensor:
        diverse = super().transform_input
        return torch.cat([self.transform(diverse(x)) for _ in range(self.samples)])
