"""Membership inference against classifiers.

- Loss threshold (Yeom et al., "Privacy Risk in Machine Learning: Analyzing the Connection to Overfitting",
  CSF 2018): a sample is called a member when its loss is low; the score is the negative loss.
- Shadow models (Shokri et al., "Membership Inference Attacks Against Machine Learning Models", S&P 2017): train
  shadow models like the target on disjoint data whose membership the attacker knows, and fit one attack model per
  class on the shadows' prediction vectors (in vs out).
Metrics: ROC AUC and the TPR at a low FPR (Carlini et al., S&P 2022 argue for the latter).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from trust_core.models.wrappers import eval_mode


@dataclass(frozen=True)
class AttackResult:
    auc: float
    tpr_at_low_fpr: float
    fpr: float
    members: int
    non_members: int

    def as_dict(self) -> dict[str, float]:
        return {"auc": round(self.auc, 4), f"tpr@{self.fpr:g}fpr": round(self.tpr_at_low_fpr, 4)}


def evaluate_scores(member_scores: np.ndarray, non_member_scores: np.ndarray, *, fpr: float = 1e-3) -> AttackResult:
    """AUC and TPR at ``fpr`` of membership scores (higher = member). The threshold admits at most ``fpr`` of the
    non-members, so with fewer than 1/fpr non-members it is the TPR at zero false positives."""
    from sklearn.metrics import roc_auc_score

    member_scores, non_member_scores = np.asarray(member_scores, float), np.asarray(non_member_scores, float)
    if not len(member_scores) or not len(non_member_scores):
        raise ValueError("need at least one member and one non-member score")
    truth = np.r_[np.ones(len(member_scores)), np.zeros(len(non_member_scores))]
    auc = float(roc_auc_score(truth, np.r_[member_scores, non_member_scores]))
    allowed = int(np.floor(fpr * len(non_member_scores)))
    threshold = np.sort(non_member_scores)[::-1][allowed] if allowed < len(non_member_scores) else -np.inf
    tpr = float((member_scores > threshold).mean())
    return AttackResult(auc, tpr, fpr, len(member_scores), len(non_member_scores))


def _logits(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    with torch.no_grad(), eval_mode(model):
        return torch.cat([model(chunk) for chunk in images.split(1000)])


def loss_scores(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
    """Yeom et al.'s score: the negative cross-entropy loss of each sample."""
    return (-F.cross_entropy(_logits(model, images), labels, reduction="none")).numpy()


def loss_attack(
    model: nn.Module, members: tuple[torch.Tensor, torch.Tensor], non_members: tuple[torch.Tensor, torch.Tensor], *,
    fpr: float = 1e-3,
) -> AttackResult:
    """Loss-threshold attack (Yeom et al., 2018) over every threshold."""
    return evaluate_scores(loss_scores(model, *members), loss_scores(model, *non_members), fpr=fpr)


class ShadowAttack:
    """Shokri et al.'s attack: ``shadows`` models trained by ``train(x, y, seed)`` on halves of ``data`` (the other
    half is their "out" set); per class, a logistic regression on the shadows' log-probability vectors."""

    def __init__(
        self,
        train: Callable[[torch.Tensor, torch.Tensor, int], nn.Module],
        data: tuple[torch.Tensor, torch.Tensor],
        *,
        shadows: int = 4,
        size: int | None = None,
        seed: int = 0,
    ) -> None:
        from sklearn.linear_model import LogisticRegression

        x, y = data
        size = size or len(x) // 2
        if shadows < 1 or 2 * size > len(x):
            raise ValueError(f"need shadows >= 1 and 2 * size <= {len(x)} images, got {shadows} and size {size}")
        features, classes, truth = [], [], []
        gen = torch.Generator().manual_seed(seed)
        for s in range(shadows):
            order = torch.randperm(len(x), generator=gen)
            inside, outside = order[:size], order[size : 2 * size]
            model = train(x[inside], y[inside], seed + 1000 + s)
            for idx, flag in ((inside, 1), (outside, 0)):
                features.append(F.log_softmax(_logits(model, x[idx]), 1).numpy())
                classes.append(y[idx].numpy())
                truth.append(np.full(len(idx), flag))
        features, classes, truth = np.concatenate(features), np.concatenate(classes), np.concatenate(truth)
        self.attack_models = {
            int(c): LogisticRegression(max_iter=1000).fit(features[classes == c], truth[classes == c])
            for c in np.unique(classes)
        }

    def scores(self, model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
        """Membership probability of each sample under the attack model of its class."""
        features = F.log_softmax(_logits(model, images), 1).numpy()
        out = np.zeros(len(images))
        for c, attack in self.attack_models.items():
            mask = labels.numpy() == c
            if mask.any():
                out[mask] = attack.predict_proba(features[mask])[:, 1]
        return out

    def __call__(
        self,
        model: nn.Module,
        members: tuple[torch.Tensor, torch.Tensor],
        non_members: tuple[torch.Tensor, torch.Tensor],
        *,
        fpr: float = 1e-3,
    ) -> AttackResult:
        return evaluate_scores(self.scores(model, *members), self.scores(model, *non_members), fpr=fpr)
