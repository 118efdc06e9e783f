"""Grad-CAM (Selvaraju et al., ICCV 2017) of a breaker on clean vs adversarial CAPTCHAs, via captum.

The score explained is the breaker's log-likelihood of the true answer (minus its string loss). On adversarial
CAPTCHAs the attention scatters away from the glyphs; :func:`attention_overlap` measures it as the cosine
similarity of the clean and adversarial maps.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from captcha_gen.breakers import encode, string_loss
from trust_core.models.wrappers import eval_mode


def _last_conv(model: nn.Module) -> nn.Module:
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.kernel_size != (1, 1)]
    if not convs:
        raise ValueError(f"{type(model).__name__} has no convolution for Grad-CAM")
    return convs[-1]


def grad_cam(model: nn.Module, images: torch.Tensor, texts: Sequence[str], *, layer: nn.Module | None = None) -> torch.Tensor:
    """Grad-CAM maps ``(N, 1, H, W)`` in [0, 1] (per-image max-normalised) of ``model`` reading ``texts``."""
    from captum.attr import LayerAttribution, LayerGradCam

    targets = encode(list(texts))

    def score(x: torch.Tensor, answers: torch.Tensor) -> torch.Tensor:
        return -string_loss(model.kind, model(x), answers).unsqueeze(1)

    with eval_mode(model), torch.enable_grad():
        cam = LayerGradCam(score, layer or _last_conv(model)).attribute(images, target=0, additional_forward_args=(targets,))
    cam = LayerAttribution.interpolate(cam.detach().clamp_min(0), tuple(images.shape[-2:]), interpolate_mode="bilinear")
    return cam / cam.flatten(1).amax(1).clamp_min(1e-12).view(-1, 1, 1, 1)


def attention_overlap(clean_cam: torch.Tensor, adv_cam: torch.Tensor) -> torch.Tensor:
    """Cosine similarity per image of two Grad-CAM maps (1 = same attention)."""
    return torch.nn.functional.cosine_similarity(clean_cam.flatten(1), adv_cam.flatten(1), dim=1, eps=1e-12)


def save_cam_png(path: Path, clean: torch.Tensor, adversarial: torch.Tensor, clean_cam: torch.Tensor,
                 adv_cam: torch.Tensor) -> Path:
    """One row per CAPTCHA: clean | Grad-CAM on clean | adversarial | Grad-CAM on adversarial (jet overlay)."""
    from matplotlib import colormaps
    from PIL import Image

    jet = colormaps["jet"]

    def gray(t: torch.Tensor) -> np.ndarray:
        return np.repeat(t[0].numpy()[..., None], 3, axis=2)

    def overlay(img: torch.Tensor, cam: torch.Tensor) -> np.ndarray:
        return 0.5 * gray(img) + 0.5 * jet(cam[0].numpy())[..., :3]

    rows = [np.concatenate([gray(c), overlay(c, cc), gray(a), overlay(a, ac)], axis=1)
            for c, a, cc, ac in zip(clean, adversarial, clean_cam, adv_cam)]
    picture = Image.fromarray((np.concatenate(rows, axis=0) * 255).round().astype(np.uint8))
    picture = picture.resize((picture.width * 3, picture.height * 3), Image.NEAREST)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    picture.save(path)
    return path
