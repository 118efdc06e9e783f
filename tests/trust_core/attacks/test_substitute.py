"""Papernot et al.'s black-box attack: substitute from label queries with Jacobian augmentation, FGSM transfer."""
import pytest
import torch

from trust_core.attacks import FGSM, train_substitute
from trust_core.attacks.substitute import jacobian_augment
from trust_core.extraction.substitute import LeNet5


@pytest.mark.slow
def test_substitute_examples_transfer_to_the_black_box(mnist_cnn, mnist_test_slice):
    x, y = mnist_test_slice
    queries = []

    def oracle(images):
        queries.append(len(images))
        return mnist_cnn(images)

    result = train_substitute(oracle, x[:100], LeNet5, rounds=4, epochs=10)
    assert result.dataset_size == 800 and result.queries == sum(queries) == 800
    x_eval, y_eval = x[100:356], y[100:356]
    adv = FGSM(result.substitute, eps=0.3)(x_eval, y_eval)
    noise = (x_eval + 0.3 * torch.sign(torch.randn(x_eval.shape, generator=torch.Generator().manual_seed(0)))).clamp(0, 1)
    with torch.no_grad():
        transfer = (mnist_cnn(adv).argmax(1) != y_eval).float().mean().item()
        random = (mnist_cnn(noise).argmax(1) != y_eval).float().mean().item()
    assert transfer >= 0.25 and transfer > 2 * random


def test_jacobian_augmentation_queries_only_new_points(mnist_cnn, mnist_test_slice):
    x = mnist_test_slice[0][:20]
    asked = []

    def oracle(images):
        asked.append(len(images))
        return mnist_cnn(images)

    result = train_substitute(oracle, x, LeNet5, rounds=3, epochs=2)
    assert asked == [20, 20, 40] and result.queries == 80 and result.dataset_size == 80
    labels = mnist_cnn(x).argmax(1)
    step = jacobian_augment(result.substitute, x, labels, 0.1) - x
    assert torch.all(step.abs() <= 0.1 + 1e-6) and (step.abs() > 0.09).float().mean() > 0.3
