"""Shipped defense models (trained by ``apf lab defenses train``)."""
import pytest


@pytest.fixture(scope="session")
def defense_model():
    from trust_core.defenses.weights import load

    return load
