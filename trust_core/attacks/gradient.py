"""The gradient attack family on one loop.

FGSM (Goodfellow et al., ICLR 2015), I-FGSM/BIM (Kurakin et al., 2017), PGD (Madry et al., ICLR 2018),
MI-FGSM (Dong et al., CVPR 2018) and DI²-FGSM (Xie et al., CVPR 2019) differ only in hooks: the number of
steps and step size, a random start, momentum on the L1-normalised gradient, and an input transform.
The threat model (L∞ or L2) supplies the step direction and the projection.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from trust_core.attacks.diversity import input_diversity
from trust_core.attacks.losses import AttackLoss, CrossEntropy
from trust_core.attacks.norms import NORMS
from trust_core.models.wrappers import eval_mode, frozen_parameters


def _check_number(name: str, value: float, *, low: float = 0.0, allow_low: bool = True) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < low or (value == low and not allow_low):
        raise ValueError(f"{name} must be {'>=' if allow_low else '>'} {low}, got {value}")
    return float(value)


class GradientAttack:
    """One loop for the whole gradient family; subclasses only choose defaults.

    ``attack(images, labels)`` returns adversarial images in [0, 1] within ``eps`` of ``images``.
    ``labels`` are class indices for the default cross-entropy loss, or whatever ``loss`` takes
    (reference embeddings for :class:`~trust_core.attacks.losses.CosineDistance`); with
    ``targeted=True`` they are the targets.
    """

    def __init__(
        self,
        model: nn.Module | Callable[[torch.Tensor], torch.Tensor],
        *,
        eps: float,
        alpha: float | None = None,
        steps: int = 10,
        norm: str = "linf",
        random_start: bool = False,
        targeted: bool = False,
        loss: AttackLoss | None = None,
        momentum: float = 0.0,
        diversity_prob: float = 0.0,
        diversity_scale: float = 1.1,
        seed: int | None = None,
    ) -> None:
        self.model = model
        self.eps = _check_number("eps", eps)
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        self.steps = steps
        self.alpha = self.eps / steps if alpha is None else _check_number("alpha", alpha, allow_low=False)
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {sorted(NORMS)}, got {norm!r}")
        self.norm = NORMS[norm]
        self.random_start = random_start
        self.targeted = targeted
        self.loss: AttackLoss = loss if loss is not None else CrossEntropy()
        self.momentum = _check_number("momentum", momentum)
        self.diversity_prob = _check_number("diversity_prob", diversity_prob)
        if self.diversity_prob > 1:
            raise ValueError(f"diversity_prob must lie in [0, 1], got {diversity_prob}")
        self.diversity_scale = _check_number("diversity_scale", diversity_scale, low=1.0, allow_low=False)
        self.generator = torch.Generator().manual_seed(seed) if seed is not None else None

    # -- hooks ---------------------------------------------------------------------------------------
    def init_delta(self, images: torch.Tensor) -> torch.Tensor:
        if not self.random_start:
            return torch.zeros_like(images)
        delta = self.norm.random(images, self.eps, self.generator if images.device.type == "cpu" else None)
        return (images + delta).clamp_(0, 1) - images

    def transform_input(self, x: torch.Tensor) -> torch.Tensor:
        if self.diversity_prob <= 0:
            return x
        return input_diversity(x, prob=self.diversity_prob, scale=self.diversity_scale, generator=self.generator)

    def update_direction(self, grad: torch.Tensor, velocity: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Momentum on the L1-normalised gradient (MI-FGSM); plain gradient when ``momentum`` is 0."""
        if self.momentum <= 0:
            return grad, None
        grad = grad / grad.abs().flatten(1).mean(1).clamp_min(1e-12).view(-1, *([1] * (grad.ndim - 1)))
        velocity = grad if velocity is None else self.momentum * velocity + grad
        return velocity, velocity

    # -- the loop ------------------------------------------------------------------------------------
    def __call__(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.perturb(images, labels)

    def perturb(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        images, labels = self._validate(images, labels)
        if self.eps == 0:
            return images.clone()
        module = self.model if isinstance(self.model, nn.Module) else nn.Module()
        step_size = (-1.0 if self.targeted else 1.0) * self.alpha
        with eval_mode(module), frozen_parameters(module), torch.enable_grad():
            adv = images + self.init_delta(images)
            velocity: torch.Tensor | None = None
            for step in range(self.steps):
                adv.requires_grad_(True)
                outputs = self.model(self.transform_input(adv))
                if step == 0:
                    self._validate_outputs(outputs, labels)
                (grad,) = torch.autograd.grad(self.loss(outputs, labels).sum(), adv)
                direction, velocity = self.update_direction(grad, velocity)
                with torch.no_grad():
                    delta = self.norm.project(adv + step_size * self.norm.direction(direction) - images, self.eps)
                    adv = (images + delta).clamp_(0, 1)
        return adv.detach()

    # -- validation ----------------------------------------------------------------------------------
    @staticmethod
    def _validate(images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(images, torch.Tensor) or not isinstance(labels, torch.Tensor):
            raise ValueError("images and labels must be torch tensors")
        if images.ndim != 4:
            raise ValueError(f"images must be a batch (N, C, H, W), got shape {tuple(images.shape)}")
        if not images.is_floating_point():
            raise ValueError(f"images must be floating point in [0, 1], got {images.dtype}")
        if not torch.isfinite(images).all():
            raise ValueError("images contain NaN or inf")
        if images.numel() and (images.min() < 0 or images.max() > 1):
            raise ValueError(f"images must lie in [0, 1], got [{images.min().item():.3g}, {images.max().item():.3g}]")
        if labels.shape[:1] != images.shape[:1]:
            raise ValueError(f"got {images.shape[0]} images but {labels.shape[0] if labels.ndim else 0} labels")
        return images.detach(), labels.detach().to(images.device)

    def _validate_outputs(self, outputs: torch.Tensor, labels: torch.Tensor) -> None:
        validate = getattr(self.loss, "validate", None)
        if validate is not None:
            validate(outputs, labels)


class FGSM(GradientAttack):
    """Fast gradient sign method: one step of size ``eps``."""

    def __init__(self, model: nn.Module, *, eps: float, norm: str = "linf", targeted: bool = False, loss: AttackLoss | None = None) -> None:
        super().__init__(model, eps=eps, alpha=eps if eps > 0 else None, steps=1, norm=norm, targeted=targeted, loss=loss)


class IFGSM(GradientAttack):
    """Iterative FGSM (BIM): ``steps`` steps of ``alpha`` (default eps/steps) from the clean image."""

    def __init__(self, model: nn.Module, *, eps: float, alpha: float | None = None, steps: int = 10, norm: str = "linf",
                 targeted: bool = False, loss: AttackLoss | None = None) -> None:
        super().__init__(model, eps=eps, alpha=alpha, steps=steps, norm=norm, targeted=targeted, loss=loss)


class PGD(GradientAttack):
    """Projected gradient descent: I-FGSM from a uniform random start in the ball."""

    def __init__(self, model: nn.Module, *, eps: float, alpha: float | None = None, steps: int = 10, norm: str = "linf",
                 targeted: bool = False, loss: AttackLoss | None = None, random_start: bool = True, seed: int | None = None) -> None:
        super().__init__(model, eps=eps, alpha=alpha, steps=steps, norm=norm, targeted=targeted, loss=loss,
                         random_start=random_start, seed=seed)


class MIFGSM(GradientAttack):
    """Momentum iterative FGSM: accumulate the L1-normalised gradient with decay ``momentum`` (μ = 1)."""

    def __init__(self, model: nn.Module, *, eps: float, alpha: float | None = None, steps: int = 10, momentum: float = 1.0,
                 norm: str = "linf", targeted: bool = False, loss: AttackLoss | None = None) -> None:
        super().__init__(model, eps=eps, alpha=alpha, steps=steps, norm=norm, targeted=targeted, loss=loss, momentum=momentum)


class DI2FGSM(GradientAttack):
    """Diverse-inputs iterative FGSM: random resize-and-pad with probability ``diversity_prob`` at each step.

    With ``momentum > 0`` it is M-DI²-FGSM.
    """

    def __init__(self, model: nn.Module, *, eps: float, alpha: float | None = None, steps: int = 10,
                 diversity_prob: float = 0.5, diversity_scale: float = 1.1, momentum: float = 0.0, norm: str = "linf",
                 targeted: bool = False, loss: AttackLoss | None = None, seed: int | None = None) -> None:
        super().__init__(model, eps=eps, alpha=alpha, steps=steps, norm=norm, targeted=targeted, loss=loss,
                         momentum=momentum, diversity_prob=diversity_prob, diversity_scale=diversity_scale, seed=seed)


#: name -> class, for CLIs and configs (``method="mifgsm"``).
GRADIENT_ATTACKS: dict[str, type[GradientAttack]] = {
    "fgsm": FGSM, "ifgsm": IFGSM, "pgd": PGD, "mifgsm": MIFGSM, "di2fgsm": DI2FGSM,
}
