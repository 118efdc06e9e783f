"""The deepfake lab at test scale, run once per session: 1,200 training and 400 test faces of CelebA-10k."""
from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.fixture(scope="session")
def deepfake_lab() -> dict:
    from trust_core.deepfake.lab import run

    torch.set_num_threads(1)
    return run(train=600, test=200, epochs=8)


@pytest.fixture(scope="session")
def two_faces() -> tuple[np.ndarray, np.ndarray]:
    import cv2

    from trust_core.data import CelebA

    paths = CelebA().paths()
    return tuple(cv2.cvtColor(cv2.imread(str(paths[i])), cv2.COLOR_BGR2RGB) for i in (0, 1))
