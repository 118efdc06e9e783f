"""Feature squeezing (Xu et al. 2018) detects PGD examples on MNIST."""
import pytest

from trust_core.attacks import PGD
from trust_core.defenses.squeeze import FeatureSqueezing, roc_auc


def test_feature_squeezing_detects_pgd(mnist_cnn, mnist_test_slice):
    x, y = mnist_test_slice[0][:64], mnist_test_slice[1][:64]
    adv = PGD(mnist_cnn, eps=0.3, alpha=0.05, steps=10, seed=0)(x, y)
    detector = FeatureSqueezing(mnist_cnn).fit(mnist_test_slice[0][64:128], fpr=0.05)
    assert roc_auc(detector.score(x), detector.score(adv)) >= 0.9
    assert detector.detect(adv).float().mean() >= 0.6
    assert detector.detect(x).float().mean() <= 0.15


def test_detect_needs_fit(mnist_cnn, mnist_test_slice):
    with pytest.raises(ValueError):
        FeatureSqueezing(mnist_cnn).detect(mnist_test_slice[0][:2])
