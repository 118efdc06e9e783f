"""The small MNIST CNN used by the attack core, its tests and the course experiments."""
from __future__ import annotations

import torch
from torch import nn


class MnistCNN(nn.Module):
    """Two conv layers + two linear layers (the classic PyTorch MNIST example shape); inputs in [0, 1]."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 3), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3), nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(2 * width * 12 * 12, 128), nn.ReLU(), nn.Linear(128, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features((x - 0.1307) / 0.3081))


def load_mnist_cnn(name: str = "mnist_cnn") -> MnistCNN:
    """The shipped MNIST CNN (``apf train mnist``), in eval mode."""
    from trust_core.models.registry import weights_path

    model = MnistCNN()
    model.load_state_dict(torch.load(weights_path(name), map_location="cpu", weights_only=True))
    return model.eval()
