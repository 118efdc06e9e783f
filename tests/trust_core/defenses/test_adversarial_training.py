"""PGD-AT (Madry et al. 2018) and TRADES (Zhang et al. 2019): the shipped models resist PGD, the clean one does not."""
import torch

from trust_core.defenses.adversarial import KLDivergence, adversarial_fit, robust_accuracy
from trust_core.defenses.models import stride_cnn
from trust_core.models.train_mnist import evaluate


def test_adversarially_trained_models_resist_pgd(defense_model, mnist_cnn, mnist_test_slice):
    x, y = mnist_test_slice[0][:60], mnist_test_slice[1][:60]
    assert robust_accuracy(mnist_cnn, x, y, eps=0.3, steps=10, alpha=0.05) <= 0.05
    for name, clean_min, robust_min in [("defenses_pgd_at", 0.97, 0.85), ("defenses_trades", 0.95, 0.8)]:
        model = defense_model(name)
        assert evaluate(model, x, y) >= clean_min
        assert robust_accuracy(model, x, y, eps=0.3, steps=40, alpha=0.01) >= robust_min


def test_trainer_runs_both_methods_and_kl_is_zero_on_clean(mnist_train_slice):
    x, y = mnist_train_slice[0][:128], mnist_train_slice[1][:128]
    logits = torch.randn(4, 10)
    assert torch.allclose(KLDivergence()(logits, logits.softmax(1)), torch.zeros(4), atol=1e-6)
    for method in ("pgd", "trades"):
        model = adversarial_fit(stride_cnn(4, 16), x, y, method=method, eps=0.3, steps=1, epochs=1, batch=64)
        assert not model.training
