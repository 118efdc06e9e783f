"""Common corruptions (Hendrycks & Dietterich 2019) on MNIST: severity hurts, CE / mCE are consistent."""
import pytest
import torch

from trust_core.models.train_mnist import evaluate
from trust_core.robustness.corruptions import corrupt, corruption_names
from trust_core.robustness.metrics import CorruptionErrors, corruption_error, corruption_errors, mce


def test_every_family_is_covered_and_corruptions_are_deterministic(mnist_test_slice):
    assert set(corruption_names().values()) == {"noise", "blur", "weather", "digital"}
    x = mnist_test_slice[0][:8]
    for name in corruption_names():
        out = corrupt(x, name, 3, seed=1)
        assert out.shape == x.shape and 0 <= out.min() and out.max() <= 1
        assert torch.equal(out, corrupt(x, name, 3, seed=1)) and not torch.equal(out, x)
    with pytest.raises(ValueError):
        corrupt(x, "gaussian_noise", 6)


@pytest.mark.parametrize("name", ["gaussian_noise", "motion_blur", "pixelate", "brightness"])
def test_accuracy_falls_with_severity(mnist_cnn, mnist_test_slice, name):
    x, y = mnist_test_slice[0][:200], mnist_test_slice[1][:200]
    accuracies = [evaluate(mnist_cnn, corrupt(x, name, s), y) for s in (1, 5)]
    assert accuracies[1] < accuracies[0] - 0.03


def test_mce_against_itself_is_100_and_scales_with_errors(mnist_cnn, mnist_test_slice):
    x, y = mnist_test_slice[0][:100], mnist_test_slice[1][:100]
    errors = corruption_errors(mnist_cnn, x, y, names=["pixelate", "impulse_noise"])
    assert mce(errors, errors) == pytest.approx(100)
    doubled = CorruptionErrors(clean=errors.clean, errors={k: [2 * e for e in v] for k, v in errors.errors.items()})
    assert corruption_error(doubled, errors, "pixelate") == pytest.approx(200)
