"""Gradient leakage: recover a training image from the gradient it produced.

- DLG (Zhu et al., "Deep Leakage from Gradients", NeurIPS 2019): optimise a dummy image (and soft label) with
  L-BFGS so that its gradient matches the shared one in squared L2 distance.
- iDLG (Zhao et al., "iDLG: Improved Deep Leakage from Gradients", 2020): with cross-entropy the label is the one
  index whose last-layer weight-gradient row sums to a negative value, so only the image is optimised.
Shown on the small sigmoid LeNet of the DLG paper (twice-differentiable, smooth activations).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class LeakyLeNet(nn.Module):
    """DLG's LeNet for 28x28 grey inputs: three 5x5 sigmoid convolutions (strides 2, 2, 1) and one linear layer."""

    def __init__(self, classes: int = 10, *, seed: int = 0) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 12, 5, padding=2, stride=2), nn.Sigmoid(),
            nn.Conv2d(12, 12, 5, padding=2, stride=2), nn.Sigmoid(),
            nn.Conv2d(12, 12, 5, padding=2, stride=1), nn.Sigmoid(),
            nn.Flatten(),
        )
        self.fc = nn.Linear(12 * 7 * 7, classes)
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():  # DLG's initialisation: U(-0.5, 0.5)
            for p in self.parameters():
                p.copy_(torch.rand(p.shape, generator=gen) - 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.body(x))


def shared_gradient(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> list[torch.Tensor]:
    """What a federated client shares: the gradient of the mean cross-entropy w.r.t. every parameter."""
    loss = F.cross_entropy(model(images), labels)
    return [g.detach() for g in torch.autograd.grad(loss, list(model.parameters()))]


def infer_label(gradient: list[torch.Tensor], *, weight_index: int = -2) -> int:
    """iDLG: the label of a single sample from the last linear layer's weight gradient (rows: classes)."""
    row_sums = gradient[weight_index].sum(1)
    return int(row_sums.argmin())


def reconstruct(
    model: nn.Module,
    gradient: list[torch.Tensor],
    shape: tuple[int, ...],
    *,
    label: int | None = None,
    steps: int = 300,
    seed: int = 0,
) -> tuple[torch.Tensor, int]:
    """Gradient inversion of one sample. With ``label=None`` the label is inferred (iDLG); returns the recovered
    image in [0, 1] (shape ``shape``, batch of one) and the label used."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    params = list(model.parameters())
    if len(gradient) != len(params) or any(g.shape != p.shape for g, p in zip(gradient, params)):
        raise ValueError("gradient does not match the model's parameters")
    label = infer_label(gradient) if label is None else label
    target = torch.tensor([label])
    gen = torch.Generator().manual_seed(seed)
    dummy = torch.rand((1, *shape), generator=gen).requires_grad_(True)
    optimizer = torch.optim.LBFGS([dummy], lr=1.0, max_iter=steps, history_size=100, line_search_fn="strong_wolfe",
                                  tolerance_grad=1e-12, tolerance_change=1e-14)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        grads = torch.autograd.grad(F.cross_entropy(model(dummy), target), params, create_graph=True)
        distance = sum(((g - s) ** 2).sum() for g, s in zip(grads, gradient))
        distance.backward()
        return distance

    optimizer.step(closure)
    return dummy.detach().clamp(0, 1), label
