"""What a thief does to a stolen model to hide its origin: fine-tune, prune, distil (the watermark papers' threats).

Every function returns a new model; the stolen one is left as it is.
"""
from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import prune as torch_prune

from trust_core.models.train_mnist import fit
from trust_core.models.training import constant, train_loop
from trust_core.models.wrappers import eval_mode


def fine_tune(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *, epochs: int = 2, lr: float = 5e-4,
              seed: int = 0) -> nn.Module:
    """Continue training a copy on the thief's own labelled data."""
    torch.manual_seed(seed)
    return fit(copy.deepcopy(model), images, labels, epochs=epochs, lr=lr, seed=seed)


def prune(model: nn.Module, *, amount: float) -> nn.Module:
    """Global magnitude pruning of a copy: zero the ``amount`` share of smallest conv/linear weights (Han et al.)."""
    if not 0 <= amount < 1:
        raise ValueError(f"prune amount must lie in [0, 1), got {amount}")
    clone = copy.deepcopy(model)
    weights = [(m, "weight") for m in clone.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    if not weights:
        raise ValueError("model has no conv or linear weights to prune")
    torch_prune.global_unstructured(weights, pruning_method=torch_prune.L1Unstructured, amount=amount)
    for module, name in weights:
        torch_prune.remove(module, name)
    return clone.eval()


def distill(teacher: nn.Module, images: torch.Tensor, *, build: Callable[[], nn.Module], temperature: float = 4.0,
            epochs: int = 3, lr: float = 1e-3, seed: int = 0) -> nn.Module:
    """Train a fresh ``build()`` student on the teacher's softened outputs on the thief's unlabelled ``images``."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    with torch.no_grad(), eval_mode(teacher):
        soft = torch.cat([F.softmax(teacher(chunk) / temperature, 1) for chunk in images.split(1000)])

    def soft_cross_entropy(net: nn.Module, x: torch.Tensor, idx: torch.Tensor, _: float) -> torch.Tensor:
        return -(soft[idx] * F.log_softmax(net(x) / temperature, 1)).sum(1).mean()

    torch.manual_seed(seed)
    return train_loop(build(), images, torch.arange(len(images)), soft_cross_entropy, epochs=epochs, lr=lr, seed=seed,
                      schedule=constant)
