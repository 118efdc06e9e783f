"""Spectral signatures — Tran, Li & Madry, "Spectral signatures in backdoor attacks", NeurIPS 2018.

Per class, centre the hidden representations, score each sample by its squared projection on the top right
singular vector, and remove the ``1.5 × expected poison count`` highest-scoring samples of the class.

The top singular vector only points at the poisons when their mean shift outweighs the class's own largest
variance (Tran et al.'s ε-spectral separability). On the small MNIST CNN at 1% BadNets (≈ 9% of the target class)
it does not: the poisons add variance p(1 - p)·|Δμ|² ≈ 17 along their shift while the class's top direction has
≈ 79, and the plain score finds 13% of the poisons (10k training images) and 5.5% (all 55k). ``whiten=True`` first
whitens the class in its top ``components`` principal directions and scores by the squared norm there (SPECTRE,
Hayase, Kong, Somani & Oh, ICML 2021, with its QUE score at α = 0): the poisons' direction has little clean
variance, so it stands out once every direction has unit variance — 96% (10k) and 89.6% (55k) of the poisons.
"""
from __future__ import annotations

import torch


def spectral_scores(features: torch.Tensor, *, whiten: bool = False, components: int = 10) -> torch.Tensor:
    """Outlier score of each row of one class's ``features``.

    Plain (Tran et al.): squared projection of the centred rows on their top singular vector (exact SVD up to 1024
    columns, else randomised, Halko et al. 2011, so that wide conv features stay cheap). Whitened: squared norm of
    the rows in the top ``components`` principal directions, each scaled to unit variance (a Mahalanobis distance
    in that subspace).
    """
    centred = features - features.mean(0, keepdim=True)
    if centred.shape[1] <= 1024:
        u, s, _ = torch.linalg.svd(centred, full_matrices=False)
    else:
        u, s, _ = torch.svd_lowrank(centred, q=min(components if whiten else 6, *centred.shape), niter=6)
    u, s = u[:, :components], s[:components]
    if not whiten:
        return (u[:, 0] * s[0]) ** 2
    keep = s > s[0] * 1e-6  # drop numerically empty directions
    return (u[:, keep] ** 2).sum(1) * (len(features) - 1)


def spectral_signatures(features: torch.Tensor, labels: torch.Tensor, *, expected_rate: float,
                        multiplier: float = 1.5, whiten: bool = False, components: int = 10) -> torch.Tensor:
    """Boolean mask of the samples to remove: in each class, the top ``multiplier × expected_rate × N`` scores.

    ``expected_rate`` is the attacker's poison budget as a share of the whole training set; since all poisons carry
    the target label, each class removes up to that many samples (capped at half the class).
    """
    if not 0 < expected_rate <= 1:
        raise ValueError(f"expected_rate must lie in (0, 1], got {expected_rate}")
    if len(features) != len(labels):
        raise ValueError(f"got {len(features)} feature rows but {len(labels)} labels")
    if components < 1:
        raise ValueError(f"components must be >= 1, got {components}")
    suspect = torch.zeros(len(labels), dtype=torch.bool)
    budget = round(multiplier * expected_rate * len(labels))
    for label in labels.unique():
        idx = (labels == label).nonzero().flatten()
        if len(idx) < 3:
            continue
        scores = spectral_scores(features[idx].double(), whiten=whiten, components=components)
        suspect[idx[scores.topk(min(budget, len(idx) // 2)).indices]] = True
    return suspect
