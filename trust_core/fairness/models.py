"""The debiasing model — a shared feature extractor read by a target head and a bias head — its feature
extractors (a small CNN trained from scratch, or a pretrained face embedder, frozen or fine-tuned, with a trained
layer on top), and the gradient-reversal layer."""
from __future__ import annotations

import copy

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


class Centred(nn.Module):
    """``x − 0.5``: [0, 1] images centred on zero."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x - 0.5


def small_cnn(*, in_channels: int = 3, width: int = 16, feature_dim: int = 64) -> nn.Sequential:
    """Three conv blocks → ``feature_dim`` features; no batch-norm or dropout, so train and eval behave alike."""
    return nn.Sequential(
        Centred(),
        nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(2 * width, 4 * width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(3),
        nn.Flatten(), nn.Linear(36 * width, feature_dim), nn.ReLU(),
    )


class FrozenBackbone(nn.Module):
    """A pretrained embedder that stays in eval mode with its weights fixed, whatever ``train()`` is called with;
    gradients still flow through it to the input (the attacks need them). ``module`` itself is frozen in place,
    so a registry's shared instance can serve every model without copies."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module.eval().requires_grad_(False)

    def train(self, mode: bool = True) -> FrozenBackbone:
        super().train(mode)
        self.module.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x)


class TunedBackbone(nn.Module):
    """A trainable copy of a pretrained embedder, fine-tuned end to end at ``lr_scale`` times the learning rate
    of the layers above it (:func:`~trust_core.fairness.baselines.fit_debias` reads the scale); the original
    ``module`` is left untouched."""

    def __init__(self, module: nn.Module, *, lr_scale: float) -> None:
        super().__init__()
        if not 0 < lr_scale <= 1:
            raise ValueError(f"lr_scale must lie in (0, 1], got {lr_scale}")
        self.module = copy.deepcopy(module).requires_grad_(True)
        self.lr_scale = lr_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x)


def backbone_features(module: nn.Module, *, embedding_dim: int, feature_dim: int = 64,
                      lr_scale: float = 0.0) -> nn.Sequential:
    """A pretrained embedder (``embedding_dim`` outputs) → a trained ``Linear`` + ReLU to ``feature_dim``; the
    embedder is frozen when ``lr_scale`` is 0, else a :class:`TunedBackbone` trained at that learning-rate scale."""
    backbone = FrozenBackbone(module) if lr_scale == 0 else TunedBackbone(module, lr_scale=lr_scale)
    return nn.Sequential(backbone, nn.Linear(embedding_dim, feature_dim), nn.ReLU())


class DebiasNet(nn.Module):
    """``features`` → ``feature_dim`` features, read by a target head and a bias head (the small CNN by default).

    ``net(x)`` gives target logits for inputs in [0, 1] and :meth:`bias_logits` the bias logits through the
    same features (the model AEDA attacks).
    """

    def __init__(self, *, n_target: int, n_bias: int, in_channels: int = 3, width: int = 16,
                 feature_dim: int = 64, features: nn.Module | None = None) -> None:
        super().__init__()
        if min(n_target, n_bias) < 2:
            raise ValueError(f"need at least two target and two bias classes, got {n_target} and {n_bias}")
        self.features = features if features is not None else small_cnn(in_channels=in_channels, width=width,
                                                                        feature_dim=feature_dim)
        self.target_head = nn.Linear(feature_dim, n_target)
        self.bias_head = nn.Linear(feature_dim, n_bias)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.target_head(self.embed(x))

    def bias_logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.bias_head(self.embed(x))
