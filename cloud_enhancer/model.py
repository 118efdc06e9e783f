"""APF's cloud side (Zhang et al., "Adversarial Privacy-preserving Filter", ACM MM 2020).

A U-Net transfer network T maps the probe's signal g to ĝ aligned with the standard recognizer, and an
image-agnostic universal perturbation û with a learnable scale α is added: the filter is
s = clip(T(g) + α·û, −eps, eps), and the protected face is clip(x + s, 0, 1).
Signals and filters live in the probe's 112×112 aligned-crop space; the edge pastes the filter back.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

CROP = 112


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2, inplace=True),
    )


class TransferUNet(nn.Module):
    """U-Net (Ronneberger et al., 2015): encoder–decoder with skip connections, signal in units of eps.

    Input g/eps in [-1, 1]; output tanh(·) in [-1, 1] (the caller multiplies by eps).
    """

    def __init__(self, *, width: int = 16, depth: int = 3, channels: int = 3) -> None:
        super().__init__()
        widths = [width * 2**i for i in range(depth + 1)]
        self.down = nn.ModuleList([_block(channels, widths[0])] + [_block(widths[i], widths[i + 1]) for i in range(depth)])
        self.up = nn.ModuleList([nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2) for i in reversed(range(depth))])
        self.merge = nn.ModuleList([_block(2 * widths[i], widths[i]) for i in reversed(range(depth))])
        self.head = nn.Conv2d(widths[0], channels, 1)

    def forward(self, g: torch.Tensor) -> torch.Tensor:
        skips = []
        h = g
        for i, block in enumerate(self.down):
            h = block(h if i == 0 else F.max_pool2d(h, 2))
            skips.append(h)
        skips.pop()
        for up, merge in zip(self.up, self.merge, strict=True):
            h = up(h)
            h = merge(torch.cat([h, skips.pop()], dim=1))
        return torch.tanh(self.head(h))


class UniversalPerturbation(nn.Module):
    """An image-agnostic perturbation û in [-1, 1] (tanh-parametrised) with a learnable scale α in (0, 1)."""

    def __init__(self, *, channels: int = 3, size: int = CROP) -> None:
        super().__init__()
        self.raw = nn.Parameter(torch.zeros(1, channels, size, size))
        self.raw_scale = nn.Parameter(torch.tensor(0.0))

    @property
    def scale(self) -> torch.Tensor:
        return torch.sigmoid(self.raw_scale)

    def forward(self) -> torch.Tensor:
        return self.scale * torch.tanh(self.raw)


class APFFilter(nn.Module):
    """s = clip(T(g) + α·û, −eps, eps); ``use_transfer``/``use_universal`` give the table's rows g, ĝ and s."""

    def __init__(self, transfer: TransferUNet | None = None, universal: UniversalPerturbation | None = None) -> None:
        super().__init__()
        self.transfer = transfer if transfer is not None else TransferUNet()
        self.universal = universal if universal is not None else UniversalPerturbation()

    def forward(self, signal: torch.Tensor, eps: float | torch.Tensor, *, use_transfer: bool = True,
                use_universal: bool = True) -> torch.Tensor:
        eps_t = torch.as_tensor(eps, dtype=signal.dtype, device=signal.device).reshape(-1, 1, 1, 1)
        out = self.transfer(signal / eps_t) if use_transfer else signal / eps_t
        if use_universal:
            out = out + self.universal()
        return out.clamp(-1, 1) * eps_t


def protect(faces: torch.Tensor, filt: torch.Tensor) -> torch.Tensor:
    """The protected faces clip(x + s, 0, 1)."""
    return (faces + filt).clamp(0, 1)
