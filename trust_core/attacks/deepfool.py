"""DeepFool (Moosavi-Dezfooli et al., CVPR 2016): the minimal L2 step to the nearest linearised decision boundary.

At each iteration, for every class k ≠ y, ``w_k = ∇Z_k - ∇Z_y`` and ``f_k = Z_k - Z_y``; step to the closest
boundary ``|f_k| / ||w_k||`` along ``w_k``. The total perturbation is scaled by ``1 + overshoot`` at the end.
"""
from __future__ import annotations

import torch
from torch import nn

from trust_core.attacks.gradient import GradientAttack
from trust_core.models.wrappers import eval_mode


class DeepFool:
    """``DeepFool(model, steps=50, overshoot=0.02)(images, labels)`` -> adversarial images in [0, 1]."""

    def __init__(self, model: nn.Module, *, steps: int = 50, overshoot: float = 0.02, candidates: int | None = None) -> None:
        if steps < 1 or overshoot < 0:
            raise ValueError(f"need steps >= 1 and overshoot >= 0, got {steps}, {overshoot}")
        self.model, self.steps, self.overshoot, self.candidates = model, steps, overshoot, candidates

    def __call__(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        images, labels = GradientAttack._validate(images, labels)
        r_total = torch.zeros_like(images)
        active = torch.ones(len(images), dtype=torch.bool, device=images.device)
        with eval_mode(self.model), torch.enable_grad():
            for _ in range(self.steps):
                x = (images + (1 + self.overshoot) * r_total).clamp(0, 1).requires_grad_(True)
                logits = self.model(x)
                active &= logits.argmax(1) == labels
                if not active.any():
                    break
                classes = logits.shape[1] if self.candidates is None else min(self.candidates, logits.shape[1])
                order = logits.detach().argsort(1, descending=True)[:, :classes]
                true_logit = logits.gather(1, labels[:, None]).squeeze(1)
                (g_true,) = torch.autograd.grad(true_logit.sum(), x, retain_graph=True)
                best_dist = torch.full((len(images),), float("inf"), device=images.device)
                best_step = torch.zeros_like(images)
                for j in range(classes):
                    k = order[:, j]
                    logit_k = logits.gather(1, k[:, None]).squeeze(1)
                    (g_k,) = torch.autograd.grad(logit_k.sum(), x, retain_graph=j < classes - 1)
                    w = g_k - g_true
                    f = (logit_k - true_logit).detach()
                    w_norm = w.flatten(1).norm(dim=1).clamp_min(1e-8)
                    dist = f.abs() / w_norm
                    dist[k == labels] = float("inf")
                    closer = dist < best_dist
                    best_dist = torch.where(closer, dist, best_dist)
                    step = ((dist + 1e-4) / w_norm).view(-1, 1, 1, 1) * w
                    best_step[closer] = step[closer]
                r_total = r_total + best_step * active.view(-1, 1, 1, 1)
        return (images + (1 + self.overshoot) * r_total).clamp(0, 1).detach()
