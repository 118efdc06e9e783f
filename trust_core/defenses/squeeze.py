"""Feature-squeezing detection (Xu, Evans & Qi, "Feature squeezing: detecting adversarial examples in deep
neural networks", NDSS 2018): score = max over squeezers of ``||softmax(f(x)) - softmax(f(squeeze(x)))||_1``.
Legitimate inputs barely move under squeezing; adversarial ones often jump back towards their true class.
For MNIST the paper squeezes to 1 bit and with a 2x2 median filter.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch
from torch import nn

from trust_core.defenses.transforms import Transform, bit_depth, median_smooth
from trust_core.models.wrappers import eval_mode

MNIST_SQUEEZERS: tuple[Transform, ...] = (partial(bit_depth, bits=1), partial(median_smooth, size=2))


class FeatureSqueezing:
    """``FeatureSqueezing(model).fit(clean_images, fpr=0.05)``; ``score(x)``; ``detect(x) -> bool``."""

    def __init__(self, model: nn.Module, squeezers: Sequence[Transform] = MNIST_SQUEEZERS) -> None:
        if not squeezers:
            raise ValueError("need at least one squeezer")
        self.model, self.squeezers, self.threshold = model, tuple(squeezers), None

    def score(self, images: torch.Tensor) -> torch.Tensor:
        with eval_mode(self.model), torch.no_grad():
            p = self.model(images).softmax(1)
            return torch.stack([(p - self.model(s(images)).softmax(1)).abs().sum(1) for s in self.squeezers]).amax(0)

    def fit(self, clean: torch.Tensor, *, fpr: float = 0.05) -> FeatureSqueezing:
        """Threshold at the ``1 - fpr`` quantile of clean scores (the paper selects on legitimate data only)."""
        if not 0 < fpr < 1:
            raise ValueError(f"fpr must lie in (0, 1), got {fpr}")
        self.threshold = torch.quantile(self.score(clean), 1 - fpr).item()
        return self

    def detect(self, images: torch.Tensor) -> torch.Tensor:
        if self.threshold is None:
            raise ValueError("call fit(clean_images) before detect()")
        return self.score(images) > self.threshold


def roc_auc(clean_scores: torch.Tensor, adversarial_scores: torch.Tensor) -> float:
    """ROC AUC of separating adversarial (positive) from clean scores."""
    from sklearn.metrics import roc_auc_score

    y = [0] * len(clean_scores) + [1] * len(adversarial_scores)
    return float(roc_auc_score(y, torch.cat([clean_scores, adversarial_scores]).numpy()))
