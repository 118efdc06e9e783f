"""Universal adversarial perturbations (Moosavi-Dezfooli et al., CVPR 2017).

One image-agnostic perturbation ``v`` with ``||v||_p <= eps``: pass over the data, and wherever ``x + v`` is still
classified as ``x`` is, add the minimal DeepFool perturbation of ``x + v`` and project ``v`` back onto the ball;
stop once the fooling rate on the data reaches ``1 - delta`` or after ``epochs`` passes.
"""
from __future__ import annotations

import torch
from torch import nn

from trust_core.attacks.deepfool import DeepFool
from trust_core.attacks.gradient import GradientAttack
from trust_core.attacks.norms import NORMS
from trust_core.models.wrappers import eval_mode


def predict(model: nn.Module, images: torch.Tensor, batch: int = 1000) -> torch.Tensor:
    with eval_mode(model), torch.no_grad():
        return torch.cat([model(images[i : i + batch]).argmax(1) for i in range(0, len(images), batch)])


def fooling_rate(model: nn.Module, images: torch.Tensor, perturbation: torch.Tensor) -> float:
    """Share of images whose predicted label changes when ``perturbation`` is added (the paper's metric)."""
    return (predict(model, images) != predict(model, (images + perturbation).clamp(0, 1))).float().mean().item()


class UniversalPerturbation:
    """``UniversalPerturbation(model, eps=0.2, norm="linf").fit(images) -> v`` (shape (1, C, H, W))."""

    def __init__(self, model: nn.Module, *, eps: float, norm: str = "linf", epochs: int = 5, delta: float = 0.2,
                 overshoot: float = 0.02, deepfool_steps: int = 10, candidates: int | None = 4, batch: int = 32,
                 seed: int = 0) -> None:
        if eps <= 0 or norm not in NORMS or epochs < 1 or not 0 <= delta < 1:
            raise ValueError(f"need eps > 0, norm in {sorted(NORMS)}, epochs >= 1, delta in [0, 1)")
        self.model, self.eps, self.norm, self.epochs, self.delta = model, eps, NORMS[norm], epochs, delta
        self.deepfool = DeepFool(model, steps=deepfool_steps, overshoot=overshoot, candidates=candidates)
        self.batch, self.seed = batch, seed

    def fit(self, images: torch.Tensor) -> torch.Tensor:
        images, _ = GradientAttack._validate(images, torch.zeros(len(images)))
        clean = predict(self.model, images)
        v = torch.zeros_like(images[:1])
        gen = torch.Generator().manual_seed(self.seed)
        for _ in range(self.epochs):
            order = torch.randperm(len(images), generator=gen)
            # the paper's per-image pass, in small batches: DeepFool on the images v does not fool yet
            for i in range(0, len(images), self.batch):
                idx = order[i : i + self.batch]
                x = (images[idx] + v).clamp(0, 1)
                alive = predict(self.model, x) == clean[idx]
                if not alive.any():
                    continue
                step = self.deepfool(x[alive], clean[idx][alive]) - x[alive]
                for s in step:  # each image's minimal step, projected in turn (v is one batch stale)
                    v = self.norm.project(v + s[None], self.eps)
            if fooling_rate(self.model, images, v) >= 1 - self.delta:
                break
        return v
