"""Randomized response and the Laplace mechanism against theory (fixed seeds); DP-SGD through Opacus."""
from __future__ import annotations

import math

import numpy as np
import pytest

from trust_core.privacy.dp import (
    RANDOMIZED_RESPONSE_EPSILON, estimate_proportion, laplace_mechanism, laplace_scale, private_count, private_mean,
    randomized_response, randomized_response_std,
)


def test_randomized_response_is_unbiased_with_the_theoretical_spread():
    rng = np.random.default_rng(0)
    n, trials = 5000, 400
    truth = rng.random(n) < 0.3
    p = truth.mean()
    estimates = np.array([estimate_proportion(randomized_response(truth, seed=rng)) for _ in range(trials)])
    sigma = randomized_response_std(p, n, fixed_population=True)
    assert abs(estimates.mean() - p) < 4 * sigma / math.sqrt(trials)  # unbiased: p = 2p' - 1/2
    assert estimates.std() == pytest.approx(sigma, rel=0.1)
    # fresh respondents each survey: the sampling variance adds up to 4 p'(1 - p') / n
    surveys = np.array([estimate_proportion(randomized_response(rng.random(n) < 0.3, seed=rng)) for _ in range(trials)])
    assert abs(surveys.mean() - 0.3) < 4 * randomized_response_std(0.3, n) / math.sqrt(trials)
    assert surveys.std() == pytest.approx(randomized_response_std(0.3, n), rel=0.1)
    # the naive reading of the answers is biased toward 1/2
    assert abs(randomized_response(truth, seed=1).mean() - (p / 2 + 0.25)) < 0.02
    # each answer is ln(3)-DP: P(yes | yes) / P(yes | no) = (3/4) / (1/4)
    assert RANDOMIZED_RESPONSE_EPSILON == pytest.approx(math.log(0.75 / 0.25))


def test_laplace_mechanism_error_matches_b_equals_sensitivity_over_epsilon():
    rng = np.random.default_rng(0)
    data = rng.random(1000) < 0.4
    for epsilon in (0.1, 1.0):
        b = laplace_scale(sensitivity=1.0, epsilon=epsilon)
        errors = np.array([private_count(data, epsilon=epsilon, seed=rng) for _ in range(4000)]) - data.sum()
        assert abs(errors.mean()) < 4 * math.sqrt(2) * b / math.sqrt(len(errors))  # unbiased
        assert np.abs(errors).mean() == pytest.approx(b, rel=0.05)  # E|Lap(b)| = b
        assert errors.var() == pytest.approx(2 * b * b, rel=0.1)  # Var = 2 b^2
    ages = rng.uniform(0, 100, 500)
    means = [private_mean(ages, low=0, high=100, epsilon=1.0, seed=rng) for _ in range(2000)]
    assert np.std(means) == pytest.approx(math.sqrt(2) * 100 / 500, rel=0.1)
    vector = laplace_mechanism(np.zeros(3), sensitivity=1.0, epsilon=1.0, seed=0)
    assert vector.shape == (3,)


def test_dp_arguments_are_checked():
    with pytest.raises(ValueError, match="boolean"):
        randomized_response(np.array([0, 1]))
    with pytest.raises(ValueError, match="epsilon"):
        laplace_scale(sensitivity=1.0, epsilon=0.0)
    with pytest.raises(ValueError, match="high > low"):
        private_mean(np.ones(3), low=1, high=1, epsilon=1.0)
    from trust_core.privacy.dp import SampleConvNet

    with pytest.raises(ValueError, match="activation"):
        SampleConvNet(activation="gelu")


def test_dp_sgd_spends_the_target_epsilon_and_still_learns(mnist_train_slice, mnist_test_slice):
    from trust_core.models.train_mnist import evaluate
    from trust_core.privacy.dp import SampleConvNet, dp_sgd_fit

    x, y = mnist_train_slice[0][:1000], mnist_train_slice[1][:1000]
    model, spent = dp_sgd_fit(SampleConvNet(), x, y, target_epsilon=3.0, epochs=1, batch=32, lr=0.5, seed=0)
    assert 2.7 <= spent <= 3.05  # the RDP accountant's ε after the planned steps
    assert not any(name.startswith("_module") for name in model.state_dict())  # plain module back, no Opacus wrapper
    assert evaluate(model, *mnist_test_slice) >= 0.2  # chance is 0.1; 31 noisy steps
    with pytest.raises(ValueError, match="target_epsilon"):
        dp_sgd_fit(SampleConvNet(), x, y, target_epsilon=0.0)
