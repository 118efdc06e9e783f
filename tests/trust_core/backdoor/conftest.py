"""Backdoored MNIST models shared by the backdoor tests (trained once per session on 10k train images)."""
from __future__ import annotations

import pytest
import torch


def _train(images: torch.Tensor, labels: torch.Tensor, *, width: int = 16, epochs: int = 3) -> torch.nn.Module:
    from trust_core.models.mnist import MnistCNN
    from trust_core.models.train_mnist import fit

    torch.manual_seed(0)
    return fit(MnistCNN(width=width), images, labels, epochs=epochs, seed=0)


@pytest.fixture(scope="session")
def train_10k() -> tuple[torch.Tensor, torch.Tensor]:
    from trust_core.data import mnist_tensors

    return mnist_tensors("train", limit=10000)


@pytest.fixture(scope="session")
def defender_clean() -> tuple[torch.Tensor, torch.Tensor]:
    """The defender's clean data: MNIST train[55000:], disjoint from every training slice."""
    from trust_core.data import mnist_tensors

    x, y = mnist_tensors("train")
    return x[55000:], y[55000:]


@pytest.fixture(scope="session")
def test_2k() -> tuple[torch.Tensor, torch.Tensor]:
    from trust_core.data import mnist_tensors

    return mnist_tensors("test", limit=2000)


@pytest.fixture(scope="session")
def badnets_1pct(train_10k):
    """(attack, poisoned set, model): BadNets, target 0, 1% of 10k train images, width-16 CNN, 3 epochs."""
    from trust_core.backdoor.attacks import BadNets

    attack = BadNets(target=0, rate=0.01)
    data = attack.poison(*train_10k)
    return attack, data, _train(data.images, data.labels)


@pytest.fixture(scope="session")
def train_model():
    return _train
