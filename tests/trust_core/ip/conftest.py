"""The IP lab at test scale, run once per session: owner on 10k MNIST images, thief copies, 10 independent models."""
from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session")
def ip_lab() -> dict:
    from trust_core.ip.lab import run

    torch.set_num_threads(1)
    return run(train=10000, thief_data=5000, independents=10, independent_train=5000, epochs=4, pairs=500,
               test_limit=2000)
