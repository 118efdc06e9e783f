"""Tint attack: a semantic adversarial example that changes an image's colours, not its pixels one by one.

The perturbation is one colour shift ``δ ∈ [−eps, eps]^C`` per image, applied to each pixel in proportion to
its distance from white: ``x' = clip(x + (1 − min_c x) · δ, 0, 1)``. White (and near-white) strokes keep their
value and the shape is untouched; coloured regions are recoloured as a whole. A functional adversarial
attack in the sense of Laidlaw & Feizi (NeurIPS 2019) and of the hue-shifting "semantic adversarial examples"
of Hosseini & Poovendran (CVPR-W 2018): the attack core's loop (:class:`GradientAttack`) optimises the ``C``
shift parameters through the tinted model instead of the pixels.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from trust_core.attacks.gradient import GradientAttack
from trust_core.attacks.losses import AttackLoss


def tint(images: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """``clip(x + (1 − min_c x) · shift, 0, 1)`` for images (N, C, H, W) and shifts (N, C); the clip passes
    gradients straight through (Bengio et al. 2013), so a saturated channel can still be pulled back."""
    if shift.shape != images.shape[:2]:
        raise ValueError(f"shift must have shape {tuple(images.shape[:2])}, got {tuple(shift.shape)}")
    weight = 1 - images.amin(1, keepdim=True)
    shifted = images + weight * shift[:, :, None, None]
    # clip with a straight-through gradient: plain colours sit at 0 or 1, where clamp's gradient would be zero
    return shifted + (shifted.clamp(0, 1) - shifted).detach()


class _Tinted(nn.Module):
    """``model(tint(images, 2θ − 1))`` as a function of θ (N, C, 1, 1) in [0, 1]: the attack core's input range."""

    def __init__(self, model: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor) -> None:
        super().__init__()
        self.model, self.images = model, images

    def forward(self, theta: torch.Tensor) -> torch.Tensor:
        return self.model(tint(self.images, 2 * theta.flatten(1) - 1))


class TintAttack:
    """``attack(images, labels)`` → tinted images whose colour shift lies within ``eps`` (L∞, eps ≤ 1).

    Sign steps of ``alpha`` on the shift (default ``eps / 4``), from no shift, for ``steps`` steps;
    ``targeted``, ``loss`` and ``momentum`` as in :class:`GradientAttack`.
    """

    def __init__(self, model: Callable[[torch.Tensor], torch.Tensor], *, eps: float, alpha: float | None = None,
                 steps: int = 10, targeted: bool = False, loss: AttackLoss | None = None,
                 momentum: float = 0.0) -> None:
        if not 0 < eps <= 1:
            raise ValueError(f"eps must lie in (0, 1], got {eps}")
        alpha = eps / 4 if alpha is None else alpha
        if not 0 < alpha:
            raise ValueError(f"alpha must be positive, got {alpha}")
        self.model, self.eps, self.alpha = model, eps, alpha
        self.options = {"steps": steps, "targeted": targeted, "loss": loss, "momentum": momentum}

    def shift(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The adversarial colour shift (N, C)."""
        images, labels = GradientAttack._validate(images, labels)
        # θ = (1 + shift) / 2 in [0, 1]: the loop's clamp keeps the shift in [−1, 1], its ball in [−eps, eps]
        loop = GradientAttack(_Tinted(self.model, images), eps=self.eps / 2, alpha=self.alpha / 2, **self.options)
        theta = loop(torch.full((*images.shape[:2], 1, 1), 0.5, dtype=images.dtype, device=images.device), labels)
        return 2 * theta.flatten(1) - 1

    def __call__(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return tint(images.detach(), self.shift(images, labels))
