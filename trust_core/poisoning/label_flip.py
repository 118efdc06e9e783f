"""Label flipping — the label-noise poisoning of Biggio, Nelson & Laskov, "Support vector machines under
adversarial label noise", ACML 2011, and Xiao, Xiao & Eckert, "Adversarial label flips attack on support vector
machines", ECAI 2012.

``random``: each flipped label becomes a uniformly drawn other class. ``targeted``: labels of class ``source`` become
``target`` (a share ``rate`` of that class), which teaches the model to confuse the two classes.
"""
from __future__ import annotations

import math

import torch


def flip_labels(labels: torch.Tensor, *, rate: float, num_classes: int = 10, source: int | None = None,
                target: int | None = None, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(poisoned labels, boolean mask of flipped samples)``.

    Without ``source``/``target`` a share ``rate`` of all labels is flipped at random; with both, a share ``rate``
    of class ``source`` is relabelled ``target``.
    """
    if not isinstance(rate, (int, float)) or not math.isfinite(rate) or not 0 <= rate <= 1:
        raise ValueError(f"flip rate must lie in [0, 1], got {rate!r}")
    if labels.ndim != 1 or labels.dtype != torch.int64:
        raise ValueError("labels must be a 1-D int64 tensor")
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}")
    if (source is None) != (target is None):
        raise ValueError("give both source and target for a targeted flip, or neither")
    for name, value in (("source", source), ("target", target)):
        if value is not None and not 0 <= value < num_classes:
            raise ValueError(f"unknown {name} label {value}: labels are 0..{num_classes - 1}")
    if source is not None and source == target:
        raise ValueError("source and target must differ")
    gen = torch.Generator().manual_seed(seed)
    pool = (labels == source).nonzero().flatten() if source is not None else torch.arange(len(labels))
    chosen = pool[torch.randperm(len(pool), generator=gen)[: round(rate * len(pool))]]
    flipped = labels.clone()
    if target is not None:
        flipped[chosen] = target
    else:
        shift = torch.randint(1, num_classes, (len(chosen),), generator=gen)
        flipped[chosen] = (labels[chosen] + shift) % num_classes
    mask = torch.zeros(len(labels), dtype=torch.bool)
    mask[chosen] = True
    return flipped, mask
