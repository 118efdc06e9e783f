"""Fingerprinting by decision vectors (ModelDiff-style: Li, Wang, Ma, Liu, Xu & Liu, "ModelDiff: testing-based DNN
similarity comparison for model reuse detection", ISSTA 2021).

For N input pairs ``(x_ia, x_ib)`` a model's decision vector is ``V_f = [sim(f(x_ia), f(x_ib))]_i`` with ``sim`` the
cosine similarity of the output probabilities. A copy (stolen, fine-tuned, pruned) keeps the original's quirks
on these pairs; an independently trained model of the same task does not. Models are compared by the
correlation distance between their decision vectors, and the distances of a population give a ROC.
Pairs: a natural image and a Gaussian-noised copy of it (noise moves inputs into each model's own ambiguous region).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from torch import nn

from trust_core.models.wrappers import eval_mode


@dataclass(frozen=True)
class InputPairs:
    """The verifier's N probe pairs: ``a`` and ``b``, both (N, C, H, W) in [0, 1]."""

    a: torch.Tensor
    b: torch.Tensor

    @classmethod
    def noisy(cls, pool: torch.Tensor, *, size: int = 1000, sigma: float = 0.5, seed: int = 0) -> InputPairs:
        """``size`` images drawn from ``pool`` (with replacement), each paired with a copy plus N(0, σ²) noise."""
        if size < 2 or sigma <= 0:
            raise ValueError(f"need size >= 2 and sigma > 0, got {size}, {sigma}")
        gen = torch.Generator().manual_seed(seed)
        a = pool[torch.randint(len(pool), (size,), generator=gen)]
        return cls(a, (a + sigma * torch.randn(a.shape, generator=gen)).clamp(0, 1))


def decision_vector(model: nn.Module, pairs: InputPairs, *, batch: int = 1000) -> torch.Tensor:
    """``V_f``: per pair, the cosine similarity of the model's output probabilities on its two inputs."""
    with torch.no_grad(), eval_mode(model):
        return torch.cat([F.cosine_similarity(F.softmax(model(a), 1), F.softmax(model(b), 1), dim=1)
                          for a, b in zip(pairs.a.split(batch), pairs.b.split(batch))])


def vector_distance(u: torch.Tensor, v: torch.Tensor) -> float:
    """Correlation distance ``1 - pearson(u, v)`` (0: the same decisions; about 1: unrelated)."""
    if u.shape != v.shape or u.ndim != 1 or len(u) < 2:
        raise ValueError(f"need two decision vectors of the same length >= 2, got {tuple(u.shape)}, {tuple(v.shape)}")
    return 1.0 - float(torch.corrcoef(torch.stack([u, v]).double())[0, 1])


def distances(reference: nn.Module, suspects: Sequence[nn.Module], pairs: InputPairs) -> list[float]:
    """Distance from the reference model's decision vector to each suspect's."""
    base = decision_vector(reference, pairs)
    return [vector_distance(base, decision_vector(model, pairs)) for model in suspects]


def copy_auc(copies: Sequence[float], independents: Sequence[float]) -> float:
    """ROC AUC of telling copies from independent models by (small) distance."""
    if not copies or not independents:
        raise ValueError("need at least one copy and one independent model")
    return float(roc_auc_score([1] * len(copies) + [0] * len(independents), [-d for d in [*copies, *independents]]))
