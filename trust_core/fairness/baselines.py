"""Debiasing baselines of the AEDA tables: original training, under-sampling, reweighting, adversarial debiasing.

Every method trains a :class:`~trust_core.fairness.models.DebiasNet` with the same loop
(:func:`fit_debias`: Adam + one-cycle schedule, a fixed number of optimisation steps set by the size of the
original training split), so methods differ only in their data and loss.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from trust_core.fairness.datasets import BiasedData, Split
from trust_core.fairness.models import DebiasNet, TunedBackbone, backbone_features, reverse_grad

#: ``loss(net, x, y, b, w)`` for one batch; ``w`` are per-sample weights or None.
BatchLoss = Callable[[DebiasNet, torch.Tensor, torch.Tensor, torch.Tensor, "torch.Tensor | None"], torch.Tensor]


def new_net(data: BiasedData, *, seed: int, width: int = 16) -> DebiasNet:
    """A fresh model for ``data``: the small CNN of ``width``, or, when the data names a backbone, that
    recognizer's embedder (frozen, or fine-tuned at ``data.backbone_lr_scale``) with a trained layer on top
    (seeded by ``seed``)."""
    torch.manual_seed(seed)
    features = None
    if data.backbone is not None:
        from trust_core.faces.recognizers import get_recognizer

        module = get_recognizer(data.backbone).module
        with torch.no_grad():
            embedding_dim = module(data.train.x[:2]).shape[1]
        features = backbone_features(module, embedding_dim=embedding_dim, lr_scale=data.backbone_lr_scale)
    return DebiasNet(n_target=data.n_target, n_bias=data.n_bias, in_channels=data.train.x.shape[1], width=width,
                     features=features)


def steps_for(data: BiasedData, *, epochs: int, batch: int) -> int:
    if epochs < 1 or batch < 1:
        raise ValueError(f"epochs and batch must be positive, got {epochs} and {batch}")
    return epochs * math.ceil(len(data.train) / batch)


def parameter_groups(net: DebiasNet, lr: float) -> list[dict]:
    """Adam groups: every fine-tuned backbone at ``lr`` times its scale, the rest of the model at ``lr``."""
    tuned = [m for m in net.modules() if isinstance(m, TunedBackbone)]
    in_tuned = {id(p) for m in tuned for p in m.parameters()}
    rest = [p for p in net.parameters() if id(p) not in in_tuned]
    return [{"params": rest, "lr": lr}, *({"params": list(m.parameters()), "lr": lr * m.lr_scale} for m in tuned)]


def fit_debias(net: DebiasNet, split: Split, batch_loss: BatchLoss, *, steps: int, batch: int = 128,
               lr: float = 1e-3, seed: int = 0, weights: torch.Tensor | None = None) -> DebiasNet:
    """``steps`` Adam steps on random batches of ``split`` (reshuffled each pass) under ``batch_loss``; a
    :class:`~trust_core.fairness.models.TunedBackbone` trains at its share of ``lr``."""
    if len(split) == 0:
        raise ValueError("cannot train on an empty split")
    gen = torch.Generator().manual_seed(seed)
    groups = parameter_groups(net, lr)
    opt = torch.optim.Adam(groups)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[3 * g["lr"] for g in groups], total_steps=steps)
    order, pos = torch.randperm(len(split), generator=gen), 0
    net.train()
    for _ in range(steps):
        if pos >= len(order):
            order, pos = torch.randperm(len(split), generator=gen), 0
        idx = order[pos : pos + batch]
        pos += batch
        loss = batch_loss(net, split.x[idx], split.y[idx], split.b[idx], None if weights is None else weights[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return net.eval()


def predict(net: DebiasNet, x: torch.Tensor, *, batch: int = 2000) -> np.ndarray:
    """Target predictions as a numpy array."""
    with torch.no_grad():
        return torch.cat([net(x[i : i + batch]).argmax(1) for i in range(0, len(x), batch)]).numpy()


def target_loss(net: DebiasNet, x: torch.Tensor, y: torch.Tensor, b: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
    loss = F.cross_entropy(net(x), y, reduction="none")
    return loss.mean() if w is None else (w * loss).mean()


def original(data: BiasedData, *, seed: int = 0, epochs: int = 3, batch: int = 128, lr: float = 1e-3,
             width: int = 16) -> DebiasNet:
    """Plain empirical-risk training on the biased training split."""
    return fit_debias(new_net(data, seed=seed, width=width), data.train, target_loss,
                      steps=steps_for(data, epochs=epochs, batch=batch), batch=batch, lr=lr, seed=seed)


def cell_counts(y: torch.Tensor, b: torch.Tensor, n_target: int, n_bias: int) -> torch.Tensor:
    """Counts of every (target, bias) cell, shape (n_target, n_bias)."""
    return torch.bincount(y * n_bias + b, minlength=n_target * n_bias).view(n_target, n_bias)


def undersample_index(split: Split, *, n_target: int, n_bias: int, seed: int = 0) -> torch.Tensor:
    """Indices that keep, in each target class, as many samples from every bias group as its rarest group has."""
    gen = torch.Generator().manual_seed(seed)
    counts = cell_counts(split.y, split.b, n_target, n_bias)
    keep = []
    for t in range(n_target):
        present = counts[t][counts[t] > 0]
        if len(present) == 0:
            continue
        quota = int(present.min())
        for g in range(n_bias):
            members = torch.nonzero((split.y == t) & (split.b == g)).flatten()
            keep.append(members[torch.randperm(len(members), generator=gen)[:quota]])
    return torch.cat(keep)


def undersample(data: BiasedData, *, seed: int = 0, epochs: int = 3, batch: int = 128, lr: float = 1e-3,
                width: int = 16) -> DebiasNet:
    """Original training on a bias-balanced subset (same number of steps)."""
    subset = data.train.subset(undersample_index(data.train, n_target=data.n_target, n_bias=data.n_bias, seed=seed))
    return fit_debias(new_net(data, seed=seed, width=width), subset, target_loss,
                      steps=steps_for(data, epochs=epochs, batch=batch), batch=batch, lr=lr, seed=seed)


def reweighing_weights(split: Split, *, n_target: int, n_bias: int) -> torch.Tensor:
    """Kamiran & Calders (2012) reweighing: w(t, b) = P(t) P(b) / P(t, b), normalised to mean 1."""
    counts = cell_counts(split.y, split.b, n_target, n_bias).double()
    expected = counts.sum(1, keepdim=True) * counts.sum(0, keepdim=True) / counts.sum()
    weights = (expected / counts.clamp_min(1))[split.y, split.b]
    return (weights / weights.mean()).float()


def reweight(data: BiasedData, *, seed: int = 0, epochs: int = 3, batch: int = 128, lr: float = 1e-3,
             width: int = 16) -> DebiasNet:
    """Original training with the cross-entropy of each sample weighted by :func:`reweighing_weights`."""
    weights = reweighing_weights(data.train, n_target=data.n_target, n_bias=data.n_bias)
    return fit_debias(new_net(data, seed=seed, width=width), data.train, target_loss,
                      steps=steps_for(data, epochs=epochs, batch=batch), batch=batch, lr=lr, seed=seed,
                      weights=weights)


def adversarial_debiasing(data: BiasedData, *, seed: int = 0, epochs: int = 3, batch: int = 128, lr: float = 1e-3,
                          width: int = 16, strength: float = 1.0) -> DebiasNet:
    """A bias head reads the shared features through gradient reversal, so the features unlearn the bias
    (Ganin & Lempitsky 2015; Wang et al., ICCV 2019 — the "Adv debiasing" row of the AEDA tables)."""

    def loss(net: DebiasNet, x: torch.Tensor, y: torch.Tensor, b: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
        features = net.embed(x)
        bias_logits = net.bias_head(reverse_grad(features, strength))
        return F.cross_entropy(net.target_head(features), y) + F.cross_entropy(bias_logits, b)

    return fit_debias(new_net(data, seed=seed, width=width), data.train, loss,
                      steps=steps_for(data, epochs=epochs, batch=batch), batch=batch, lr=lr, seed=seed)
