"""Input-transformation defenses: median smoothing and bit-depth reduction (Xu et al., "Feature squeezing",
NDSS 2018), Gaussian smoothing, and JPEG compression (Guo et al., "Countering adversarial images using input
transformations", ICLR 2018; Dziugaite et al. 2016). Each maps a batch in [0, 1] to a batch in [0, 1].
:class:`Preprocessed` puts one in front of a model; :class:`trust_core.attacks.BPDA` breaks them (Athalye 2018).
"""
from __future__ import annotations

import io
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

Transform = Callable[[torch.Tensor], torch.Tensor]


def median_smooth(images: torch.Tensor, *, size: int = 3) -> torch.Tensor:
    """Median filter over ``size`` x ``size`` windows (edge-padded; even sizes pad right/bottom like scipy)."""
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    before, after = (size - 1) // 2, size // 2
    padded = F.pad(images, (before, after, before, after), mode="replicate")
    patches = padded.unfold(2, size, 1).unfold(3, size, 1)
    return patches.reshape(*patches.shape[:4], -1).median(-1).values


def gaussian_smooth(images: torch.Tensor, *, sigma: float = 1.0) -> torch.Tensor:
    """Gaussian blur with standard deviation ``sigma`` pixels (kernel 2⌈2σ⌉ + 1)."""
    from torchvision.transforms.functional import gaussian_blur

    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    radius = max(1, int(2 * sigma + 0.999))
    return gaussian_blur(images, [2 * radius + 1] * 2, [sigma, sigma])


def bit_depth(images: torch.Tensor, *, bits: int = 1) -> torch.Tensor:
    """Quantise to ``2**bits`` grey levels."""
    if not 1 <= bits <= 8:
        raise ValueError(f"bits must lie in 1..8, got {bits}")
    levels = 2**bits - 1
    return torch.round(images * levels) / levels


def jpeg(images: torch.Tensor, *, quality: int = 30) -> torch.Tensor:
    """JPEG-compress and decode each image at ``quality`` (Pillow)."""
    import numpy as np
    from PIL import Image

    if not 1 <= quality <= 95:
        raise ValueError(f"quality must lie in 1..95, got {quality}")
    out = []
    for image in (images.detach().clamp(0, 1) * 255).round().to(torch.uint8).cpu():
        array = image.permute(1, 2, 0).squeeze(-1).numpy() if image.shape[0] == 1 else image.permute(1, 2, 0).numpy()
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, format="JPEG", quality=quality)
        decoded = np.asarray(Image.open(buffer), dtype=np.float32) / 255
        out.append(torch.from_numpy(decoded).reshape(image.shape[1], image.shape[2], -1).permute(2, 0, 1))
    return torch.stack(out).to(images)


#: name -> (transform with its default setting)
TRANSFORMS: dict[str, Transform] = {
    "median": median_smooth, "gaussian": gaussian_smooth, "jpeg": jpeg, "bit_depth": bit_depth,
}


class Preprocessed(nn.Module):
    """``model(transform(x))``: the defended model a naive gradient attack differentiates through (or cannot)."""

    def __init__(self, model: nn.Module, transform: Transform) -> None:
        super().__init__()
        self.model, self.transform = model, transform

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(self.transform(x))
