import pytest
import torch

from trust_core.backdoor.features import layer_inputs
from trust_core.poisoning.feature_collision import feature_collision, retrain_head


def test_poisons_collide_with_the_target_and_flip_it(mnist_train_slice, mnist_test_slice, mnist_cnn):
    """Clean-label: 50 correctly labelled 3s, crafted on a 7, make the re-trained head call that 7 a 3."""
    x, y = mnist_train_slice[0][:1000], mnist_train_slice[1][:1000]
    bases = x[y == 3][:50]
    target = mnist_test_slice[0][mnist_test_slice[1] == 7][:1]
    poisons = feature_collision(mnist_cnn, bases, target, steps=200)
    goal = layer_inputs(mnist_cnn, target)
    before = (layer_inputs(mnist_cnn, bases) - goal).norm(dim=1).mean()
    after = (layer_inputs(mnist_cnn, poisons) - goal).norm(dim=1).mean()
    assert after < 0.2 * before
    assert retrain_head(mnist_cnn, x, y)(target).argmax() == 7
    poisoned_head = retrain_head(mnist_cnn, torch.cat([x, poisons]), torch.cat([y, torch.full((50,), 3)]))
    assert poisoned_head(target).argmax() == 3


def test_target_must_match_the_bases():
    with pytest.raises(ValueError, match="target"):
        feature_collision(torch.nn.Linear(4, 2), torch.rand(3, 1, 28, 28), torch.rand(2, 1, 28, 28))
