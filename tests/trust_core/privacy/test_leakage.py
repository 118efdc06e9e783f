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


def test_smoothed_network_has_the_curvature_relu_lacks():
    from trust_core.privacy.leakage import smoothed, total_variation

    torch.manual_seed(0)
    relu = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    soft = smoothed(relu, beta=50.0)
    assert isinstance(relu[1], torch.nn.ReLU) and isinstance(soft[1], torch.nn.Softplus)  # a copy; original kept
    assert not any(p.requires_grad for p in soft.parameters())
    x = torch.randn(8, 4)
    assert torch.allclose(soft(x), relu(x), atol=0.05)

    def input_hessian_norm(net: torch.nn.Module) -> float:
        z = x.clone().requires_grad_(True)
        g, = torch.autograd.grad(net(z).sum(), z, create_graph=True)
        h, = torch.autograd.grad((g ** 2).sum(), z, allow_unused=True)
        return 0.0 if h is None else float(h.abs().sum())

    assert input_hessian_norm(relu) == 0.0 < input_hessian_norm(soft)  # DLG-style matching needs this
    flat, noisy = torch.full((1, 1, 8, 8), 0.5), torch.rand(1, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    assert total_variation(flat).item() == 0.0 < total_variation(noisy).item()
    with pytest.raises(ValueError, match="beta"):
        smoothed(relu, beta=0.0)
