"""Activation clustering — Chen, Carvalho, Baracaldo, Ludwig, Edwards, Lee, Molloy & Srivastava, "Detecting
backdoor attacks on deep neural networks by activation clustering", SafeAI@AAAI 2019 (arXiv 2018).

Per class, reduce the penultimate activations to ``components`` dimensions with ICA, split them with 2-means and
call the smaller cluster poisoned when it holds less than ``size_threshold`` of the class (the paper's
relative-size criterion; a clean class splits roughly evenly or not at all).

The poison/clean split is the 2-means optimum, but on a 10-d ICA space with heavy-tailed clean components it is a
narrow one: at 1% BadNets on MNIST (poisons ≈ 9% of the target class), 4 k-means++ restarts land in a clean split
(≈ 45/55, 0–2% of the poisons), 50 restarts find the lower-inertia poison split (≥ 96%). Hence ``n_init=50``.
"""
from __future__ import annotations

import numpy as np
import torch


def activation_clustering(features: torch.Tensor, labels: torch.Tensor, *, components: int = 10,
                          size_threshold: float = 0.35, n_init: int = 50,
                          seed: int = 0) -> torch.Tensor:
    """Boolean mask of the samples in small clusters (suspected poisons)."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import FastICA

    if len(features) != len(labels):
        raise ValueError(f"got {len(features)} feature rows but {len(labels)} labels")
    if n_init < 1:
        raise ValueError(f"n_init must be >= 1, got {n_init}")
    if not 0 < size_threshold < 0.5:
        raise ValueError(f"size_threshold must lie in (0, 0.5), got {size_threshold}")
    suspect = torch.zeros(len(labels), dtype=torch.bool)
    for label in labels.unique():
        idx = (labels == label).nonzero().flatten()
        if len(idx) <= components:
            continue
        acts = features[idx].double().numpy()
        reduced = FastICA(n_components=components, random_state=seed, max_iter=400, tol=1e-3,
                          whiten="unit-variance").fit_transform(acts - acts.mean(0))
        assignment = KMeans(n_clusters=2, n_init=n_init, random_state=seed).fit_predict(reduced)
        small = int(np.bincount(assignment, minlength=2).argmin())
        if (assignment == small).mean() < size_threshold:
            suspect[idx[torch.from_numpy(assignment == small)]] = True
    return suspect
