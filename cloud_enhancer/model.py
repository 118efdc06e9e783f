"""APF's cloud side (Zhang et al., "Adversarial Privacy-preserving Filter", ACM MM 2020).

A U-Net transfer network T (residual: ĝ = g + U(g)) maps the probe's signal g to ĝ aligned with the standard
recognizer, and an image-agnostic universal perturbation û with a learnable scale α is added: the filter is
s = clip(T(g) + α·û, −eps, eps), and the protected face is clip(x + s, 0, 1).
Signals and filters live in the probe's 112×112 aligned-crop space; the edge pastes the filter back.
"""
from __future__ import annotations

import torch
from torch import nn

from trust_core.models.unet import UNet

CROP = 112


class TransferUNet(UNet):
    """T: the probe's signal g in units of eps (in [-1, 1]) -> ĝ = g + U(g), in units of eps (the caller clips and
    multiplies by eps). The U-Net learns a residual on top of the signal; its last layer starts at zero, so an
    untrained T passes the signal through and training starts from row g (He et al., CVPR 2016 for the residual)."""

    def __init__(self, **unet) -> None:  # noqa: ANN003
        super().__init__(**unet)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, signal: torch.Tensor) -> torch.Tensor:
        return signal + super().forward(signal)


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
