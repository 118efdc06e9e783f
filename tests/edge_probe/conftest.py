"""Fixtures of the edge-probe tests: real LFW face crops (evaluation images, never trained on) and the shipped probe."""
import numpy as np
import pytest


@pytest.fixture(scope="session")
def lfw_crops() -> np.ndarray:
    """The probe's 112-px crops of three LFW pair images, float32 (3, 3, 112, 112) in [0, 1]."""
    from edge_probe.bench import lfw_crops as crops

    return crops(3)


@pytest.fixture(scope="session")
def probe():
    from edge_probe.model import load_probe

    return load_probe()
