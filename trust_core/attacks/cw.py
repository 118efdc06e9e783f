"""Carlini & Wagner's L2 attack ("Towards evaluating the robustness of neural networks", IEEE S&P 2017).

Minimise ``||x' - x||² + c·f(x')`` over ``x' = (tanh(w) + 1) / 2`` (the box constraint by change of variables)
with Adam, where ``f = max(Z_y - max_{j≠y} Z_j, -κ)`` is the logit margin (targeted: ``max_{j≠t} Z_j - Z_t``).
A binary search over ``c`` keeps, per image, the smallest successful perturbation.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from trust_core.attacks.gradient import GradientAttack
from trust_core.models.wrappers import eval_mode


def logit_margin(logits: torch.Tensor, labels: torch.Tensor, *, targeted: bool = False) -> torch.Tensor:
    """``Z_y - max_{j≠y} Z_j`` (untargeted: > 0 means still correct); targeted: ``max_{j≠t} Z_j - Z_t``."""
    true = logits.gather(1, labels[:, None]).squeeze(1)
    other = logits.masked_fill(F.one_hot(labels, logits.shape[1]).bool(), float("-inf")).amax(1)
    return other - true if targeted else true - other


class CarliniWagnerL2:
    """``CarliniWagnerL2(model, c=1, kappa=0, steps=100, lr=0.01, search_steps=5)(images, labels)``.

    Returns, per image, the smallest-L2 adversarial example found, or the unchanged image where none was.
    """

    def __init__(self, model: nn.Module, *, c: float = 1.0, kappa: float = 0.0, steps: int = 100, lr: float = 0.01,
                 search_steps: int = 5, targeted: bool = False) -> None:
        if c <= 0 or kappa < 0 or lr <= 0 or steps < 1 or search_steps < 1:
            raise ValueError("need c > 0, kappa >= 0, lr > 0, steps >= 1 and search_steps >= 1")
        self.model, self.c, self.kappa, self.steps, self.lr = model, c, kappa, steps, lr
        self.search_steps, self.targeted = search_steps, targeted

    def __call__(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        images, labels = GradientAttack._validate(images, labels)
        n = len(images)
        c = torch.full((n,), self.c, device=images.device)
        low, high = torch.zeros_like(c), torch.full_like(c, float("inf"))
        best = images.clone()
        best_dist = torch.full_like(c, float("inf"))
        w0 = torch.atanh((images * 2 - 1).clamp(-1 + 1e-6, 1 - 1e-6))
        with eval_mode(self.model), torch.enable_grad():
            for _ in range(self.search_steps):
                w = w0.clone().requires_grad_(True)
                opt = torch.optim.Adam([w], lr=self.lr)
                success = torch.zeros(n, dtype=torch.bool, device=images.device)
                for _ in range(self.steps):
                    adv = (torch.tanh(w) + 1) / 2
                    margin = logit_margin(self.model(adv), labels, targeted=self.targeted)
                    dist = (adv - images).flatten(1).pow(2).sum(1)
                    loss = dist + c * margin.clamp(min=-self.kappa)
                    opt.zero_grad()
                    loss.sum().backward()
                    opt.step()
                    with torch.no_grad():
                        won = margin < 0 if self.kappa == 0 else margin <= -self.kappa
                        better = won & (dist < best_dist)
                        best[better], best_dist[better] = adv[better].detach(), dist[better].detach()
                        success |= won
                # binary search on c: smaller after success, larger (x10 until bounded) after failure
                high = torch.where(success, torch.minimum(high, c), high)
                low = torch.where(success, low, torch.maximum(low, c))
                c = torch.where(torch.isinf(high), c * 10, (low + high) / 2)
        return best
