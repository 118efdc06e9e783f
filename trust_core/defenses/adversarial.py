"""Adversarial training: PGD-AT (Madry et al., ICLR 2018) and TRADES (Zhang et al., ICML 2019).

PGD-AT minimises the cross-entropy on PGD examples; TRADES minimises the clean cross-entropy plus
``beta`` times the KL divergence between the clean and the adversarial prediction, the adversary
maximising that KL. Both use :class:`trust_core.attacks.PGD` for the inner maximisation.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from trust_core.attacks import PGD
from trust_core.models.training import train_loop


class KLDivergence:
    """KL(p_clean || p_adv) per sample; labels are the clean class probabilities (TRADES' inner loss)."""

    def validate(self, outputs: torch.Tensor, labels: torch.Tensor) -> None:
        if labels.shape != outputs.shape:
            raise ValueError(f"clean probabilities must have shape {tuple(outputs.shape)}, got {tuple(labels.shape)}")

    def __call__(self, outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.kl_div(F.log_softmax(outputs, 1), labels, reduction="none").sum(1)


def adversarial_fit(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    method: str = "pgd",
    eps: float = 0.3,
    alpha: float = 0.05,
    steps: int = 7,
    beta: float = 6.0,
    warmup: float = 0.2,
    epochs: int = 5,
    batch: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
) -> nn.Module:
    """Train ``model`` in place with PGD-AT (``method="pgd"``) or TRADES (``method="trades"``).

    The attack radius ramps linearly from 0 to ``eps`` over the first ``warmup`` fraction of training
    (a common stabiliser for MNIST at eps 0.3).
    """
    if method not in ("pgd", "trades"):
        raise ValueError(f"method must be 'pgd' or 'trades', got {method!r}")
    if not 0 <= warmup < 1:
        raise ValueError(f"warmup must lie in [0, 1), got {warmup}")

    def loss(net: nn.Module, x: torch.Tensor, y: torch.Tensor, progress: float) -> torch.Tensor:
        radius = eps * min(1.0, progress / warmup) if warmup else eps
        if method == "pgd":
            adv = PGD(net, eps=radius, alpha=alpha * radius / eps, steps=steps, seed=None)(x, y) if radius else x
            return F.cross_entropy(net(adv), y)
        clean = net(x)
        probs = F.softmax(clean, 1).detach()
        adv = PGD(net, eps=radius, alpha=alpha * radius / eps, steps=steps, loss=KLDivergence())(x, probs) if radius else x
        return F.cross_entropy(clean, y) + beta * KLDivergence()(net(adv), F.softmax(clean, 1)).mean()

    return train_loop(model, images, labels, loss, epochs=epochs, batch=batch, lr=lr, seed=seed)


def robust_accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *, eps: float = 0.3,
                    alpha: float = 0.01, steps: int = 40, batch: int = 500, seed: int = 0) -> float:
    """Accuracy under PGD-``steps`` (random start) at L∞ radius ``eps``."""
    attack = PGD(model, eps=eps, alpha=alpha, steps=steps, seed=seed)
    correct = 0
    for i in range(0, len(images), batch):
        adv = attack(images[i : i + batch], labels[i : i + batch])
        with torch.no_grad():
            correct += (model(adv).argmax(1) == labels[i : i + batch]).sum().item()
    return correct / len(images)
