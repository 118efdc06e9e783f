"""iDLG recovers an MNIST digit from its gradient through DLG's sigmoid LeNet."""
from __future__ import annotations

import pytest
import torch


def test_idlg_recovers_a_digit_with_ssim_above_09(mnist_test_slice):
    from skimage.metrics import structural_similarity

    from trust_core.privacy.leakage import LeakyLeNet, infer_label, reconstruct, shared_gradient

    x, y = mnist_test_slice
    model = LeakyLeNet(seed=0)
    for i in range(8):  # the label comes out of the last layer's gradient
        assert infer_label(shared_gradient(model, x[i : i + 1], y[i : i + 1])) == int(y[i])
    gradient = shared_gradient(model, x[:1], y[:1])
    recovered, label = reconstruct(model, gradient, (1, 28, 28), steps=150)
    assert label == int(y[0])
    assert structural_similarity(x[0, 0].numpy(), recovered[0, 0].numpy(), data_range=1.0) >= 0.9
    other = torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    assert structural_similarity(x[0, 0].numpy(), other[0, 0].numpy(), data_range=1.0) < 0.2
    with pytest.raises(ValueError, match="does not match"):
        reconstruct(model, gradient[:-1], (1, 28, 28))
