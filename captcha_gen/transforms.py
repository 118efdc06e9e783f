"""What an attacker does to a CAPTCHA before reading it, as random differentiable torch ops.

Grayscale, binarisation, median and Gaussian filtering, JPEG, down-and-up resizing and a small affine warp.
Non-differentiable steps (binarisation, JPEG) use BPDA (Athalye et al., ICML 2018): the exact op forward,
the identity backward. Sampling one random pipeline per image gives expectation over transformation
(EOT, Athalye et al., ICML 2018) when the attack draws a fresh one at every step; the breakers see the same
pipelines as training augmentation.
(The shared differentiable ops live in :mod:`trust_core.attacks.transforms`.)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from trust_core.attacks.bpda import bpda
from trust_core.attacks.transforms import affine, gaussian, jpeg, resize

__all__ = ["TRANSFORMS", "affine", "binarize", "gaussian", "grayscale", "jpeg", "median3", "midpoint_threshold", "random_preprocess", "resize"]

#: each transform of :func:`random_preprocess` is applied with this probability.
TRANSFORMS = ("binarize", "median", "gaussian", "jpeg", "resize", "affine")


def grayscale(x: torch.Tensor) -> torch.Tensor:
    """ITU-R 601 luma of RGB images; grayscale images pass through."""
    if x.shape[1] == 1:
        return x
    weights = x.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (x * weights).sum(1, keepdim=True)


def binarize(x: torch.Tensor, threshold: torch.Tensor) -> torch.Tensor:
    """Global threshold per image (``threshold`` (N,)), straight-through gradient."""
    return bpda(lambda t: (t > threshold.view(-1, 1, 1, 1)).to(t.dtype), x)


def midpoint_threshold(x: torch.Tensor) -> torch.Tensor:
    """Per image, the midpoint of its 5th and 95th intensity percentiles (an attacker's adaptive threshold)."""
    return torch.quantile(x.detach().flatten(1), x.new_tensor([0.05, 0.95]), dim=1).mean(0)


def median3(x: torch.Tensor) -> torch.Tensor:
    """3x3 median filter (gradient flows to the selected pixel)."""
    patches = F.unfold(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3)
    return patches.view(x.shape[0], x.shape[1], 9, -1).median(dim=2).values.view_as(x)


def random_preprocess(x: torch.Tensor, *, prob: float = 0.5, generator: torch.Generator | None = None) -> torch.Tensor:
    """One random attacker pipeline for the whole batch: each of :data:`TRANSFORMS` with probability ``prob``.

    Parameters: threshold at the midpoint of each image's 5th and 95th intensity percentiles + U(±0.05) (what
    an attacker's adaptive binarisation picks), Gaussian sigma U(0.5, 1.0), JPEG quality U{30..90}, resize scale
    U(0.6, 0.9), rotation U(±4°), shift U(±3%) (per image for threshold, angle and shift).
    """
    if not 0 <= prob <= 1:
        raise ValueError(f"prob must lie in [0, 1], got {prob}")
    n = x.shape[0]

    def draw() -> bool:
        return bool(torch.rand((), generator=generator) < prob)

    def uniform(low: float, high: float, *shape: int) -> torch.Tensor:
        return low + (high - low) * torch.rand(shape or (), generator=generator)

    x = grayscale(x)
    if draw():
        x = affine(x, uniform(-4, 4, n).deg2rad().to(x.device), uniform(-0.03, 0.03, n, 2).to(x.device))
    if draw():
        x = resize(x, float(uniform(0.6, 0.9)))
    if draw():
        x = gaussian(x, float(uniform(0.5, 1.0)))
    if draw():
        x = median3(x)
    if draw():
        x = jpeg(x, int(uniform(30, 91)))
    if draw():
        x = binarize(x, midpoint_threshold(x) + uniform(-0.05, 0.05, n).to(x.device))
    return x
