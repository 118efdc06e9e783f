"""One training loop for the project's small models: an optimiser (Adam unless told) over shuffled mini-batches, a
per-batch loss callback and a learning-rate schedule."""
from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

#: ``loss(model, images, labels, progress) -> scalar``; ``progress`` runs from 0 to 1 over training (for ramps).
BatchLoss = Callable[[nn.Module, torch.Tensor, torch.Tensor, float], torch.Tensor]
#: ``schedule(optimizer, lr, total_steps)`` -> a scheduler stepped after every batch, or None for a constant rate.
Schedule = Callable[[torch.optim.Optimizer, float, int], "torch.optim.lr_scheduler.LRScheduler | None"]
#: ``optimizer(parameters, lr)`` -> the optimiser the loop steps (a factory may hand back one it keeps, to carry its
#: state across calls, as DeepObliviate's blocks do).
Optimizer = Callable[[Iterable[nn.Parameter], float], torch.optim.Optimizer]


def adam(params: Iterable[nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """Adam (Kingma & Ba, 2015) with PyTorch's defaults: the loop's default."""
    return torch.optim.Adam(params, lr=lr)


def step_decay(opt: torch.optim.Optimizer, lr: float, total: int) -> torch.optim.lr_scheduler.LRScheduler:
    """The rate ``lr``, divided by 10 over the last quarter of training."""
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 if s < 0.75 * total else 0.1)


def one_cycle(opt: torch.optim.Optimizer, lr: float, total: int) -> torch.optim.lr_scheduler.LRScheduler:
    """One-cycle (Smith & Topin, 2019) peaking at 3·``lr``."""
    return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr * 3, total_steps=total)


def constant(opt: torch.optim.Optimizer, lr: float, total: int) -> None:
    """A constant rate ``lr``."""
    return None


def cross_entropy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, progress: float) -> torch.Tensor:
    """Plain supervised loss."""
    return F.cross_entropy(model(images), labels)


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
    schedule: Schedule = step_decay,
    optimizer: Optimizer = adam,
) -> nn.Module:
    """Train ``model`` in place with ``optimizer`` and ``schedule``; returns it in eval mode."""
    if epochs < 1 or batch < 1:
        raise ValueError(f"epochs and batch must be positive, got {epochs}, {batch}")
    if len(images) != len(labels) or len(images) == 0:
        raise ValueError(f"need as many labels as images (got {len(images)} and {len(labels)}), at least one")
    gen = torch.Generator().manual_seed(seed)
    opt = optimizer(model.parameters(), lr)
    total = epochs * ((len(images) + batch - 1) // batch)
    sched = schedule(opt, lr, total)
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
            if sched is not None:
                sched.step()
            step += 1
    return model.eval()
