"""Attribution methods over any differentiable ``fn(images)``: class scores ``(N, C)`` with ``target``, or one
scalar per image ``(N,)`` with ``target=None`` (e.g. :class:`CosineScore`, a face-verification score).

- vanilla gradients (Simonyan et al., ICLR workshop 2014) and Grad-CAM (Selvaraju et al., ICCV 2017) via captum;
- Integrated Gradients (Sundararajan et al., ICML 2017) via captum, with its completeness check
  ``Σ attr = f(x) - f(baseline)`` reported as a relative error;
- SmoothGrad (Smilkov et al., 2017): the mean of any attribution over Gaussian-noised copies of the input.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from trust_core.models.wrappers import eval_mode

ScoreFn = Callable[[torch.Tensor], torch.Tensor]
Attribution = Callable[[torch.Tensor], torch.Tensor]


def _module(fn: ScoreFn) -> nn.Module:
    return fn if isinstance(fn, nn.Module) else nn.Module()


def saliency(fn: ScoreFn, images: torch.Tensor, target: torch.Tensor | int | None = None, *, absolute: bool = True) -> torch.Tensor:
    """The input gradient of the score (its absolute value by default, as in Simonyan et al.)."""
    from captum.attr import Saliency

    with eval_mode(_module(fn)):
        return Saliency(fn).attribute(images, target=target, abs=absolute).detach()


def integrated_gradients(fn: ScoreFn, images: torch.Tensor, target: torch.Tensor | int | None = None, *,
                         baseline: torch.Tensor | float = 0.0, steps: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """IG attributions and each image's completeness error ``|Σ attr - (f(x) - f(x'))| / |f(x) - f(x')|``."""
    from captum.attr import IntegratedGradients

    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    with eval_mode(_module(fn)):
        attr, delta = IntegratedGradients(fn).attribute(images, baselines=baseline, target=target, n_steps=steps,
                                                        method="gausslegendre", return_convergence_delta=True)
        with torch.no_grad():
            base = torch.full_like(images, baseline) if not isinstance(baseline, torch.Tensor) else baseline.expand_as(images)
            gap = _score(fn, images, target) - _score(fn, base, target)
    return attr.detach(), delta.detach().abs() / gap.abs().clamp_min(1e-12)


def _score(fn: ScoreFn, images: torch.Tensor, target: torch.Tensor | int | None) -> torch.Tensor:
    out = fn(images)
    if target is None:
        return out.reshape(len(images))
    index = torch.as_tensor(target).reshape(-1)
    index = index.expand(len(images)) if index.numel() == 1 else index
    return out.gather(1, index[:, None]).squeeze(1)


def smoothgrad(attribute: Attribution, images: torch.Tensor, *, samples: int = 25, stdev: float = 0.15,
               seed: int = 0) -> torch.Tensor:
    """SmoothGrad around any ``attribute(images) -> maps``: average over ``samples`` copies with N(0, stdev²) noise
    (stdev as a fraction of the input range, 0.15 in the paper)."""
    if samples < 1 or stdev < 0:
        raise ValueError(f"need samples >= 1 and stdev >= 0, got {samples}, {stdev}")
    gen = torch.Generator().manual_seed(seed)
    total = torch.zeros_like(images)
    for _ in range(samples):
        total += attribute(images + stdev * torch.randn(images.shape, generator=gen).to(images))
    return total / samples


def grad_cam(model: nn.Module, layer: nn.Module, images: torch.Tensor, target: torch.Tensor | int) -> torch.Tensor:
    """Grad-CAM at ``layer`` (ReLU of the gradient-weighted feature maps), upsampled to the input size."""
    from captum.attr import LayerAttribution, LayerGradCam

    with eval_mode(model):
        cam = LayerGradCam(model, layer).attribute(images, target=target, relu_attributions=True)
    return LayerAttribution.interpolate(cam.detach(), tuple(images.shape[-2:]), interpolate_mode="bilinear")


class CosineScore(nn.Module):
    """``cos(embed(x), reference)``: the verification score of a face pair, one scalar per image, to attribute."""

    def __init__(self, embed: nn.Module | ScoreFn, reference: torch.Tensor) -> None:
        super().__init__()
        self.embed = embed
        self.register_buffer("reference", reference.detach())

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return F.cosine_similarity(self.embed(images), self.reference.expand(len(images), -1), dim=1)
