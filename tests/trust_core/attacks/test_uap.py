"""Universal adversarial perturbation (Moosavi-Dezfooli et al. 2017): one image-agnostic L∞ perturbation."""
import torch

from trust_core.attacks import UniversalPerturbation, fooling_rate


def test_uap_fools_held_out_images_far_more_than_random_noise(mnist_cnn, mnist_train_slice, mnist_test_slice):
    eps = 0.3
    v = UniversalPerturbation(mnist_cnn, eps=eps, epochs=1, deepfool_steps=5, candidates=3, overshoot=0.2).fit(
        mnist_train_slice[0][:128])
    held_out = mnist_test_slice[0][:256]
    assert v.shape == (1, 1, 28, 28) and v.abs().max() <= eps + 1e-6
    noise = eps * torch.sign(torch.randn(1, 1, 28, 28, generator=torch.Generator().manual_seed(0)))
    fooled, baseline = fooling_rate(mnist_cnn, held_out, v), fooling_rate(mnist_cnn, held_out, noise)
    assert fooled >= 0.35 and fooled > 3 * baseline
