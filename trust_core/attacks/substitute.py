"""Black-box transfer through a substitute trained from label queries with Jacobian-based dataset augmentation
(Papernot et al., "Practical black-box attacks against machine learning", AsiaCCS 2017).

Start from a small seed set labelled by the oracle; each substitute epoch ρ trains the substitute on the oracle's
labels, then adds ``x + λ·sign(∂F_sub[O(x)]/∂x)`` for every x (λ's sign flips every ``tau`` epochs). The returned
substitute is then attacked white-box (e.g. FGSM) and the examples transferred to the oracle.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from trust_core.models.train_mnist import fit
from trust_core.models.wrappers import eval_mode


@dataclass
class SubstituteResult:
    substitute: nn.Module
    queries: int
    dataset_size: int


def label_queries(oracle: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, batch: int = 1000) -> torch.Tensor:
    """The oracle's top-1 labels — the only thing the black-box adversary sees."""
    with torch.no_grad():
        return torch.cat([oracle(images[i : i + batch]).argmax(1) for i in range(0, len(images), batch)])


def jacobian_augment(substitute: nn.Module, images: torch.Tensor, labels: torch.Tensor, lam: float) -> torch.Tensor:
    """``clip(x + λ·sign(∇_x F_sub(x)[label]))`` for each image."""
    with eval_mode(substitute), torch.enable_grad():
        x = images.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(substitute(x).gather(1, labels[:, None]).sum(), x)
    return (images + lam * grad.sign()).clamp(0, 1)


def train_substitute(
    oracle: Callable[[torch.Tensor], torch.Tensor],
    seed_images: torch.Tensor,
    build: Callable[[], nn.Module],
    *,
    rounds: int = 6,
    lam: float = 0.1,
    tau: int = 3,
    epochs: int = 10,
    seed: int = 0,
) -> SubstituteResult:
    """Papernot's substitute training; ``oracle`` maps images to scores (only their argmax is used)."""
    if rounds < 1 or lam <= 0 or tau < 1:
        raise ValueError(f"need rounds >= 1, lam > 0, tau >= 1, got {rounds}, {lam}, {tau}")
    torch.manual_seed(seed)
    data = seed_images.clone()
    labels = label_queries(oracle, data)
    substitute = build()
    for rho in range(rounds):
        substitute = fit(build(), data, labels, epochs=epochs, batch=64, seed=seed + rho)
        if rho < rounds - 1:
            sign = -1.0 if (rho // tau) % 2 else 1.0
            new = jacobian_augment(substitute, data, labels, sign * lam)
            data, labels = torch.cat([data, new]), torch.cat([labels, label_queries(oracle, new)])
    queries = len(data)
    return SubstituteResult(substitute, queries, len(data))
