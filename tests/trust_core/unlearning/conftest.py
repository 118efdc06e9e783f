"""Small unlearning setups on real MNIST: 6,000 training images, a width-4 stride CNN, trained once per session."""
from __future__ import annotations

import pytest
import torch


def build() -> torch.nn.Module:
    from trust_core.defenses.models import stride_cnn
    from trust_core.models.wrappers import Normalized

    return Normalized(stride_cnn(4, 32), [0.1307], [0.3081])


@pytest.fixture(scope="session")
def train_6k() -> tuple[torch.Tensor, torch.Tensor]:
    from trust_core.data import mnist_tensors

    torch.set_num_threads(1)
    return mnist_tensors("train", limit=6000)


@pytest.fixture(scope="session")
def blocks(train_6k):
    from trust_core.unlearning import DeepObliviate, StepConfig

    # SGD with carried momentum; over these 60 blocks the rate decays to about the lab's final one (decay 1.4)
    return DeepObliviate(build, *train_6k, block_size=100, config=StepConfig(epochs=2, lr=0.2, decay=1.4), momentum=0.9,
                         seed=0)


@pytest.fixture(scope="session")
def ensemble(train_6k):
    from trust_core.unlearning import SISA, StepConfig

    return SISA(build, *train_6k, shards=3, slices=3, config=StepConfig(epochs=1, lr=4e-3, decay=0.0), seed=0)
