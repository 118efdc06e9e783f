"""Clean-label poisoning by feature collision — Shafahi, Huang, Najibi, Suciu, Studer, Dumitras & Goldstein,
"Poison frogs! Targeted clean-label poisoning attacks on neural networks", NeurIPS 2018.

Each poison starts from a correctly labelled base image b and solves
``argmin_x ‖f(x) − f(t)‖² + β ‖x − b‖²`` by forward–backward splitting (a gradient step on the feature distance,
then the proximal step of the image term), so it looks like its base class but sits on the target t in feature
space. Training the classifier head on clean data plus the poisons (transfer learning, features frozen) moves the
decision boundary so that the unseen target is classified as the base class.
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from trust_core.backdoor.features import hidden, last_linear, layer_inputs
from trust_core.models.wrappers import eval_mode


def feature_collision(model: nn.Module, bases: torch.Tensor, target: torch.Tensor, *, beta0: float = 0.25,
                      lr: float = 0.003, steps: int = 200, watermark: float = 0.3) -> torch.Tensor:
    """Poisons (same shape as ``bases``) colliding with ``target`` (1, C, H, W) in the penultimate feature space.

    ``watermark`` blends that share of the target into each base first (the paper's multi-poison setting);
    β = ``beta0`` · (feature dim / input dim)² as in the paper.
    """
    if target.ndim != 4 or target.shape[0] != 1 or target.shape[1:] != bases.shape[1:]:
        raise ValueError("target must be one image (1, C, H, W) of the bases' shape")
    if not 0 <= watermark < 1:
        raise ValueError(f"watermark opacity must lie in [0, 1), got {watermark}")
    bases = (1 - watermark) * bases + watermark * target
    with eval_mode(model), torch.enable_grad():
        with torch.no_grad():
            goal = hidden(model, target)
        beta = beta0 * (goal.shape[1] / bases[0].numel()) ** 2
        x = bases.clone()
        for _ in range(steps):
            x.requires_grad_(True)
            loss = (hidden(model, x) - goal).pow(2).sum()
            (grad,) = torch.autograd.grad(loss, x)
            with torch.no_grad():
                x = x - lr * grad
                x = ((x + lr * beta * bases) / (1 + lr * beta)).clamp_(0, 1)
    return x.detach()


def retrain_head(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *, steps: int = 300,
                 lr: float = 1e-2) -> nn.Module:
    """A copy of ``model`` whose last linear layer is re-trained (Adam, full batch) on frozen features."""
    clone = copy.deepcopy(model).eval()
    head = last_linear(clone)
    features = layer_inputs(clone, images, layer=head)
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    with torch.enable_grad():
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(head(features), labels).backward()
            opt.step()
    return clone
