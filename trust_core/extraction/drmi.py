"""DRMI data reduction (He et al., "DRMI: A Dataset Reduction Technology based on Mutual Information for Black-box
Attacks", USENIX Security 2021).

Choose ``k`` of ``n`` candidate images whose summed pairwise mutual information x^T M x (x one-hot selection
vector, M the MI matrix of Algorithm 1) is minimal: the least redundant queries. Algorithm 2 initialises x greedily
(add the candidate with the lowest MI to those already chosen); Algorithm 3 improves it by one-hot replacement
(swap one chosen and one unchosen candidate while that lowers the objective).
"""
from __future__ import annotations

import torch

from trust_core.extraction.mutual_information import pairwise_mutual_information


def _check(mi: torch.Tensor, k: int) -> None:
    if mi.ndim != 2 or mi.shape[0] != mi.shape[1]:
        raise ValueError(f"mi must be a square (N, N) matrix, got shape {tuple(mi.shape)}")
    if not isinstance(k, int) or not 1 <= k <= mi.shape[0]:
        raise ValueError(f"k must be an integer in [1, {mi.shape[0]}], got {k!r}")


def subset_mutual_information(mi: torch.Tensor, chosen: torch.Tensor) -> float:
    """The objective: summed MI over unordered pairs of ``chosen`` indices."""
    return float(mi[chosen][:, chosen].sum() / 2)


def greedy_choice(mi: torch.Tensor, k: int) -> torch.Tensor:
    """Algorithm 2: start from the candidate with the lowest total MI, then repeatedly add the candidate whose summed
    MI to the chosen set is lowest."""
    _check(mi, k)
    chosen = torch.zeros(mi.shape[0], dtype=torch.bool)
    first = int(mi.sum(1).argmin())
    chosen[first] = True
    cost = mi[:, first].clone()  # summed MI of every candidate to the chosen set
    order = [first]
    for _ in range(k - 1):
        nxt = int(cost.masked_fill(chosen, float("inf")).argmin())
        chosen[nxt] = True
        cost += mi[:, nxt]
        order.append(nxt)
    return torch.tensor(order)


def one_hot_replacement(mi: torch.Tensor, chosen: torch.Tensor, *, max_swaps: int = 10_000) -> torch.Tensor:
    """Algorithm 3: swap a chosen candidate i for an unchosen j whenever cost(j) - MI(i, j) < cost(i), the best swap
    first, until no swap lowers the summed MI (or ``max_swaps``)."""
    _check(mi, len(chosen))
    mask = torch.zeros(mi.shape[0], dtype=torch.bool)
    mask[chosen] = True
    cost = mi[:, mask].sum(1)
    for _ in range(max_swaps):
        inside, outside = mask.nonzero().flatten(), (~mask).nonzero().flatten()
        if not len(outside):
            break
        # gain[a, b] = objective change when replacing inside[a] by outside[b]
        gain = cost[outside][None, :] - mi[inside][:, outside] - cost[inside][:, None]
        best = int(gain.argmin())
        if gain.view(-1)[best] >= -1e-9:
            break
        i, j = int(inside[best // len(outside)]), int(outside[best % len(outside)])
        mask[i], mask[j] = False, True
        cost += mi[:, j] - mi[:, i]
    return mask.nonzero().flatten()


class DRMI:
    """DRMI over a candidate pool: the MI matrices (Algorithm 1) are computed once, per group when ``groups`` is
    given (e.g. the attacker's own labels of its pool: the quota is split evenly, which keeps classes balanced and
    the matrices small), and :meth:`select` runs Algorithms 2-3 for any budget."""

    def __init__(self, images: torch.Tensor, *, groups: torch.Tensor | None = None, bins: int = 16) -> None:
        if groups is None:
            groups = torch.zeros(len(images), dtype=torch.long)
        if len(groups) != len(images):
            raise ValueError(f"groups has {len(groups)} entries for {len(images)} images")
        self.members = [(groups == value).nonzero().flatten() for value in groups.unique()]
        self.matrices = [pairwise_mutual_information(images[m], bins=bins) for m in self.members]

    def select(self, k: int, *, max_swaps: int = 10_000) -> torch.Tensor:
        """Sorted indices (into the pool) of the ``k`` chosen images."""
        quotas = torch.full((len(self.members),), k // len(self.members))
        quotas[: k % len(self.members)] += 1
        picked = []
        for members, mi, quota in zip(self.members, self.matrices, quotas.tolist()):
            if quota > len(members):
                raise ValueError(f"a group has {len(members)} images, fewer than its quota {quota}")
            if quota:
                picked.append(members[one_hot_replacement(mi, greedy_choice(mi, quota), max_swaps=max_swaps)])
        return torch.cat(picked).sort().values


def drmi_select(
    images: torch.Tensor, k: int, *, groups: torch.Tensor | None = None, bins: int = 16, max_swaps: int = 10_000,
) -> torch.Tensor:
    """Indices of ``k`` of ``images`` chosen by DRMI (Algorithms 1-3); see :class:`DRMI`."""
    return DRMI(images, groups=groups, bins=bins).select(k, max_swaps=max_swaps)
