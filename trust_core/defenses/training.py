"""One training loop for the defenses: Adam over shuffled mini-batches with a per-batch loss callback."""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

#: ``loss(model, images, labels, progress) -> scalar``; ``progress`` runs from 0 to 1 over training (for ramps).
BatchLoss = Callable[[nn.Module, torch.Tensor, torch.Tensor, float], torch.Tensor]


def train_loop(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    loss: BatchLoss,
    *,
    epochs: int,
    batch: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
) -> nn.Module:
    """Train ``model`` in place with Adam (learning rate decayed 10x over the last quarter); returns it in eval mode."""
    if epochs < 1 or batch < 1:
        raise ValueError(f"epochs and batch must be positive, got {epochs}, {batch}")
    if len(images) != len(labels) or len(images) == 0:
        raise ValueError(f"need as many labels as images (got {len(images)} and {len(labels)}), at least one")
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    per_epoch = (len(images) + batch - 1) // batch
    total = epochs * per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 if s < 0.75 * total else 0.1)
    step = 0
    for _ in range(epochs):
        order = torch.randperm(len(images), generator=gen)
        for i in range(0, len(images), batch):
            idx = order[i : i + batch]
            model.train()
            value = loss(model, images[idx], labels[idx], step / total)
            opt.zero_grad(set_to_none=True)
            value.backward()
            opt.step()
            sched.step()
            step += 1
    return model.eval()
