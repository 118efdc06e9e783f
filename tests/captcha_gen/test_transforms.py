"""The attacker's preprocessing as differentiable ops."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from captcha_gen.transforms import affine, binarize, gaussian, jpeg, median3, random_preprocess, resize


@pytest.fixture
def images() -> torch.Tensor:
    return torch.rand(3, 1, 32, 100, generator=torch.Generator().manual_seed(0))


def test_median_matches_opencv(images) -> None:
    ours = median3(images)
    for img, out in zip(images, ours):
        ref = cv2.medianBlur((img[0].numpy() * 255).round().astype(np.uint8), 3)
        mine = (out[0].numpy() * 255).round().astype(np.uint8)
        assert np.abs(mine[1:-1, 1:-1].astype(int) - ref[1:-1, 1:-1]).max() <= 1


def test_straight_through_gradients(images) -> None:
    x = images.clone().requires_grad_(True)
    out = binarize(x, torch.full((3,), 0.5))
    assert set(out.unique().tolist()) <= {0.0, 1.0}
    (grad,) = torch.autograd.grad(out.sum(), x)
    assert torch.equal(grad, torch.ones_like(x))
    x = images.clone().requires_grad_(True)
    out = jpeg(x, 50)
    assert 0 < (out - images).abs().mean() < 0.2
    (grad,) = torch.autograd.grad(out.sum(), x)
    assert torch.equal(grad, torch.ones_like(x))


def test_identities_and_smoothing(images) -> None:
    flat = torch.full((1, 1, 32, 100), 0.3)
    assert torch.allclose(gaussian(flat, 1.0), flat, atol=1e-6)
    assert torch.allclose(affine(images, torch.zeros(3), torch.zeros(3, 2)), images, atol=1e-5)
    assert resize(images, 0.5).diff(dim=3).abs().mean() < images.diff(dim=3).abs().mean()


def test_random_pipeline_seeded(images) -> None:
    a = random_preprocess(images, generator=torch.Generator().manual_seed(1))
    b = random_preprocess(images, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and a.shape == images.shape
    with pytest.raises(ValueError):
        random_preprocess(images, prob=1.5)
