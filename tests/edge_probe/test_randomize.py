"""Randomised response on the signal: the share replaced, the range kept, the per-bit ε, bad rates refused."""
from __future__ import annotations

import math

import numpy as np
import pytest

from edge_probe.randomize import bit_epsilon, randomize

EPS = 8 / 255


def sign_map(n: int = 20, seed: int = 0) -> np.ndarray:
    return np.where(np.random.default_rng(seed).random((n, 3, 112, 112)) < 0.5, -EPS, EPS).astype(np.float32)


def test_rate_zero_sends_the_signal_as_it_is():
    g = sign_map(2)
    out = randomize(g, method="fgsm", eps=EPS, rate=0.0)
    assert out is not g and np.array_equal(out, g)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_a_sign_map_stays_a_sign_map_with_rate_over_two_of_its_bits_flipped(rate):
    g = sign_map()
    kept = g.copy()
    out = randomize(g, method="fgsm", eps=EPS, rate=rate, rng=np.random.default_rng(1))
    assert np.array_equal(g, kept)  # the input is left as it is
    assert set(np.unique(out).tolist()) == {np.float32(-EPS), np.float32(EPS)}
    flipped = float((np.sign(out) != np.sign(g)).mean())
    assert abs(flipped - rate / 2) < 0.01  # 752,640 bits: the standard error is below 0.0006
    # the local-DP ratio of a bit: P(sent as it is) / P(flipped) = e^ε
    assert math.isclose((1 - flipped) / flipped, math.exp(bit_epsilon(rate)), rel_tol=0.05)


def test_a_multi_step_perturbation_gets_uniform_noise_within_its_budget():
    g = np.full((20, 3, 112, 112), EPS / 3, dtype=np.float32)
    out = randomize(g, method="di2fgsm", eps=EPS, rate=0.4, rng=np.random.default_rng(2))
    replaced = out != g
    assert abs(float(replaced.mean()) - 0.4) < 0.01
    assert np.abs(out).max() <= EPS + 1e-7
    assert abs(float(out[replaced].mean())) < 0.01 * EPS  # centred, like a uniform draw on [-eps, eps]
    assert abs(float(np.abs(out[replaced]).mean()) - EPS / 2) < 0.01 * EPS


def test_draws_differ_between_calls_by_default():
    g = sign_map(1)
    assert not np.array_equal(randomize(g, method="fgsm", eps=EPS, rate=0.5),
                              randomize(g, method="fgsm", eps=EPS, rate=0.5))


def test_bit_epsilon_values():
    assert bit_epsilon(0.0) == math.inf
    assert math.isclose(bit_epsilon(0.5), math.log(3))
    assert math.isclose(bit_epsilon(0.25), math.log(7))


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, float("nan")])
def test_bad_rates_are_refused(rate):
    with pytest.raises(ValueError, match="rate must lie in"):
        randomize(sign_map(1), method="fgsm", eps=EPS, rate=rate)


def test_a_non_positive_budget_is_refused():
    with pytest.raises(ValueError, match="eps must be positive"):
        randomize(sign_map(1), method="fgsm", eps=0.0, rate=0.5)
