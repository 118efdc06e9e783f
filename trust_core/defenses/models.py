"""Small MNIST networks for the defense experiments: cheap to train adversarially and exact under IBP."""
from __future__ import annotations

from torch import nn


def stride_cnn(width: int = 16, hidden: int = 100) -> nn.Sequential:
    """Two stride-2 4x4 convolutions + two linear layers (Gowal et al.'s "small" IBP model); inputs in [0, 1].

    A plain ``nn.Sequential`` of Conv2d / ReLU / Flatten / Linear, so :mod:`trust_core.defenses.ibp` bounds it exactly.
    """
    return nn.Sequential(
        nn.Conv2d(1, width, 4, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(width, 2 * width, 4, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(2 * width * 7 * 7, hidden), nn.ReLU(), nn.Linear(hidden, 10),
    )
