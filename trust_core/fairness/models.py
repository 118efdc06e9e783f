"""A small CNN with a shared feature extractor, a target head and a bias head, and the gradient-reversal layer."""
from __future__ import annotations

import torch
from torch import nn


class _ReverseGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.scale * grad, None


def reverse_grad(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """Identity forward, gradient times ``-scale`` backward (Ganin & Lempitsky, ICML 2015)."""
    return _ReverseGrad.apply(x, scale)


class DebiasNet(nn.Module):
    """Three conv blocks → ``feature_dim`` features, read by a target head and a bias head.

    ``net(x)`` gives target logits for inputs in [0, 1] and :meth:`bias_logits` the bias logits through the
    same features (the model AEDA attacks). No batch-norm or dropout: train and eval behave alike.
    """

    def __init__(self, *, n_target: int, n_bias: int, in_channels: int = 3, width: int = 16,
                 feature_dim: int = 64) -> None:
        super().__init__()
        if min(n_target, n_bias) < 2:
            raise ValueError(f"need at least two target and two bias classes, got {n_target} and {n_bias}")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(2 * width, 4 * width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(3),
            nn.Flatten(), nn.Linear(36 * width, feature_dim), nn.ReLU(),
        )
        self.target_head = nn.Linear(feature_dim, n_target)
        self.bias_head = nn.Linear(feature_dim, n_bias)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x - 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.target_head(self.embed(x))

    def bias_logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.bias_head(self.embed(x))
