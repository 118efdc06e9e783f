import numpy as np
import pytest
import torch
from torch.nn.utils import parameters_to_vector

from trust_core.models.train_mnist import evaluate
from trust_core.unlearning import consistency, fit_power_law, power_law, predictions


def _vector(model):
    return parameters_to_vector(model.parameters()).detach()


def test_power_law_fit_recovers_parameters():
    x = np.arange(1, 30, dtype=float)
    a, h, b = fit_power_law(x, power_law(x, 0.8, 0.7, 0.02))
    assert a == pytest.approx(0.8, rel=1e-3) and h == pytest.approx(0.7, rel=1e-3) and b == pytest.approx(0.02, abs=1e-4)
    with pytest.raises(ValueError, match="3 points"):
        fit_power_law(x[:2], x[:2])


def test_retraining_every_block_is_exact_naive_retraining(blocks):
    deleted = torch.arange(3000, 3050)
    naive, work, _ = blocks.retrain(deleted)
    full = blocks.unlearn(deleted, epsilon=0.0)  # never stops: retrains blocks 30..59 (resuming the stored SGD
    # velocity, else the runs would differ) and stitches nothing
    assert full.first_block == 30 and full.blocks_retrained == 30
    assert torch.equal(_vector(full.model), _vector(naive))
    assert work == 5950 * 2 and full.work == 2950 * 2


@pytest.mark.parametrize("count, epsilon", [(10, 0.05), (100, 0.2)])
def test_deepobliviate_stops_early_and_matches_retraining(blocks, mnist_test_slice, count, epsilon):
    x_test, y_test = mnist_test_slice
    deleted = torch.arange(3000, 3000 + count)
    naive, work, _ = blocks.retrain(deleted)
    u = blocks.unlearn(deleted, epsilon=epsilon)
    assert 2 <= u.blocks_retrained < 30 and work / u.work >= 5  # stopped well before the end: a real speed-up
    assert u.residuals[-1] < epsilon <= u.residuals[0] / 1.5  # the residual memory fades below ε
    # SGD's update is linear in the block's gradients: deleting a share of the block changes it by that share
    assert u.residuals[0] == pytest.approx(count / 100, rel=0.1)
    assert consistency(predictions(u.model, x_test), predictions(naive, x_test)) >= 0.97
    assert evaluate(u.model, x_test, y_test) >= evaluate(naive, x_test, y_test) - 0.03
    assert not torch.equal(_vector(u.model), _vector(blocks.model()))


def test_deleting_nothing_known_is_rejected(blocks):
    with pytest.raises(ValueError, match="none of the deleted"):
        blocks.unlearn(torch.tensor([10 ** 6]))
