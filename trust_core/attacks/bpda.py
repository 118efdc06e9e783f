"""Backward pass differentiable approximation (Athalye, Carlini & Wagner, "Obfuscated gradients give a false sense
of security", ICML 2018): run a non-differentiable preprocessing ``g`` forward, and use the identity (``g(x) ≈ x``)
on the way back, so gradient attacks see through input-transformation defenses.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


class _Identity(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, transform: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:  # type: ignore[override]
        with torch.no_grad():
            return transform(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        return grad, None


def bpda(transform: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """``transform(x)`` forward, identity gradient backward."""
    return _Identity.apply(x, transform)


class BPDA(nn.Module):
    """``BPDA(model, transform)``: the defended model ``model(transform(x))`` with the straight-through gradient."""

    def __init__(self, model: nn.Module, transform: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.model, self.transform = model, transform

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(bpda(self.transform, x))
