"""DRMI: exact histogram MI, the reduction's objective, and substitutes trained on the victim's answers (MNIST)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from trust_core.extraction.drmi import DRMI, drmi_select, greedy_choice, one_hot_replacement, subset_mutual_information
from trust_core.extraction.mutual_information import mutual_information, pairwise_mutual_information, quantize
from trust_core.extraction.stealing import (
    LabelOracle, jacobian_augmentation, knockoff, train_substitute, transferability,
)
from trust_core.extraction.substitute import LeNet5
from trust_core.models.train_mnist import evaluate


def test_pairwise_mi_matches_sklearn_and_entropy(mnist_test_slice):
    from sklearn.metrics import mutual_info_score

    x = mnist_test_slice[0][:40]
    mi = pairwise_mutual_information(x, bins=16, block=7)
    codes = quantize(x, bins=16).numpy()
    for i, j in [(0, 1), (3, 17), (39, 5)]:
        assert mi[i, j] == pytest.approx(mutual_info_score(codes[i], codes[j]), abs=1e-4)
        assert mi[i, j] == pytest.approx(mutual_information(x[i], x[j]), abs=1e-5)
    assert torch.allclose(mi, mi.T, atol=1e-5) and (mi.diagonal() == 0).all()
    p = np.bincount(codes[2], minlength=16) / codes.shape[1]
    entropy = -(p[p > 0] * np.log(p[p > 0])).sum()
    assert mutual_information(x[2], x[2]) == pytest.approx(entropy, abs=1e-5)  # MI(u, u) = H(u)


def test_reduction_minimises_summed_mi(mnist_test_slice):
    x = mnist_test_slice[0][:200]
    mi = pairwise_mutual_information(x)
    greedy = greedy_choice(mi, 20)
    improved = one_hot_replacement(mi, greedy)
    assert len(improved) == 20 and len(set(improved.tolist())) == 20
    assert subset_mutual_information(mi, improved) <= subset_mutual_information(mi, greedy)
    gen = torch.Generator().manual_seed(0)
    random_costs = [subset_mutual_information(mi, torch.randperm(200, generator=gen)[:20]) for _ in range(50)]
    assert subset_mutual_information(mi, improved) < 0.8 * min(random_costs)
    # a local optimum: no single one-hot replacement lowers the objective
    assert torch.equal(one_hot_replacement(mi, improved), improved.sort().values)
    assert torch.equal(drmi_select(x, 20), improved.sort().values)


def test_drmi_substitute_learns_the_victim_and_transfers(mnist_cnn, mnist_train_slice, mnist_test_slice):
    x, y = mnist_train_slice[0][:1000], mnist_train_slice[1][:1000]
    chosen = DRMI(x, groups=y).select(100)
    assert torch.bincount(y[chosen], minlength=10).tolist() == [10] * 10
    oracle = LabelOracle(mnist_cnn)
    substitute = train_substitute(oracle, x[chosen], make_model=LeNet5, epochs=20)
    assert oracle.queries == 100
    assert evaluate(substitute, *mnist_test_slice) >= 0.75
    images, labels = mnist_test_slice[0][:200], mnist_test_slice[1][:200]
    transfer = transferability(substitute, mnist_cnn, images, labels, eps=0.3)
    # random sign noise of the same size barely fools the victim; FGSM crafted on the substitute does
    noise = (images + 0.3 * torch.randn(images.shape, generator=torch.Generator().manual_seed(0)).sign()).clamp(0, 1)
    with torch.no_grad():
        noise_rate = (mnist_cnn(noise).argmax(1) != labels).float().mean().item()
    assert transfer >= 0.15 and transfer > noise_rate + 0.1


def test_stealing_baselines_spend_their_budget(mnist_cnn, mnist_train_slice, mnist_test_slice):
    x = mnist_train_slice[0]
    oracle = LabelOracle(mnist_cnn)
    knockoff(oracle, x, 40, make_model=LeNet5, epochs=1)
    assert oracle.queries == 40
    jacobian_oracle = LabelOracle(mnist_cnn)
    grown = jacobian_augmentation(jacobian_oracle, x[:20], 80, make_model=LeNet5, epochs=10)
    assert jacobian_oracle.queries == 80  # 20 seeds, doubled to 40, then 40 augmented points
    assert evaluate(grown, *mnist_test_slice) >= 0.3


def test_bad_arguments_are_rejected(mnist_cnn):
    with pytest.raises(ValueError, match="bins"):
        quantize(torch.rand(2, 1, 4, 4), bins=1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        quantize(torch.full((2, 1, 4, 4), 2.0))
    with pytest.raises(ValueError, match="k must be"):
        greedy_choice(torch.zeros(5, 5), 6)
    with pytest.raises(ValueError, match="budget"):
        knockoff(LabelOracle(mnist_cnn), torch.rand(5, 1, 28, 28), 10, make_model=LeNet5)


@pytest.mark.slow
def test_one_percent_of_mnist_by_drmi_reaches_95_percent_of_the_victim():
    from trust_core.extraction.experiment import one_percent

    result = one_percent(seeds=(0, 1))
    assert result["drmi_relative"] >= 0.95
    assert result["mean"]["drmi"] > result["mean"]["random"]
