import pytest
import torch

from trust_core.models.mnist import MnistCNN
from trust_core.models.train_mnist import evaluate, fit
from trust_core.poisoning.label_flip import flip_labels


def test_random_flip_changes_exactly_the_rate():
    labels = torch.arange(1000) % 10
    flipped, mask = flip_labels(labels, rate=0.3, seed=1)
    assert mask.sum() == 300 and (flipped[mask] != labels[mask]).all() and torch.equal(flipped[~mask], labels[~mask])


def test_targeted_flip_teaches_the_confusion(mnist_train_slice, mnist_test_slice):
    x, y = mnist_train_slice
    flipped, mask = flip_labels(y, rate=1.0, source=7, target=1)
    assert mask.sum() == (y == 7).sum() and (flipped[mask] == 1).all()
    torch.manual_seed(0)
    model = fit(MnistCNN(width=8), x, flipped, epochs=2, seed=0)
    sevens = mnist_test_slice[0][mnist_test_slice[1] == 7]
    assert (model(sevens).argmax(1) == 1).float().mean() >= 0.9
    others = mnist_test_slice[1] != 7
    assert evaluate(model, mnist_test_slice[0][others], mnist_test_slice[1][others]) >= 0.9


@pytest.mark.parametrize("kwargs, message", [
    (dict(rate=1.2), "rate"), (dict(rate=0.1, source=3), "both"), (dict(rate=0.1, source=3, target=12), "unknown"),
    (dict(rate=0.1, source=3, target=3), "differ"),
])
def test_bad_flip_configuration_is_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        flip_labels(torch.arange(10), **kwargs)
