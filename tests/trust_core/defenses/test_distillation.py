"""Defensive distillation (Papernot et al. 2016) stops FGSM; C&W L2 (Carlini & Wagner 2017) still succeeds."""
import torch

from trust_core.attacks import FGSM, CarliniWagnerL2
from trust_core.defenses.distillation import distill
from trust_core.defenses.models import stride_cnn


def test_distilled_model_resists_fgsm_but_not_cw(defense_model, mnist_cnn, mnist_test_slice):
    model = defense_model("defenses_distilled")
    x, y = mnist_test_slice[0][:128], mnist_test_slice[1][:128]
    with torch.no_grad():
        fgsm_distilled = (model(FGSM(model, eps=0.3)(x, y)).argmax(1) != y).float().mean().item()
        fgsm_clean = (mnist_cnn(FGSM(mnist_cnn, eps=0.3)(x, y)).argmax(1) != y).float().mean().item()
    assert fgsm_distilled <= 0.2 < fgsm_clean
    x, y = x[:10], y[:10]
    adv = CarliniWagnerL2(model, c=5.0, steps=40, lr=0.05, search_steps=2)(x, y)
    with torch.no_grad():
        assert (model(adv).argmax(1) != y).float().mean() >= 0.9


def test_distill_trains_student_with_larger_logits(mnist_train_slice):
    x, y = mnist_train_slice
    teacher, student = distill(lambda: stride_cnn(4, 32), x, y, temperature=20.0, epochs=2, lr=3e-3)
    with torch.no_grad():
        assert student(x[:64]).abs().mean() > 3 * teacher(x[:64]).abs().mean() / 20
        assert (student(x).argmax(1) == y).float().mean() > 0.6
