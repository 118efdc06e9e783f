"""Spectral signatures — Tran, Li & Madry, "Spectral signatures in backdoor attacks", NeurIPS 2018.

Per class, centre the hidden representations, score each sample by its squared projection on the top right
singular vector, and remove the ``1.5 × expected poison rate`` highest-scoring share of the class.
"""
from __future__ import annotations

import torch


def spectral_scores(features: torch.Tensor) -> torch.Tensor:
    """Outlier score of each row: squared projection of the centred features on their top singular vector
    (randomised SVD, Halko et al. 2011, so that wide conv features stay cheap)."""
    centred = features - features.mean(0, keepdim=True)
    _, _, v = torch.svd_lowrank(centred, q=min(6, *centred.shape), niter=6)
    return (centred @ v[:, 0]) ** 2


def spectral_signatures(features: torch.Tensor, labels: torch.Tensor, *, expected_rate: float,
                        multiplier: float = 1.5) -> torch.Tensor:
    """Boolean mask of the samples to remove: in each class, the top ``multiplier × expected_rate × N`` scores.

    ``expected_rate`` is the attacker's poison budget as a share of the whole training set; since all poisons carry
    the target label, each class removes up to that many samples (capped at half the class).
    """
    if not 0 < expected_rate <= 1:
        raise ValueError(f"expected_rate must lie in (0, 1], got {expected_rate}")
    if len(features) != len(labels):
        raise ValueError(f"got {len(features)} feature rows but {len(labels)} labels")
    suspect = torch.zeros(len(labels), dtype=torch.bool)
    budget = round(multiplier * expected_rate * len(labels))
    for label in labels.unique():
        idx = (labels == label).nonzero().flatten()
        if len(idx) < 3:
            continue
        scores = spectral_scores(features[idx].double())
        suspect[idx[scores.topk(min(budget, len(idx) // 2)).indices]] = True
    return suspect
