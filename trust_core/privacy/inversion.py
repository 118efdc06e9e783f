"""Model inversion from confidences (Fredrikson, Jha & Ristenpart, "Model Inversion Attacks that Exploit Confidence
Information and Basic Countermeasures", CCS 2015): MI-FACE.

Starting from a blank image, gradient descent on c(x) = 1 − f̃_label(x) (the classifier's confidence in the
person), x_i = Process(x_{i−1} − λ∇c(x_{i−1})), stopping after ``steps`` iterations, when c ≤ γ, or when c has not
improved on the best of the last β steps. Process clamps to [0, 1] (the paper's softmax case uses no denoising).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from trust_core.models.wrappers import eval_mode


class SoftmaxRegression(nn.Module):
    """The paper's softmax face classifier: one linear layer over the raw pixels."""

    def __init__(self, pixels: int, classes: int) -> None:
        super().__init__()
        self.linear = nn.Linear(pixels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.flatten(1))


def mi_face(
    model: nn.Module,
    label: int,
    shape: tuple[int, ...],
    *,
    steps: int = 5000,
    lr: float = 0.1,
    patience: int = 100,
    gamma: float = 0.01,
    init: torch.Tensor | None = None,
) -> torch.Tensor:
    """Reconstruct the face of ``label`` (MI-FACE, Algorithm 1) as a ``(1, *shape)`` image in [0, 1], from a blank
    image or from ``init`` (e.g. an attacker's mean face)."""
    if steps < 1 or lr <= 0:
        raise ValueError(f"steps must be >= 1 and lr > 0, got {steps} and {lr}")
    x = (torch.zeros((1, *shape)) if init is None else init.detach().reshape(1, *shape).clone()).requires_grad_(True)
    best, since_best = float("inf"), 0
    with eval_mode(model):
        for _ in range(steps):
            cost = 1 - F.softmax(model(x), 1)[0, label]
            grad, = torch.autograd.grad(cost, x)
            with torch.no_grad():
                x -= lr * grad
                x.clamp_(0, 1)
            value = float(cost.detach())
            if value <= gamma:
                break
            if value < best - 1e-6:
                best, since_best = value, 0
            else:
                since_best += 1
                if since_best >= patience:
                    break
    return x.detach()
