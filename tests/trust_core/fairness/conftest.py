"""A small C-MNIST built from real MNIST, shared by the fairness tests."""
from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session")
def small_cmnist():
    """C-MNIST at 99% colour-digit correlation: 3,000 train, 500 val, 300 test digits (x 10 colours)."""
    from trust_core.fairness.datasets import colored_mnist

    torch.set_num_threads(1)
    return colored_mnist(strength=0.99, n_train=3000, n_val=500, n_test=300, seed=0)
