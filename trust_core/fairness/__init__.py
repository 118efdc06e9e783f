"""Fairness toolkit: bias metrics, biased data sets (C-MNIST, CelebA-10k), debiasing baselines and AEDA.

AEDA — adversarial-example-based data augmentation (Zhang & Sang, "Towards Accuracy-Fairness Paradox",
ACM MM 2020): adversarial examples that flip a bias attribute rebalance the training data.
:mod:`~trust_core.fairness.fewshot` is the paper's few-shot pilot (adversarial pseudo-samples for rare digits).
Only the metrics are imported here; the torch parts live in their own modules.
"""
from trust_core.fairness.metrics import (
    balanced_accuracy,
    bias_gap,
    demographic_parity,
    equalized_odds,
    fairness_report,
)

__all__ = ["balanced_accuracy", "bias_gap", "demographic_parity", "equalized_odds", "fairness_report"]
