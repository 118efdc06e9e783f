"""C&W L2 (Carlini & Wagner 2017) on the shipped MNIST CNN."""
import pytest
import torch

from trust_core.attacks import CarliniWagnerL2


def test_cw_l2_fools_mnist_cnn_with_small_perturbations(mnist_cnn, mnist_test_slice):
    x, y = mnist_test_slice[0][:6], mnist_test_slice[1][:6]
    adv = CarliniWagnerL2(mnist_cnn, c=5.0, steps=30, lr=0.05, search_steps=2)(x, y)
    with torch.no_grad():
        success = (mnist_cnn(adv).argmax(1) != y).float().mean().item()
    l2 = (adv - x).flatten(1).norm(dim=1)
    assert success >= 0.8
    assert l2.max() < 4.0 and adv.min() >= 0 and adv.max() <= 1


def test_cw_targeted_reaches_target(mnist_cnn, mnist_test_slice):
    x, y = mnist_test_slice[0][:3], mnist_test_slice[1][:3]
    target = (y + 1) % 10
    adv = CarliniWagnerL2(mnist_cnn, c=20.0, steps=60, lr=0.05, search_steps=1, targeted=True)(x, target)
    with torch.no_grad():
        assert (mnist_cnn(adv).argmax(1) == target).all()


def test_cw_rejects_bad_hyperparameters(mnist_cnn):
    with pytest.raises(ValueError):
        CarliniWagnerL2(mnist_cnn, c=0)
