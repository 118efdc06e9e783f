"""Fifteen-style corruptions at severities 1-5 on top of albumentations 2.x (Hendrycks & Dietterich, "Benchmarking
neural network robustness to common corruptions and perturbations", ICLR 2019), scaled for 28x28 grey digits.

Each entry maps a severity to a fixed albumentations transform (no random range in the *strength*, only in the
noise/particles), applied to uint8 RGB images; grey inputs are replicated to RGB and averaged back.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

SEVERITIES = (1, 2, 3, 4, 5)


def _table() -> dict[str, tuple[str, Callable[[int], object]]]:
    import albumentations as A

    def pick(values):  # severity s -> values[s - 1]
        return lambda s: values[s - 1]

    noise = pick([0.08, 0.12, 0.18, 0.26, 0.38])
    impulse = pick([0.01, 0.02, 0.04, 0.07, 0.10])
    sigma = pick([0.8, 1.0, 1.2, 1.5, 2.0])
    motion = pick([3, 5, 7, 9, 11])
    defocus = pick([1, 2, 2, 3, 4])
    rain = pick([4, 6, 8, 10, 12])
    snow = pick([0.3, 0.4, 0.5, 0.6, 0.7])
    spatter = pick([0.3, 0.45, 0.6, 0.75, 0.9])
    bright = pick([0.1, 0.2, 0.3, 0.4, 0.5])
    contrast = pick([-0.4, -0.5, -0.6, -0.7, -0.8])
    quality = pick([25, 18, 15, 10, 7])
    pixel = pick([0.6, 0.5, 0.4, 0.33, 0.28])
    elastic = pick([(10, 4), (15, 4), (20, 4), (25, 3.5), (30, 3.5)])
    return {
        "gaussian_noise": ("noise", lambda s: A.GaussNoise(std_range=(noise(s),) * 2, p=1)),
        "impulse_noise": ("noise", lambda s: A.SaltAndPepper(amount=(impulse(s),) * 2, p=1)),
        "gaussian_blur": ("blur", lambda s: A.GaussianBlur(blur_limit=0, sigma_limit=(sigma(s),) * 2, p=1)),
        "motion_blur": ("blur", lambda s: A.MotionBlur(blur_limit=(motion(s),) * 2, p=1)),
        "defocus_blur": ("blur", lambda s: A.Defocus(radius=(defocus(s),) * 2, alias_blur=(0.1, 0.1), p=1)),
        "rain": ("weather", lambda s: A.RandomRain(drop_length=rain(s), drop_width=1, blur_value=1,
                                                   brightness_coefficient=1.0, p=1)),
        "snow": ("weather", lambda s: A.RandomSnow(snow_point_range=(snow(s),) * 2, method="texture", p=1)),
        "spatter": ("weather", lambda s: A.Spatter(cutout_threshold=(0.68 - 0.3 * spatter(s),) * 2,
                                                intensity=(spatter(s),) * 2, mode="rain", p=1)),
        "brightness": ("weather", lambda s: A.RandomBrightnessContrast(brightness_limit=(bright(s),) * 2, contrast_limit=(0, 0), p=1)),
        "contrast": ("digital", lambda s: A.RandomBrightnessContrast(brightness_limit=(0, 0), contrast_limit=(contrast(s),) * 2, p=1)),
        "jpeg": ("digital", lambda s: A.ImageCompression(quality_range=(quality(s),) * 2, p=1)),
        "pixelate": ("digital", lambda s: A.Downscale(scale_range=(pixel(s),) * 2, p=1)),
        "elastic": ("digital", lambda s: A.ElasticTransform(alpha=elastic(s)[0], sigma=elastic(s)[1], p=1)),
    }


def corruption_names() -> dict[str, str]:
    """name -> family (noise, blur, weather, digital)."""
    return {name: family for name, (family, _) in _table().items()}


def corrupt(images: torch.Tensor, name: str, severity: int, *, seed: int = 0) -> torch.Tensor:
    """Apply corruption ``name`` at ``severity`` (1-5) to a batch (N, C, H, W) in [0, 1]; deterministic per ``seed``."""
    import albumentations as A

    table = _table()
    if name not in table:
        raise ValueError(f"unknown corruption {name!r}; known: {', '.join(table)}")
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images must be (N, 1 or 3, H, W), got {tuple(images.shape)}")
    pipeline = A.Compose([table[name][1](severity)], seed=seed)
    grey = images.shape[1] == 1
    arrays = (images.detach().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    out = []
    for array in arrays:
        rgb = np.repeat(array, 3, axis=2) if grey else array
        result = pipeline(image=np.ascontiguousarray(rgb))["image"].astype(np.float32) / 255
        out.append(result.mean(2, keepdims=True) if grey else result)
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).to(images)
