"""Interval bound propagation (Gowal et al. 2018): sound bounds, certified accuracy, and no certified point broken."""
import pytest
import torch

from trust_core.attacks import PGD
from trust_core.defenses.ibp import certify, ibp_fit, interval_bounds
from trust_core.defenses.models import stride_cnn


def test_bounds_contain_every_perturbed_output(mnist_test_slice):
    torch.manual_seed(0)
    net = torch.nn.Sequential(*stride_cnn(4, 16)[:4], torch.nn.BatchNorm2d(8).eval(), *stride_cnn(4, 16)[4:]).eval()
    x = mnist_test_slice[0][:8]
    lower, upper = interval_bounds(net, x, 0.1)
    with torch.no_grad():
        for _ in range(20):
            out = net((x + 0.1 * (2 * torch.rand_like(x) - 1)).clamp(0, 1))
            assert (out >= lower - 1e-5).all() and (out <= upper + 1e-5).all()


def test_ibp_model_is_certified_and_certificates_hold_against_pgd(defense_model, mnist_test_slice):
    model = defense_model("defenses_ibp")
    x, y = mnist_test_slice[0][:200], mnist_test_slice[1][:200]
    certified = certify(model, x, y, eps=0.1)
    assert certified.float().mean() >= 0.8
    adv = PGD(model, eps=0.1, alpha=0.01, steps=40, seed=0)(x[certified], y[certified])
    with torch.no_grad():
        assert (model(adv).argmax(1) == y[certified]).all()


@pytest.mark.slow
def test_ibp_training_beats_clean_training_on_certificates(mnist_train_slice, mnist_test_slice):
    from trust_core.models.train_mnist import fit

    x, y = mnist_train_slice
    ibp = ibp_fit(stride_cnn(8, 32), x, y, eps=0.1, epochs=3, warmup=0.0, ramp=0.5, lr=3e-3)
    clean = fit(stride_cnn(8, 32), x, y, epochs=3)
    xt, yt = mnist_test_slice[0][:200], mnist_test_slice[1][:200]
    assert certify(ibp, xt, yt, eps=0.05).float().mean() > certify(clean, xt, yt, eps=0.05).float().mean() + 0.2


def test_interval_bounds_rejects_unsupported(mnist_cnn, mnist_test_slice):
    with pytest.raises(ValueError):
        interval_bounds(mnist_cnn, mnist_test_slice[0][:1], 0.1)
