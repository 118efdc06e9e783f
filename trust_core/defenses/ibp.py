"""Verification by interval bound propagation (Gowal et al., "On the effectiveness of interval bound
propagation for training verifiably robust models", 2018).

An L∞ box ``[x - eps, x + eps] ∩ [0, 1]`` is pushed through the network as (centre, radius) pairs:
affine layers map the centre and take ``|W|`` of the radius, monotone layers (ReLU, max-pooling, flatten)
map the bounds. A point is *certified* when the lower bound of its true logit exceeds the upper bound of
every other logit — then no perturbation in the box, PGD's included, can change the prediction.
``ibp_fit`` trains with Gowal's mixed loss ``κ·CE(clean) + (1-κ)·CE(worst-case logits)`` and an eps ramp.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from trust_core.models.training import train_loop

_MONOTONE = (nn.ReLU, nn.MaxPool2d, nn.AvgPool2d, nn.Flatten, nn.Identity)


def interval_bounds(model: nn.Sequential, images: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Elementwise lower and upper bounds of ``model``'s outputs over the clipped L∞ box of radius ``eps``.

    ``model`` is an ``nn.Sequential`` of Linear, Conv2d, BatchNorm (eval), ReLU, pooling and Flatten layers.
    """
    if not isinstance(model, nn.Sequential):
        raise ValueError("interval_bounds needs an nn.Sequential of Linear/Conv2d/BatchNorm/ReLU/pooling/Flatten")
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    lower, upper = (images - eps).clamp(0, 1), (images + eps).clamp(0, 1)
    for layer in model:
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            centre, radius = (upper + lower) / 2, (upper - lower) / 2
            centre = layer(centre)
            if isinstance(layer, nn.Linear):
                radius = F.linear(radius, layer.weight.abs())
            else:
                radius = F.conv2d(radius, layer.weight.abs(), None, layer.stride, layer.padding, layer.dilation, layer.groups)
            lower, upper = centre - radius, centre + radius
        elif isinstance(layer, nn.BatchNorm2d | nn.BatchNorm1d):
            if layer.training:
                raise ValueError("bound batch-norm layers in eval mode")
            scale = layer.weight / (layer.running_var + layer.eps).sqrt()
            shift = layer.bias - layer.running_mean * scale
            shape = (1, -1) + (1,) * (lower.ndim - 2)
            a, b = lower * scale.view(shape) + shift.view(shape), upper * scale.view(shape) + shift.view(shape)
            lower, upper = torch.minimum(a, b), torch.maximum(a, b)
        elif isinstance(layer, _MONOTONE):
            lower, upper = layer(lower), layer(upper)
        else:
            raise ValueError(f"interval_bounds does not support {type(layer).__name__}")
    return lower, upper


def worst_case_logits(model: nn.Sequential, images: torch.Tensor, labels: torch.Tensor, eps: float) -> torch.Tensor:
    """Upper bounds for the wrong classes and the lower bound for the true class."""
    lower, upper = interval_bounds(model, images, eps)
    return torch.where(F.one_hot(labels, upper.shape[1]).bool(), lower, upper)


def certify(model: nn.Sequential, images: torch.Tensor, labels: torch.Tensor, *, eps: float, batch: int = 1000) -> torch.Tensor:
    """Boolean mask of the points whose label provably holds over the whole L∞ box of radius ``eps``."""
    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            y = labels[i : i + batch]
            worst = worst_case_logits(model, images[i : i + batch], y, eps)
            true = worst.gather(1, y[:, None]).squeeze(1)
            out.append(true > worst.scatter(1, y[:, None], float("-inf")).amax(1))
    return torch.cat(out)


def ibp_fit(
    model: nn.Sequential,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    eps: float = 0.2,
    kappa_end: float = 0.5,
    warmup: float = 0.1,
    ramp: float = 0.5,
    epochs: int = 5,
    batch: int = 100,
    lr: float = 1e-3,
    seed: int = 0,
) -> nn.Sequential:
    """IBP training: clean training for the first ``warmup`` fraction, then eps ramps to ``eps`` and κ from 1 to
    ``kappa_end`` over the next ``ramp`` fraction. Train with a larger eps than the one certified (Gowal: 0.2 for 0.1)."""

    def loss(net: nn.Module, x: torch.Tensor, y: torch.Tensor, progress: float) -> torch.Tensor:
        t = min(1.0, max(0.0, (progress - warmup) / ramp))
        clean = F.cross_entropy(net(x), y)
        if t == 0:
            return clean
        kappa = 1 - t * (1 - kappa_end)
        return kappa * clean + (1 - kappa) * F.cross_entropy(worst_case_logits(net, x, y, eps * t), y)

    return train_loop(model, images, labels, loss, epochs=epochs, batch=batch, lr=lr, seed=seed)
