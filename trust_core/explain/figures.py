"""Saliency figures: one row per image, the image then each method's map (PNG via matplotlib's Agg backend)."""
from __future__ import annotations

from pathlib import Path

import torch


def save_saliency_grid(images: torch.Tensor, maps: dict[str, torch.Tensor], path: Path, *, titles: list[str] | None = None) -> Path:
    """Write ``path`` (PNG): images (N, C, H, W) in [0, 1] beside each named attribution map (signed maps in red/blue)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not maps:
        raise ValueError("need at least one attribution map")
    n, cols = len(images), 1 + len(maps)
    fig, axes = plt.subplots(n, cols, figsize=(1.6 * cols, 1.6 * n), squeeze=False)
    for i in range(n):
        axes[i][0].imshow(images[i].permute(1, 2, 0).squeeze(-1).cpu(), cmap="gray", vmin=0, vmax=1)
        axes[i][0].set_title(titles[i] if titles else "input", fontsize=7)
        for j, (name, attr) in enumerate(maps.items(), start=1):
            a = attr[i].sum(0).cpu()
            bound = a.abs().max().clamp_min(1e-12).item()
            signed = bool((a < 0).any())
            axes[i][j].imshow(a, cmap="bwr" if signed else "hot", vmin=-bound if signed else 0, vmax=bound)
            axes[i][j].set_title(name, fontsize=7)
    for ax in axes.flat:
        ax.axis("off")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
