"""Differentiable image transforms for expectation over transformation (EOT, Athalye et al., ICML 2018).

What a photo or a CAPTCHA goes through after it is made — JPEG, down-and-up resizing, blur, a small affine warp —
as batched torch ops on ``(N, C, H, W)`` images in [0, 1]. JPEG is not differentiable: it runs exactly forward
and passes the gradient straight through (BPDA, :func:`trust_core.attacks.bpda.bpda`).
"""
from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from trust_core.attacks.bpda import bpda


def gaussian(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur with standard deviation ``sigma`` pixels."""
    radius = max(1, math.ceil(2 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-t**2 / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    c = x.shape[1]
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="replicate"), kernel.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(F.pad(x, (0, 0, radius, radius), mode="replicate"), kernel.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def _jpeg_exact(x: torch.Tensor, quality: int) -> torch.Tensor:
    arrays = x.clamp(0, 1).mul(255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
    out = []
    for a in arrays:
        ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(a), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        out.append(cv2.imdecode(buf, cv2.IMREAD_UNCHANGED).reshape(a.shape))
    return torch.from_numpy(np.stack(out)).to(x.device, x.dtype).permute(0, 3, 1, 2) / 255.0


def jpeg(x: torch.Tensor, quality: int) -> torch.Tensor:
    """Real JPEG (OpenCV) round trip at ``quality``, straight-through gradient."""
    return bpda(lambda t: _jpeg_exact(t, quality), x)


def resize(x: torch.Tensor, scale: float, *, antialias: bool = False,
           between: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """Down-sample by ``scale`` and back up (bilinear): what a reader working at a lower resolution sees.

    ``antialias`` averages over each small pixel's footprint (as an area resize of a shared photo does) instead of
    sampling; ``between`` runs on the small copy (e.g. the JPEG a social network applies after resizing).
    """
    h, w = x.shape[-2:]
    small = F.interpolate(x, size=(max(1, round(h * scale)), max(1, round(w * scale))), mode="bilinear",
                          align_corners=False, antialias=antialias)
    if between is not None:
        small = between(small)
    return F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)


def affine(x: torch.Tensor, angle: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Rotate by ``angle`` (N,) radians and translate by ``shift`` (N, 2) in [-1, 1] units; border-replicating."""
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
