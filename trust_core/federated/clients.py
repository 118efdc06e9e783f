"""Federated clients: honest local training and two malicious behaviours.

- Label flipping (Biggio et al., 2012; Tolpegin et al., ESORICS 2020): train on y -> (classes − 1 − y).
- Boosted model replacement (Bagdasaryan et al., "How To Backdoor Federated Learning", AISTATS 2020; Bhagoji et
  al., ICML 2019): submit G + boost · (X − G), scaling the malicious update X − G so it survives averaging.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from trust_core.models.train_mnist import fit


def get_weights(model: nn.Module) -> list[np.ndarray]:
    return [v.detach().cpu().numpy().copy() for v in model.state_dict().values()]


def set_weights(model: nn.Module, weights: list[np.ndarray]) -> nn.Module:
    keys = list(model.state_dict())
    if len(keys) != len(weights):
        raise ValueError(f"expected {len(keys)} arrays, got {len(weights)}")
    model.load_state_dict({k: torch.as_tensor(w) for k, w in zip(keys, weights)})
    return model


@dataclass
class Client:
    """One client: its data and how it behaves. ``flip_labels`` and ``boost`` make it malicious."""

    images: torch.Tensor
    labels: torch.Tensor
    flip_labels: bool = False
    boost: float = 1.0
    classes: int = 10

    @property
    def malicious(self) -> bool:
        return self.flip_labels or self.boost != 1.0

    def fit(
        self, weights: list[np.ndarray], make_model: Callable[[], nn.Module], *, epochs: int = 1, batch: int = 32,
        lr: float = 1e-3, seed: int = 0,
    ) -> tuple[list[np.ndarray], int]:
        """Local training from the global ``weights``; returns the submitted weights and the example count."""
        torch.manual_seed(seed)
        labels = self.classes - 1 - self.labels if self.flip_labels else self.labels
        model = set_weights(make_model(), weights)
        model = fit(model, self.images, labels, epochs=epochs, batch=batch, lr=lr, seed=seed)
        local = get_weights(model)
        if self.boost != 1.0:
            local = [g + self.boost * (x - g) for g, x in zip(weights, local)]
        return local, len(self.images)
