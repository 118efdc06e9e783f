"""Input-transformation defenses lower transferred PGD success; BPDA (Athalye et al. 2018) restores it."""
from functools import partial

import numpy as np
import pytest
import torch
from scipy.ndimage import median_filter

from trust_core.attacks import BPDA, PGD
from trust_core.defenses.transforms import Preprocessed, bit_depth, gaussian_smooth, jpeg, median_smooth


def success(model, adv, y):
    with torch.no_grad():
        return (model(adv).argmax(1) != y).float().mean().item()


def test_median_matches_scipy(mnist_test_slice):
    x = mnist_test_slice[0][:4]
    expected = np.stack([median_filter(img[0].numpy(), size=3, mode="nearest") for img in x])[:, None]
    assert np.allclose(median_smooth(x, size=3).numpy(), expected)


def test_jpeg_and_bit_depth_stay_in_range(mnist_test_slice):
    x = mnist_test_slice[0][:4]
    assert jpeg(x, quality=20).shape == x.shape and 0 <= jpeg(x).min() and jpeg(x).max() <= 1
    assert set(bit_depth(x, bits=1).unique().tolist()) <= {0.0, 1.0}
    with pytest.raises(ValueError):
        bit_depth(x, bits=0)


@pytest.mark.parametrize("transform,straight_through", [
    (partial(median_smooth, size=3), True), (partial(jpeg, quality=20), True), (partial(gaussian_smooth, sigma=1.0), False),
], ids=["median-bpda", "jpeg-bpda", "gaussian-exact-gradient"])
def test_adaptive_attack_breaks_input_transformation(mnist_cnn, mnist_test_slice, transform, straight_through):
    """PGD crafted on the bare model loses success through the transform; BPDA (or, for a differentiable
    transform, the exact gradient through it) brings it back to >= 90%."""
    x, y = mnist_test_slice[0][:32], mnist_test_slice[1][:32]
    defended = Preprocessed(mnist_cnn, transform)
    transferred = PGD(mnist_cnn, eps=0.2, alpha=0.02, steps=20, seed=0)(x, y)
    attacked = BPDA(mnist_cnn, transform) if straight_through else defended
    broken = PGD(attacked, eps=0.2, alpha=0.02, steps=20, seed=0)(x, y)
    assert success(defended, transferred, y) < success(mnist_cnn, transferred, y)
    assert success(defended, broken, y) >= 0.9
