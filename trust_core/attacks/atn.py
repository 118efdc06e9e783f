"""Adversarial transformation networks (Baluja & Fischer, "Learning to attack: adversarial transformation
networks", AAAI 2018; arXiv 2017).

A perturbation ATN (P-ATN) ``g`` is trained against a fixed target model ``f`` to map an image to an adversarial
one in a single forward pass: ``x' = clip(x + eps·tanh(g(x)))``, minimising ``β·||x' - x||² + L_attack``,
where ``L_attack`` is the logit margin of the true (untargeted) or the target class (targeted), clamped at ``-κ``.
"""
from __future__ import annotations

import torch
from torch import nn

from trust_core.attacks.cw import logit_margin
from trust_core.models.training import constant, train_loop
from trust_core.models.wrappers import eval_mode, frozen_parameters


class PerturbationATN(nn.Module):
    """A fully connected P-ATN (Baluja & Fischer's MNIST ATNs are fully connected, so every output pixel sees the
    whole digit); ``forward(x)`` returns the adversarial image."""

    def __init__(self, *, eps: float = 0.3, shape: tuple[int, int, int] = (1, 28, 28), hidden: int = 256) -> None:
        super().__init__()
        if eps <= 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        self.eps, self.shape = eps, shape
        size = shape[0] * shape[1] * shape[2]
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(size, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, size),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x + self.eps * torch.tanh(self.net(x)).view(-1, *self.shape)).clamp(0, 1)


def train_atn(
    atn: PerturbationATN,
    target: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    targeted: bool = False,
    beta: float = 0.01,
    kappa: float = 5.0,
    epochs: int = 3,
    batch: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
) -> PerturbationATN:
    """Train ``atn`` against the frozen ``target``; ``labels`` are true classes (or targets if ``targeted``)."""

    def loss(net: nn.Module, x: torch.Tensor, y: torch.Tensor, progress: float) -> torch.Tensor:
        adv = net(x)
        margin = logit_margin(target(adv), y, targeted=targeted).clamp(min=-kappa)
        return (beta * (adv - x).flatten(1).pow(2).sum(1) + margin).mean()

    with eval_mode(target), frozen_parameters(target):
        train_loop(atn, images, labels, loss, epochs=epochs, batch=batch, lr=lr, seed=seed, schedule=constant)
    return atn.eval()
