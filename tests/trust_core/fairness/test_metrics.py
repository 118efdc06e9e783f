"""Oracle tests of the fairness metrics: hand-computed values and parity with fairlearn / scikit-learn."""
from __future__ import annotations

import numpy as np
import pytest
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from sklearn.metrics import balanced_accuracy_score

from trust_core.fairness import balanced_accuracy, bias_gap, demographic_parity, equalized_odds, fairness_report

Y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
P = np.array([0, 0, 1, 0, 1, 1, 0, 0])
B = np.array([0, 0, 1, 1, 0, 1, 0, 1])


def test_hand_computed_binary_case() -> None:
    # class 0: recall 2/2 for b=0, 1/2 for b=1 -> gap 0.5; class 1: 1/2 vs 1/2 -> 0; mean 0.25
    assert bias_gap(Y, P, B) == pytest.approx(0.25)
    assert balanced_accuracy(Y, P) == pytest.approx((3 / 4 + 2 / 4) / 2)
    # P(pred=1 | b=0) = 1/4, P(pred=1 | b=1) = 2/4
    assert demographic_parity(Y, P, B) == pytest.approx(0.25)
    # TPR 1/2 vs 1/2, FPR 0/2 vs 1/2 -> 0.5
    assert equalized_odds(Y, P, B) == pytest.approx(0.5)
    assert fairness_report(Y, P, B) == pytest.approx({"accuracy": 62.5, "bacc": 62.5, "bias": 25.0, "dp": 25.0, "eo": 50.0})


def test_agrees_with_fairlearn_and_sklearn_on_random_arrays() -> None:
    rng = np.random.default_rng(0)
    y, p, b = rng.integers(0, 2, 500), rng.integers(0, 2, 500), rng.integers(0, 3, 500)
    assert balanced_accuracy(y, p) == pytest.approx(balanced_accuracy_score(y, p))
    assert demographic_parity(y, p, b) == pytest.approx(demographic_parity_difference(y, p, sensitive_features=b))
    assert equalized_odds(y, p, b) == pytest.approx(equalized_odds_difference(y, p, sensitive_features=b))
    recalls = [[np.mean(p[(y == t) & (b == g)] == t) for g in range(3)] for t in range(2)]
    assert bias_gap(y, p, b) == pytest.approx(np.mean([max(r) - min(r) for r in recalls]))


def test_multiclass_target_is_scored_one_vs_rest() -> None:
    y = np.array([0, 1, 2, 0, 1, 2])
    p = np.array([0, 1, 2, 1, 1, 0])
    b = np.array([0, 0, 0, 1, 1, 1])
    # recall per class: b=0 all correct; b=1: class 0 wrong, class 1 right, class 2 wrong
    assert bias_gap(y, p, b) == pytest.approx((1 + 0 + 1) / 3)
    expected = np.mean([demographic_parity_difference(y == t, p == t, sensitive_features=b) for t in range(3)])
    assert demographic_parity(y, p, b) == pytest.approx(expected)


def test_perfect_and_colour_only_predictors() -> None:
    y = np.repeat(np.arange(4), 4)
    b = np.tile(np.arange(4), 4)
    assert bias_gap(y, y, b) == 0.0 and balanced_accuracy(y, y) == 1.0
    # a model that predicts the bias attribute: right only where b == y
    assert bias_gap(y, b, b) == pytest.approx(1.0)
    assert balanced_accuracy(y, b) == pytest.approx(0.25)


def test_bad_input_raises_value_error() -> None:
    with pytest.raises(ValueError, match="same length"):
        bias_gap([0, 1], [0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="empty"):
        balanced_accuracy([], [])
    with pytest.raises(ValueError, match="two or more bias groups"):
        bias_gap([0, 1], [0, 1], [0, 0])
