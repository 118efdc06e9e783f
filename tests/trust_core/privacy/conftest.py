"""Single-threaded torch for the privacy tests (the suite runs on small shared CPUs)."""
from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_thread() -> None:
    torch.set_num_threads(1)
