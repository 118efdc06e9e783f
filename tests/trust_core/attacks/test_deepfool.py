"""DeepFool (Moosavi-Dezfooli et al. 2016): adversarial and close to minimal."""
import torch

from trust_core.attacks import DeepFool


def test_deepfool_finds_near_minimal_perturbations(mnist_cnn, mnist_test_slice):
    x, y = mnist_test_slice[0][:16], mnist_test_slice[1][:16]
    adv = DeepFool(mnist_cnn, candidates=4)(x, y)
    with torch.no_grad():
        fooled = mnist_cnn(adv).argmax(1) != y
        # minimality: half the perturbation no longer crosses the boundary for most images
        half = mnist_cnn((x + 0.5 * (adv - x)).clamp(0, 1)).argmax(1) == y
    assert fooled.float().mean() >= 0.9
    assert half.float().mean() >= 0.8
    assert (adv - x).flatten(1).norm(dim=1).mean() < 2.5
