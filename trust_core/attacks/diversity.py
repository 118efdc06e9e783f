"""Input diversity (Xie et al., "Improving Transferability of Adversarial Examples with Input Diversity", CVPR 2019)."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def input_diversity(
    x: torch.Tensor, *, prob: float, scale: float = 1.1, generator: torch.Generator | None = None
) -> torch.Tensor:
    """With probability ``prob``, resize to a random size in [H, scale·H), pad randomly to scale·H, resize back to H.

    Differentiable in ``x``; applied to the whole batch (one draw per call), as in the reference code.
    """
    if prob <= 0 or torch.rand((), generator=generator).item() >= prob:
        return x
    size = x.shape[-1]
    outer = max(size + 1, int(round(size * scale)))
    inner = int(torch.randint(size, outer, (), generator=generator))
    resized = F.interpolate(x, size=(inner, inner), mode="nearest")
    pad_top = int(torch.randint(0, outer - inner + 1, (), generator=generator))
    pad_left = int(torch.randint(0, outer - inner + 1, (), generator=generator))
    padded = F.pad(resized, (pad_left, outer - inner - pad_left, pad_top, outer - inner - pad_top))
    return F.interpolate(padded, size=x.shape[-2:], mode="bilinear", align_corners=False)
