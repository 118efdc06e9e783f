"""Gradient leakage: recover a training image from the gradient it produced.

- DLG (Zhu et al., "Deep Leakage from Gradients", NeurIPS 2019): optimise a dummy image (and soft label) with
  L-BFGS so that its gradient matches the shared one in squared L2 distance.
- iDLG (Zhao et al., "iDLG: Improved Deep Leakage from Gradients", 2020): with cross-entropy the label is the one
  index whose last-layer weight-gradient row sums to a negative value, so only the image is optimised.
Shown on the small sigmoid LeNet of the DLG paper (twice-differentiable, smooth activations).
- Input-gradient directions (what an FGSM-style payload shares): :func:`match_gradient_direction`, the cosine
  objective with a total-variation prior of Geiping et al. ("Inverting Gradients", NeurIPS 2020), through a
  softplus-smoothed copy of a ReLU network (:func:`smoothed`; Dombrowski et al., NeurIPS 2019), whose second
  derivatives, unlike ReLU's, are not zero almost everywhere.
"""
from __future__ import annotations

import copy
from collections.abc import Callable

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


def smoothed(model: nn.Module, *, beta: float = 10.0) -> nn.Module:
    """A frozen copy of ``model`` with every ReLU replaced by Softplus(β) (→ ReLU as β → ∞)."""
    if not beta > 0:
        raise ValueError(f"beta must be > 0, got {beta}")
    out = copy.deepcopy(model).eval()
    for module in list(out.modules()):
        for name, child in module.named_children():
            if isinstance(child, nn.ReLU):
                setattr(module, name, nn.Softplus(beta=beta))
    for p in out.parameters():
        p.requires_grad_(False)
    return out


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of vertical and horizontal neighbours, per image of an (N, C, H, W) batch."""
    return ((x[..., 1:, :] - x[..., :-1, :]).abs().mean((1, 2, 3))
            + (x[..., 1:] - x[..., :-1]).abs().mean((1, 2, 3)))


def match_gradient_direction(
    gradient_of: Callable[[torch.Tensor], torch.Tensor],
    observed: torch.Tensor,
    init: torch.Tensor,
    *,
    steps: int = 100,
    lr: float = 0.01,
    tv: float = 1.0,
    resolution: int | None = None,
) -> torch.Tensor:
    """Images x in [0, 1] whose input gradient points like ``observed``: Adam on 1 − cos(gradient_of(x), observed)
    + ``tv``·TV(x), per image, from ``init``. ``gradient_of`` must return a differentiable (create_graph) gradient
    of x's shape; ``resolution``: optimise a ``resolution``-px image upsampled bilinearly (a smoothness prior)."""
    if steps < 1 or not lr > 0:
        raise ValueError(f"steps must be >= 1 and lr > 0, got {steps} and {lr}")
    if observed.shape != init.shape:
        raise ValueError(f"observed {tuple(observed.shape)} and init {tuple(init.shape)} differ in shape")
    size = init.shape[-2:]
    start = init if resolution is None else F.interpolate(init, size=resolution, mode="area")
    low = start.detach().clone().requires_grad_(True)
    optimizer = torch.optim.Adam([low], lr=lr)

    def image() -> torch.Tensor:
        x = low if resolution is None else F.interpolate(low, size=size, mode="bilinear", align_corners=False)
        return x.clamp(0, 1)

    for _ in range(steps):
        x = image()
        agreement = F.cosine_similarity(gradient_of(x).flatten(1), observed.flatten(1), dim=1)
        loss = (1 - agreement + tv * total_variation(x)).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return image().detach()
