import pytest
import torch

from trust_core.models.mnist import MnistCNN
from trust_core.models.train_mnist import fit
from trust_core.poisoning.adversarial import adversarial_poison, gap_row


def test_adversarial_poisons_open_a_generalisation_gap(mnist_train_slice, mnist_test_slice, mnist_cnn):
    """ε = 0.3 (L∞): the model trained on poisons fits them yet fails on clean test data; the clean one does not."""
    x, y = mnist_train_slice[0][:3000], mnist_train_slice[1][:3000]
    poisoned = adversarial_poison(mnist_cnn, x, y, eps=0.3, steps=5)
    assert (poisoned - x).abs().max() <= 0.3 + 1e-6

    def train(images):
        torch.manual_seed(0)
        return fit(MnistCNN(width=8), images, y, epochs=2, seed=0)

    clean = gap_row(train(x), (x, y), mnist_test_slice, data="clean", eps=0.0)
    attacked = gap_row(train(poisoned), (poisoned, y), mnist_test_slice, data="poisoned", eps=0.3)
    assert clean.test_error <= 0.15 and attacked.train_error <= 0.05
    assert attacked.test_error >= clean.test_error + 0.25 and attacked.gap >= 0.25


@pytest.mark.parametrize("kwargs, message", [
    (dict(eps=0.0), "eps"), (dict(eps=1.5), "eps"), (dict(eps=0.1, steps=0), "steps"),
    (dict(eps=0.1, labels=torch.tensor([0, 10])), "unknown label"), (dict(eps=0.1, labels=torch.tensor([0])), "labels"),
])
def test_bad_poisoning_configuration_is_rejected(kwargs, message):
    labels = kwargs.pop("labels", torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=message):
        adversarial_poison(torch.nn.Flatten(), torch.rand(2, 1, 28, 28), labels, **kwargs)
