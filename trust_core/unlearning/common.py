"""Pieces both unlearning methods share: training one chunk of data without the deleted samples, counting the
work, and the agreement of two models' predictions."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from trust_core.models.training import Optimizer, adam, constant, train_loop
from trust_core.models.wrappers import eval_mode


@dataclass(frozen=True)
class StepConfig:
    """How each chunk (a SISA slice step, a DeepObliviate block) is trained by the shared loop: at the rate
    ``lr · (1 + t)^(-decay)`` for chunk ``t`` (inverse-root or near-inverse decay, as in online training)."""

    epochs: int = 1
    lr: float = 1e-3
    batch: int = 64
    decay: float = 0.5

    def rate(self, t: int) -> float:
        return self.lr * (1 + t) ** -self.decay


def train_chunk(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, index: torch.Tensor,
                deleted: torch.Tensor, *, config: StepConfig, t: int, seed: int, optimizer: Optimizer = adam) -> int:
    """Train ``model`` in place on ``images[index]`` with the samples in ``deleted`` masked out of the loss.

    Masking (rather than dropping) keeps every mini-batch of the chunk as it was, so a deletion perturbs the
    run only where the deleted samples were. ``optimizer`` (Adam unless given) steps at ``config.rate(t)``.
    Returns the work: kept samples × epochs.
    """
    weight = (~torch.isin(index, deleted)).float()
    if not weight.any():
        return 0

    def masked(net: nn.Module, x: torch.Tensor, pos: torch.Tensor, _: float) -> torch.Tensor:
        per_sample = F.cross_entropy(net(x), labels[index[pos]], reduction="none")
        return (per_sample * weight[pos]).sum() / len(pos)

    train_loop(model, images[index], torch.arange(len(index)), masked, epochs=config.epochs, batch=config.batch,
               lr=config.rate(t), seed=seed, schedule=constant, optimizer=optimizer)
    return int(weight.sum()) * config.epochs


def predictions(model: nn.Module, images: torch.Tensor, *, batch: int = 2000) -> torch.Tensor:
    """Top-1 labels of ``model`` on ``images``."""
    with torch.no_grad(), eval_mode(model):
        return torch.cat([model(chunk).argmax(1) for chunk in images.split(batch)])


def consistency(a: torch.Tensor, b: torch.Tensor) -> float:
    """Share of inputs on which two prediction vectors agree (DeepObliviate's consistency with the retrained model)."""
    if a.shape != b.shape:
        raise ValueError(f"prediction vectors differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
    return float((a == b).float().mean())
