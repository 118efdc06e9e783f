"""Mutual information between images from their joint grey-level histograms (DRMI, He et al., USENIX Security 2021).

MI(u, v) = Σ_ij P_uv(i, j) log(P_uv(i, j) / (P_u(i) P_v(j))), where P_uv is the normalised joint histogram of the
grey levels of co-located pixels. Images are quantised to ``bins`` levels; joint histograms for a whole block of
pairs come from one ``bincount`` over combined codes ``bins * level_u + level_v`` (exact, no per-pair Python loop).
"""
from __future__ import annotations

import torch


def quantize(images: torch.Tensor, *, bins: int = 16) -> torch.Tensor:
    """Grey levels in [0, 1] -> integer codes 0..bins-1, flattened to ``(N, pixels)``."""
    if images.ndim < 2:
        raise ValueError(f"images must be (N, ...) with N images, got shape {tuple(images.shape)}")
    if not 2 <= bins <= 256:
        raise ValueError(f"bins must be in [2, 256], got {bins}")
    if images.numel() and (images.min() < 0 or images.max() > 1):
        raise ValueError("images must be in [0, 1]")
    return (images.reshape(len(images), -1) * bins).long().clamp_(max=bins - 1)


def _mi_from_joint(joint: torch.Tensor) -> torch.Tensor:
    """MI of each ``(..., bins, bins)`` joint count table, as H(u) + H(v) - H(u, v) on counts (c log c terms)."""
    total = joint.sum(dim=(-2, -1))
    clogc = lambda c: torch.special.xlogy(c, c)  # noqa: E731
    joint_term = clogc(joint).sum(dim=(-2, -1))
    marginal_terms = clogc(joint.sum(-1)).sum(-1) + clogc(joint.sum(-2)).sum(-1)
    return (joint_term - marginal_terms) / total + torch.log(total)


def mutual_information(u: torch.Tensor, v: torch.Tensor, *, bins: int = 16) -> float:
    """MI (nats) between two images of the same shape."""
    if u.shape != v.shape:
        raise ValueError(f"images differ in shape: {tuple(u.shape)} vs {tuple(v.shape)}")
    codes = quantize(torch.stack([u, v]), bins=bins)
    joint = torch.bincount(codes[0] * bins + codes[1], minlength=bins * bins).reshape(bins, bins).float()
    return float(_mi_from_joint(joint))


def pairwise_mutual_information(images: torch.Tensor, *, bins: int = 16, block: int = 128) -> torch.Tensor:
    """Symmetric ``(N, N)`` matrix of MI between every pair of ``images`` (DRMI's Algorithm 1), zero diagonal.

    Joint counts of the non-zero grey levels are one matrix product of one-hot level maps per block of rows; the
    level-0 row and column follow from the marginal counts, which is exact and cheap on mostly-dark images.
    """
    codes = quantize(images, bins=bins)
    n, pixels = codes.shape
    onehot = torch.nn.functional.one_hot(codes, bins).float()  # (N, pixels, bins)
    marginal = onehot.sum(1)  # (N, bins)
    levels = onehot[:, :, 1:].permute(0, 2, 1).reshape(n * (bins - 1), pixels)
    out = torch.zeros(n, n, dtype=torch.float32)
    for start in range(0, n, block):
        stop = min(start + block, n)
        joint = torch.zeros(stop - start, n, bins, bins, dtype=torch.float32)
        inner = (levels[start * (bins - 1) : stop * (bins - 1)] @ levels.T)
        joint[:, :, 1:, 1:] = inner.view(stop - start, bins - 1, n, bins - 1).permute(0, 2, 1, 3)
        joint[:, :, 1:, 0] = marginal[start:stop, None, 1:] - joint[:, :, 1:, 1:].sum(-1)
        joint[:, :, 0, :] = marginal[None, :, :] - joint[:, :, 1:, :].sum(-2)
        out[start:stop] = _mi_from_joint(joint)
    out.fill_diagonal_(0.0)
    return out
