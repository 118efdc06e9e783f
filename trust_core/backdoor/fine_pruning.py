"""Fine-pruning — Liu, Dolan-Gavitt & Garg, "Fine-Pruning: defending against backdooring attacks on deep neural
networks", RAID 2018.

Prune the channels of the last convolutional layer in increasing order of their mean activation on clean data
(backdoor neurons lie dormant on clean inputs), then fine-tune on clean data. :func:`pruning_curve` gives the
trade-off: clean accuracy and attack success against the pruned share.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils import prune

from trust_core.backdoor.features import capture
from trust_core.models.train_mnist import fit


def last_conv_index(model: nn.Module) -> int:
    """Position of the last ``nn.Conv2d`` in ``model.modules()`` (stable across deep copies)."""
    convs = [i for i, m in enumerate(model.modules()) if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError("model has no nn.Conv2d layer to prune")
    return convs[-1]


def channel_activity(model: nn.Module, images: torch.Tensor, *, batch: int = 1000) -> torch.Tensor:
    """Mean rectified activation of each channel of the last conv layer on ``images``."""
    conv = list(model.modules())[last_conv_index(model)]
    sums = capture(model, conv, images, lambda _inputs, out: out.clamp_min(0).mean((2, 3)).sum(0), batch=batch)
    return torch.stack(sums).sum(0) / len(images)


def pruned(model: nn.Module, order: torch.Tensor, fraction: float) -> nn.Module:
    """A copy of ``model`` with the first ``fraction`` of channels in ``order`` of its last conv layer pruned
    (a persistent ``torch.nn.utils.prune`` mask, kept through fine-tuning)."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"prune fraction must lie in [0, 1], got {fraction}")
    clone = copy.deepcopy(model)
    conv = list(clone.modules())[last_conv_index(clone)]
    keep = torch.ones(conv.out_channels)
    keep[order[: round(fraction * conv.out_channels)]] = 0
    prune.custom_from_mask(conv, "weight", keep.view(-1, 1, 1, 1).expand_as(conv.weight))
    if conv.bias is not None:
        prune.custom_from_mask(conv, "bias", keep)
    return clone


@dataclass(frozen=True)
class PruneStep:
    """One point of the trade-off curve."""

    fraction: float
    clean_accuracy: float
    attack_success: float


def pruning_curve(model: nn.Module, clean_images: torch.Tensor, *, clean_accuracy: Callable[[nn.Module], float],
                  attack_success: Callable[[nn.Module], float],
                  fractions: Sequence[float] = (0.0, 0.2, 0.4, 0.6, 0.7, 0.8, 0.9)) -> list[PruneStep]:
    """Clean accuracy and attack success after pruning each share of the dormant-first channel order."""
    order = channel_activity(model, clean_images).argsort()
    steps = []
    for fraction in fractions:
        candidate = pruned(model, order, fraction)
        steps.append(PruneStep(fraction, clean_accuracy(candidate), attack_success(candidate)))
    return steps


def fine_prune(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *, fraction: float, epochs: int = 1,
               lr: float = 5e-4, seed: int = 0) -> nn.Module:
    """Prune ``fraction`` of the last conv layer (dormant first) and fine-tune the copy on clean data."""
    order = channel_activity(model, images).argsort()
    return fit(pruned(model, order, fraction), images, labels, epochs=epochs, lr=lr, seed=seed)
