"""Fine-pruning — Liu, Dolan-Gavitt & Garg, "Fine-Pruning: defending against backdooring attacks on deep neural
networks", RAID 2018.

Prune the neurons of the last convolutional layer in increasing order of their mean activation on clean data
(backdoor neurons lie dormant on clean inputs), then fine-tune on clean data. :func:`pruning_curve` gives the
trade-off: clean accuracy and attack success against the pruned share.

``granularity`` says what a neuron is. ``"channel"`` (a whole feature map, as the paper prunes) fails against a
patch trigger on MNIST: a conv channel is translation-equivariant, so the stroke detectors that fire on the white
patch are busy on clean digits and are pruned last; the backdoor lives in the dense weights that read the
trigger's position. ``"unit"`` prunes single (channel, row, column) activations of the layer: the border
positions the trigger sits on are dormant on clean digits, so they go first, and with them the backdoor. Fine-tuning
cannot do that part alone: those positions are zero on clean data, so their readout weights get no gradient.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from trust_core.backdoor.features import capture
from trust_core.models.train_mnist import fit

GRANULARITIES = ("channel", "unit")


class MaskedConv(nn.Module):
    """``conv(x) * mask``: a conv layer with pruned output neurons (``mask`` (C, 1, 1) or (C, H, W), a buffer)."""

    def __init__(self, conv: nn.Conv2d, mask: torch.Tensor) -> None:
        super().__init__()
        self.conv = conv
        self.register_buffer("mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) * self.mask


def last_conv_name(model: nn.Module) -> str:
    """Qualified name of the model's last ``nn.Conv2d`` (stable across deep copies)."""
    names = [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    if not names:
        raise ValueError("model has no nn.Conv2d layer to prune")
    return names[-1]


def _check(granularity: str) -> None:
    if granularity not in GRANULARITIES:
        raise ValueError(f"unknown granularity {granularity!r}; choose from {', '.join(GRANULARITIES)}")


def activity(model: nn.Module, images: torch.Tensor, *, granularity: str = "unit", batch: int = 1000) -> torch.Tensor:
    """Mean rectified activation of each neuron of the last conv layer on ``images``: (C,) or (C, H, W)."""
    _check(granularity)
    conv = model.get_submodule(last_conv_name(model))
    dims = (0, 2, 3) if granularity == "channel" else (0,)
    sums = capture(model, conv, images, lambda _inputs, out: out.clamp_min(0).sum(dims), batch=batch)
    return torch.stack(sums).sum(0) / len(images)


def pruned(model: nn.Module, activity_map: torch.Tensor, fraction: float) -> nn.Module:
    """A copy of ``model`` whose last conv layer has its ``fraction`` least active neurons (by ``activity_map``,
    from :func:`activity`) masked out; the mask stays through fine-tuning."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"prune fraction must lie in [0, 1], got {fraction}")
    clone = copy.deepcopy(model)
    name = last_conv_name(clone)
    mask = torch.ones(activity_map.numel())
    mask[activity_map.flatten().argsort()[: round(fraction * activity_map.numel())]] = 0
    shape = activity_map.shape if activity_map.ndim == 3 else (-1, 1, 1)
    parent, _, child = name.rpartition(".")
    holder = clone.get_submodule(parent) if parent else clone
    setattr(holder, child, MaskedConv(getattr(holder, child), mask.view(shape)))
    return clone


@dataclass(frozen=True)
class PruneStep:
    """One point of the trade-off curve."""

    fraction: float
    clean_accuracy: float
    attack_success: float


def pruning_curve(model: nn.Module, clean_images: torch.Tensor, *, clean_accuracy: Callable[[nn.Module], float],
                  attack_success: Callable[[nn.Module], float], granularity: str = "unit",
                  fractions: Sequence[float] = (0.0, 0.2, 0.4, 0.6, 0.8, 0.9)) -> list[PruneStep]:
    """Clean accuracy and attack success after pruning each share of the dormant-first order (no fine-tuning)."""
    act = activity(model, clean_images, granularity=granularity)
    return [PruneStep(f, clean_accuracy(m), attack_success(m)) for f in fractions for m in [pruned(model, act, f)]]


def fine_prune(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *, fraction: float,
               granularity: str = "unit", epochs: int = 1, lr: float = 2e-4, seed: int = 0) -> nn.Module:
    """Prune ``fraction`` of the last conv layer (dormant first) and fine-tune the copy on clean data."""
    act = activity(model, images, granularity=granularity)
    return fit(pruned(model, act, fraction), images, labels, epochs=epochs, lr=lr, seed=seed)
