"""The published table for our system: breaker whole-string accuracy on clean vs adversarial CAPTCHAs, per
level and breaker, under random attacker preprocessing, with readability proxies (L∞, L2, SSIM)."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from captcha_gen.adversarial import EPS, SAMPLES, make_adversarial
from captcha_gen.breakers import ENSEMBLE, HELD_OUT, load_breaker, read
from captcha_gen.levels import LEVELS
from captcha_gen.transforms import random_preprocess


#: probability of each attacker transform when reading (see :func:`captcha_gen.transforms.random_preprocess`).
READ_PROB = 0.3


def read_transformed(model: nn.Module, images: torch.Tensor, *, seed: int, prob: float = READ_PROB, chunk: int = 8) -> list[str]:
    """What ``model`` reads after a random attacker pipeline, a fresh one per ``chunk`` images (seeded)."""
    generator = torch.Generator().manual_seed(seed)
    texts: list[str] = []
    for i in range(0, images.shape[0], chunk):
        with torch.no_grad():
            texts += read(model, random_preprocess(images[i : i + chunk], prob=prob, generator=generator))
    return texts


def accuracy(predictions: Sequence[str], texts: Sequence[str]) -> float:
    return sum(p == t.upper() for p, t in zip(predictions, texts)) / max(1, len(texts))


def readability(clean: torch.Tensor, adversarial: torch.Tensor) -> dict[str, float]:
    """Mean L∞ and L2 of the perturbation (intensities in [0, 1]) and mean SSIM to the clean CAPTCHA."""
    from skimage.metrics import structural_similarity

    delta = (adversarial - clean).flatten(1)
    ssim = [structural_similarity(c[0].numpy(), a[0].numpy(), data_range=1.0) for c, a in zip(clean, adversarial)]
    return {"linf": round(float(delta.abs().amax(1).mean()), 4), "l2": round(float(delta.norm(dim=1).mean()), 4),
            "ssim": round(float(np.mean(ssim)), 4)}


def evaluate(*, n: int = 100, levels: Sequence[str] = tuple(LEVELS), eps: float = EPS, steps: int = 30, samples: int = SAMPLES,
             seed: int = 0, ensemble: Sequence[str] = ENSEMBLE, held_out: Sequence[str] = HELD_OUT,
             cam_dir: Path | None = None, log=print) -> dict:
    """Attack ``n`` test CAPTCHAs per level with the ``ensemble`` and read them with every breaker."""
    from captcha_gen.train import level_set

    breakers = {name: load_breaker(name) for name in (*ensemble, *held_out)}
    report: dict = {"n_per_level": n, "eps": round(eps, 5), "eps_255": round(eps * 255, 2), "steps": steps,
                    "eot_samples": samples, "read_transform_prob": READ_PROB, "ensemble": list(ensemble), "held_out": list(held_out), "levels": {}}
    for lv in levels:
        clean, texts = level_set(lv, split="test", n=n)
        adv = make_adversarial(clean, texts, [breakers[b] for b in ensemble], eps=eps, steps=steps, samples=samples, seed=seed)
        # images are published as 8-bit PNGs: measure what the attacker downloads
        adv = (adv * 255).round() / 255
        row: dict = {"breakers": {}, "readability": readability(clean, adv)}
        for name, model in breakers.items():
            row["breakers"][name] = {
                "role": "ensemble" if name in ensemble else "held_out",
                "clean": accuracy(read_transformed(model, clean, seed=seed + 1), texts),
                "adversarial": accuracy(read_transformed(model, adv, seed=seed + 1), texts),
                "clean_untransformed": accuracy(read(model, clean), texts),
                "adversarial_untransformed": accuracy(read(model, adv), texts),
            }
        if cam_dir is not None:
            from captcha_gen.attention import attention_overlap, grad_cam, save_cam_png

            model = breakers[ensemble[0]]
            k = min(6, n)
            cams = grad_cam(model, clean[:k], texts[:k]), grad_cam(model, adv[:k], texts[:k])
            path = save_cam_png(Path(cam_dir) / f"gradcam_{ensemble[0]}_{lv}.png", clean[:k], adv[:k], *cams)
            row["gradcam"] = {"breaker": ensemble[0], "png": str(path),
                              "clean_vs_adversarial_cosine": round(float(attention_overlap(*cams).mean()), 4)}
        report["levels"][lv] = row
        log(format_level(lv, row))
    return report


def format_level(level_name: str, row: dict) -> str:
    r = row["readability"]
    lines = [f"{level_name}: L∞ {r['linf']:.4f}  L2 {r['l2']:.3f}  SSIM {r['ssim']:.3f}"]
    for name, acc in row["breakers"].items():
        lines.append(f"  {name:<10} {acc['role']:<9} clean {100 * acc['clean']:5.1f}% -> adversarial {100 * acc['adversarial']:5.1f}%"
                     f"   (untransformed {100 * acc['clean_untransformed']:5.1f}% -> {100 * acc['adversarial_untransformed']:5.1f}%)")
    return "\n".join(lines)
