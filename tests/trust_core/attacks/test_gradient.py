"""The gradient family on the shipped MNIST CNN: effects, properties, an oracle, and argument checks."""
from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from trust_core.attacks import DI2FGSM, FGSM, GRADIENT_ATTACKS, IFGSM, MIFGSM, PGD, CosineDistance, GradientAttack
from trust_core.attacks.bench import naive_pgd


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


@pytest.fixture(scope="module")
def batch(mnist_test_slice):
    x, y = mnist_test_slice
    return x[:200], y[:200]


def test_clean_accuracy_is_high(mnist_cnn, batch):
    assert accuracy(mnist_cnn, *batch) >= 0.98


def test_pgd_linf_03_drives_robust_accuracy_to_at_most_1_percent(mnist_cnn, batch):
    adv = PGD(mnist_cnn, eps=0.3, alpha=0.01, steps=40, seed=0)(*batch)
    assert accuracy(mnist_cnn, adv, batch[1]) <= 0.01


@pytest.mark.parametrize(
    ("attack", "ceiling"),
    [
        (lambda m: FGSM(m, eps=0.3), 0.40),
        (lambda m: IFGSM(m, eps=0.3, alpha=0.03, steps=10), 0.05),
        (lambda m: MIFGSM(m, eps=0.3, alpha=0.03, steps=10), 0.05),
        (lambda m: DI2FGSM(m, eps=0.3, alpha=0.03, steps=10, seed=0), 0.10),
    ],
    ids=["fgsm", "ifgsm", "mifgsm", "di2fgsm"],
)
def test_each_method_drops_accuracy(mnist_cnn, batch, attack, ceiling):
    adv = attack(mnist_cnn)(*batch)
    assert accuracy(mnist_cnn, adv, batch[1]) <= ceiling


@pytest.mark.parametrize("name", sorted(GRADIENT_ATTACKS))
@pytest.mark.parametrize("norm,eps", [("linf", 0.1), ("l2", 1.5)])
def test_outputs_stay_in_range_and_budget(mnist_cnn, batch, name, norm, eps):
    x, y = batch[0][:32], batch[1][:32]
    adv = GRADIENT_ATTACKS[name](mnist_cnn, eps=eps, norm=norm)(x, y)
    assert adv.shape == x.shape and adv.dtype == x.dtype
    assert adv.min() >= 0 and adv.max() <= 1
    delta = (adv - x).flatten(1)
    size = delta.abs().amax(1) if norm == "linf" else delta.norm(dim=1)
    assert (size <= eps + 1e-5).all()
    assert (size > 0).any()


@pytest.mark.parametrize("name", sorted(GRADIENT_ATTACKS))
def test_eps_zero_returns_the_input(mnist_cnn, batch, name):
    x, y = batch[0][:8], batch[1][:8]
    assert torch.equal(GRADIENT_ATTACKS[name](mnist_cnn, eps=0.0)(x, y), x)


def test_targeted_pgd_reaches_target_on_90_percent(mnist_cnn, batch):
    x, y = batch
    target = (y + 1) % 10
    adv = PGD(mnist_cnn, eps=0.3, alpha=0.01, steps=40, targeted=True, seed=0)(x, target)
    with torch.no_grad():
        hit = (mnist_cnn(adv).argmax(1) == target).float().mean().item()
    assert hit >= 0.9


def test_l2_pgd_drops_accuracy(mnist_cnn, batch):
    adv = PGD(mnist_cnn, eps=3.0, alpha=0.25, steps=30, norm="l2", seed=0)(*batch)
    assert accuracy(mnist_cnn, adv, batch[1]) <= 0.10


def test_matches_the_naive_reference_loop_exactly(mnist_cnn, batch):
    """Oracle: same start, same steps -> the same adversarial images as the textbook loop."""
    x, y = batch[0][:64], batch[1][:64]
    model = copy.deepcopy(mnist_cnn)
    ours = PGD(model, eps=0.3, alpha=0.01, steps=10, random_start=False)(x, y)
    reference = naive_pgd(model, x, y, eps=0.3, alpha=0.01, steps=10, start=torch.zeros_like(x))
    assert torch.allclose(ours, reference, atol=1e-6)


def test_seeded_random_start_is_reproducible(mnist_cnn, batch):
    x, y = batch[0][:16], batch[1][:16]
    a = PGD(mnist_cnn, eps=0.3, steps=3, seed=7)(x, y)
    b = PGD(mnist_cnn, eps=0.3, steps=3, seed=7)(x, y)
    assert torch.equal(a, b)


def test_model_train_state_and_parameters_are_restored(mnist_cnn, batch):
    model = copy.deepcopy(mnist_cnn).train()
    model.classifier.eval()  # mixed per-module flags must come back as they were
    flags = {name: m.training for name, m in model.named_modules()}
    before = [p.detach().clone() for p in model.parameters()]
    PGD(model, eps=0.3, steps=2)(*batch)
    assert {name: m.training for name, m in model.named_modules()} == flags
    assert all(torch.equal(p, q) for p, q in zip(before, model.parameters(), strict=True))
    assert all(p.grad is None and p.requires_grad for p in model.parameters())


def test_cosine_distance_dodging_lowers_similarity(mnist_cnn, batch):
    """Face-verification style: the logits act as an embedding; dodging pushes it away from the reference.

    With the image itself as reference the similarity is at its maximum (zero gradient), so a random start is needed.
    """
    x = batch[0][:32]
    with torch.no_grad():
        ref = mnist_cnn(x)
    adv = PGD(mnist_cnn, eps=0.2, alpha=0.02, steps=20, loss=CosineDistance(), seed=0)(x, ref)
    with torch.no_grad():
        sim = torch.cosine_similarity(mnist_cnn(adv), ref).mean().item()
    assert sim < 0.3


def test_cosine_distance_checks_reference_shape(mnist_cnn, batch):
    with pytest.raises(ValueError, match="reference embeddings must have shape"):
        FGSM(mnist_cnn, eps=0.1, loss=CosineDistance())(batch[0][:4], torch.zeros(4, 3))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"eps": -0.1}, "eps must be >= 0"),
        ({"eps": float("nan")}, "eps must be a finite number"),
        ({"eps": 0.1, "steps": 0}, "steps must be a positive integer"),
        ({"eps": 0.1, "alpha": 0.0}, "alpha must be > 0"),
        ({"eps": 0.1, "norm": "l1"}, "norm must be one of"),
        ({"eps": 0.1, "diversity_prob": 1.5}, "diversity_prob must lie in"),
    ],
)
def test_invalid_hyperparameters_raise(mnist_cnn, kwargs, message):
    with pytest.raises(ValueError, match=message):
        GradientAttack(mnist_cnn, **kwargs)


@pytest.mark.parametrize(
    ("make_inputs", "message"),
    [
        (lambda x, y: (x[0], y[:1]), "must be a batch"),
        (lambda x, y: (x.clone().index_fill_(0, torch.tensor([0]), float("nan")), y), "NaN or inf"),
        (lambda x, y: (x * 2, y), r"must lie in \[0, 1\]"),
        (lambda x, y: ((x * 255).to(torch.uint8), y), "floating point"),
        (lambda x, y: (x, y[:-1]), "labels"),
        (lambda x, y: (x, y + 10), r"labels must lie in \[0, 9\]"),
        (lambda x, y: (x, -y - 1), r"labels must lie in \[0, 9\]"),
    ],
    ids=["no-batch-dim", "nan", "out-of-range", "uint8", "label-count", "label-high", "label-negative"],
)
def test_invalid_inputs_raise_readable_errors(mnist_cnn, batch, make_inputs, message):
    x, y = make_inputs(batch[0][:4], batch[1][:4])
    with pytest.raises(ValueError, match=message):
        PGD(mnist_cnn, eps=0.1, steps=1)(x, y)
