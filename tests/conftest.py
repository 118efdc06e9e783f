"""Shared fixtures: real data slices and the small fixed models every topic's tests use."""
from __future__ import annotations

import os

import pytest
import torch

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session", autouse=True)
def _deterministic() -> None:
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def mnist_test_slice() -> tuple[torch.Tensor, torch.Tensor]:
    """The first 512 MNIST test images (float, [0, 1], (N, 1, 28, 28)) and labels."""
    from trust_core.data import mnist_tensors

    return mnist_tensors("test", limit=512)


@pytest.fixture(scope="session")
def mnist_train_slice() -> tuple[torch.Tensor, torch.Tensor]:
    """The first 5,000 MNIST train images and labels."""
    from trust_core.data import mnist_tensors

    return mnist_tensors("train", limit=5000)


@pytest.fixture(scope="session")
def mnist_cnn() -> torch.nn.Module:
    """The shipped MNIST CNN (99.18% test accuracy), eval mode. Do not train it in place: deepcopy first."""
    from trust_core.models.mnist import load_mnist_cnn

    return load_mnist_cnn()
