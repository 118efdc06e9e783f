"""Membership inference on MNIST: both attacks beat chance and grow with overfitting."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from trust_core.models.train_mnist import fit
from trust_core.privacy.experiment import mlp
from trust_core.privacy.membership import ShadowAttack, evaluate_scores, loss_attack


def _train(images: torch.Tensor, labels: torch.Tensor, seed: int, epochs: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return fit(mlp(), images, labels, epochs=epochs, batch=32, seed=seed)


def test_attacks_grow_with_overfitting(mnist_train_slice):
    x, y = mnist_train_slice
    inside, outside, shadow = (x[:250], y[:250]), (x[250:500], y[250:500]), (x[500:1500], y[500:1500])
    light = loss_attack(_train(*inside, 0, 2), inside, outside)
    overfit_model = _train(*inside, 0, 30)
    heavy = loss_attack(overfit_model, inside, outside)
    assert heavy.auc >= 0.62 and heavy.auc >= light.auc + 0.03
    attack = ShadowAttack(lambda a, b, s: _train(a, b, s, 30), shadow, shadows=2, size=250)
    shokri = attack(overfit_model, inside, outside)
    assert shokri.auc >= 0.6
    assert 0.0 <= shokri.tpr_at_low_fpr <= 1.0


def test_metrics_on_known_scores():
    perfect = evaluate_scores(np.array([2.0, 3.0]), np.array([0.0, 1.0]))
    assert perfect.auc == 1.0 and perfect.tpr_at_low_fpr == 1.0
    chance = evaluate_scores(np.zeros(100), np.zeros(100))
    assert chance.auc == 0.5 and chance.tpr_at_low_fpr == 0.0
    with pytest.raises(ValueError, match="at least one"):
        evaluate_scores(np.array([]), np.array([1.0]))


@pytest.mark.slow
def test_dp_sgd_pulls_membership_auc_toward_one_half():
    from trust_core.privacy.experiment import dp_membership

    rows = dp_membership(epsilons=(None, 1.0))
    assert rows[0]["yeom_auc"] >= 0.65 and rows[1]["yeom_auc"] <= rows[0]["yeom_auc"] - 0.08
