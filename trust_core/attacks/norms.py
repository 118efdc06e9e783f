"""Threat models for the attack loop: how a gradient becomes a step, and how a perturbation is projected."""
from __future__ import annotations

import torch

_TINY = 1e-12


def _flat_norm(x: torch.Tensor) -> torch.Tensor:
    return x.flatten(1).norm(dim=1).clamp_min(_TINY).view(-1, *([1] * (x.ndim - 1)))


class LinfBall:
    """The L∞ ball: sign steps (FGSM), clamp projection, uniform random start."""

    name = "linf"

    @staticmethod
    def direction(grad: torch.Tensor) -> torch.Tensor:
        return grad.sign()

    @staticmethod
    def project(delta: torch.Tensor, eps: float) -> torch.Tensor:
        return delta.clamp(-eps, eps)

    @staticmethod
    def random(like: torch.Tensor, eps: float, generator: torch.Generator | None = None) -> torch.Tensor:
        noise = torch.rand(like.shape, generator=generator, device=like.device, dtype=like.dtype)
        return noise.mul_(2 * eps).sub_(eps)


class L2Ball:
    """The L2 ball: normalised-gradient steps, rescaling projection, uniform-in-ball random start."""

    name = "l2"

    @staticmethod
    def direction(grad: torch.Tensor) -> torch.Tensor:
        return grad / _flat_norm(grad)

    @staticmethod
    def project(delta: torch.Tensor, eps: float) -> torch.Tensor:
        return delta * (eps / _flat_norm(delta)).clamp(max=1.0)

    @staticmethod
    def random(like: torch.Tensor, eps: float, generator: torch.Generator | None = None) -> torch.Tensor:
        noise = torch.randn(like.shape, generator=generator, device=like.device, dtype=like.dtype)
        radius = torch.rand(like.shape[0], generator=generator, device=like.device, dtype=like.dtype)
        radius = radius.pow(1.0 / noise[0].numel()).view(-1, *([1] * (like.ndim - 1)))
        return noise / _flat_norm(noise) * radius * eps


NORMS: dict[str, type[LinfBall] | type[L2Ball]] = {"linf": LinfBall, "l2": L2Ball}
