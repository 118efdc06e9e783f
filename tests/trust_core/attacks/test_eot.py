"""Expectation over transformation (Athalye et al. 2018) on the GradientAttack loop."""
import pytest
import torch

from trust_core.attacks import EOT, PGD


def random_shift(x: torch.Tensor) -> torch.Tensor:
    dx, dy = (int(v) for v in torch.randint(-2, 3, (2,)))
    return torch.roll(x, shifts=(dx, dy), dims=(2, 3))


def survival(model, adv, y, draws=8):
    torch.manual_seed(1)
    with torch.no_grad():
        return sum((model(random_shift(adv)).argmax(1) != y).float().mean().item() for _ in range(draws)) / draws


def test_eot_examples_survive_random_shifts_better_than_pgd(mnist_cnn, mnist_test_slice):
    x, y = mnist_test_slice[0][:32], mnist_test_slice[1][:32]
    torch.manual_seed(0)
    plain = PGD(mnist_cnn, eps=0.1, alpha=0.02, steps=15, seed=0)(x, y)
    robust = EOT(mnist_cnn, transform=random_shift, samples=6, eps=0.1, alpha=0.02, steps=15, seed=0)(x, y)
    assert (robust - x).abs().max() <= 0.1 + 1e-6
    assert survival(mnist_cnn, robust, y) >= survival(mnist_cnn, plain, y) + 0.03


def test_eot_rejects_zero_samples(mnist_cnn):
    with pytest.raises(ValueError):
        EOT(mnist_cnn, transform=random_shift, samples=0, eps=0.1)
