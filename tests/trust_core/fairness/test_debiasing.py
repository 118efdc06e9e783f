"""Small real runs on C-MNIST: the original model follows the colour, a debiasing method does better on both
bACC and bias, and AEDA's bias-flipping adversarial examples flip the bias classifier (attack core's PGD)."""
from __future__ import annotations

import dataclasses

import pytest
import torch
from typer.testing import CliRunner

from trust_core.fairness.aeda import _bias_loss, augment_with_flips, balancing_keep, bias_head_loss, flipped_bias
from trust_core.fairness.baselines import (
    fit_debias,
    new_net,
    original,
    predict,
    reweighing_weights,
    undersample,
    undersample_index,
)
from trust_core.fairness.metrics import fairness_report


def _report(data, net) -> dict[str, float]:
    return fairness_report(data.test.y, predict(net, data.test.x), data.test.b)


def test_original_is_biased_and_undersampling_improves_bacc_and_bias(small_cmnist) -> None:
    biased = _report(small_cmnist, original(small_cmnist, seed=0, epochs=1))
    assert biased["bacc"] < 20 and biased["bias"] > 50  # it reads the colour, not the digit
    fairer = _report(small_cmnist, undersample(small_cmnist, seed=0, epochs=6))  # ~40 images: cheap steps
    assert fairer["bacc"] > biased["bacc"] + 5
    assert fairer["bias"] < biased["bias"] - 10


def test_undersampling_balances_every_target_class(small_cmnist) -> None:
    keep = undersample_index(small_cmnist.train, n_target=10, n_bias=10, seed=0)
    sub = small_cmnist.train.subset(keep)
    for t in range(10):
        counts = torch.bincount(sub.b[sub.y == t], minlength=10)
        present = counts[counts > 0]
        assert len(present) >= 2 and (present == present[0]).all()


def test_reweighing_gives_every_cell_its_independent_mass(small_cmnist) -> None:
    train = small_cmnist.train
    w = reweighing_weights(train, n_target=10, n_bias=10)
    counts = torch.zeros(10, 10).index_put_((train.y, train.b), torch.ones(len(train)), accumulate=True)
    mass = torch.zeros(10, 10).index_put_((train.y, train.b), w, accumulate=True)
    present = counts > 0
    independent = counts.sum(1, keepdim=True) * counts.sum(0, keepdim=True) / counts.sum()
    ratio = mass[present] / independent[present]  # weighted cell mass ∝ P(t) P(b)
    assert torch.allclose(ratio, ratio[0].expand_as(ratio), rtol=1e-4)
    assert w[train.y != train.b].min() > 10 * w[train.y == train.b].max()  # rare conflicting cells weigh more


def test_flipped_bias_labels_always_differ() -> None:
    b = torch.randint(0, 10, (1000,))
    assert (flipped_bias(b, 10) != b).all()
    assert torch.equal(flipped_bias(torch.tensor([0, 1, 1]), 2), torch.tensor([1, 0, 0]))
    with pytest.raises(ValueError):
        flipped_bias(b, 1)


def test_several_flips_per_sample_go_to_distinct_other_groups() -> None:
    b = torch.randint(0, 10, (500,))
    flips = flipped_bias(b, 10, count=9, generator=torch.Generator().manual_seed(0)).view(9, 500)
    assert (flips != b).all()
    every_other = torch.sort(flips, dim=0).values  # nine distinct labels per sample: all groups but its own
    expected = torch.stack([torch.tensor([g for g in range(10) if g != int(v)]) for v in b], dim=1)
    assert torch.equal(every_other, expected)
    for bad in (0, 10):
        with pytest.raises(ValueError, match="count"):
            flipped_bias(b, 10, count=bad)
    with pytest.raises(ValueError, match="count"):
        flipped_bias(torch.tensor([0, 1]), 2, count=2)


def test_aeda_examples_flip_the_bias_classifier_and_keep_target_labels(small_cmnist) -> None:
    data = dataclasses.replace(small_cmnist, train=small_cmnist.train.subset(torch.arange(300)))
    bias_net = fit_debias(new_net(small_cmnist, seed=1), small_cmnist.train, _bias_loss, steps=40)
    with torch.no_grad():
        assert (bias_net.bias_logits(data.train.x).argmax(1) == data.train.b).float().mean() > 0.95
    aug = augment_with_flips(data, bias_net, eps=1.0, attack_steps=5, seed=0)
    n = len(data.train)
    adv, flipped = aug.x[-n:], aug.b[-n:]
    kept = len(aug) - n  # the clean images balancing_keep keeps (about 1 in 9 for ten colours), then the flips
    assert 10 < kept < 70
    assert (aug.x[:kept, None] == data.train.x[None]).flatten(2).all(2).any(1).all()  # untouched originals
    assert torch.equal(aug.y[-n:], data.train.y) and (flipped != data.train.b).all()
    assert adv.min() >= 0 and adv.max() <= 1
    with torch.no_grad():
        success = (bias_net.bias_logits(adv).argmax(1) == flipped).float().mean().item()
    assert success > 0.3  # the clean images carry their own colour: 0% flipped before the attack


def test_l2_flips_flip_the_bias_classifier_within_the_ball(small_cmnist) -> None:
    data = dataclasses.replace(small_cmnist, train=small_cmnist.train.subset(torch.arange(200)))
    bias_net = fit_debias(new_net(small_cmnist, seed=1), small_cmnist.train, _bias_loss, steps=40)
    aug = augment_with_flips(data, bias_net, eps=20.0, attack_steps=5, norm="l2", seed=0)
    n = len(data.train)
    shift = (aug.x[-n:] - data.train.x).flatten(1).norm(dim=1)
    assert (shift <= 20.0 + 1e-3).all()
    with torch.no_grad():
        success = (bias_net.bias_logits(aug.x[-n:]).argmax(1) == aug.b[-n:]).float().mean().item()
    assert success > 0.3


def test_tint_flips_recolour_the_background_and_keep_the_digit(small_cmnist) -> None:
    data = dataclasses.replace(small_cmnist, train=small_cmnist.train.subset(torch.arange(300)))
    bias_net = fit_debias(new_net(small_cmnist, seed=1), small_cmnist.train, _bias_loss, steps=40)
    aug = augment_with_flips(data, bias_net, eps=1.0, attack_steps=10, norm="tint", seed=0)
    adv, flipped = aug.x[-300:], aug.b[-300:]
    assert torch.equal(aug.y[-300:], data.train.y) and (flipped != data.train.b).all()
    white = data.train.x.amin(1) == 1  # the digit's strokes
    assert torch.equal(adv.permute(0, 2, 3, 1)[white], data.train.x.permute(0, 2, 3, 1)[white])
    with torch.no_grad():
        success = (bias_net.bias_logits(adv).argmax(1) == flipped).float().mean().item()
    assert success > 0.7  # measured 0.8-0.9; pixel-space L∞ flips at eps 1.0 reach about 0.35


def test_balancing_keeps_one_clean_image_per_other_group() -> None:
    gen = torch.Generator().manual_seed(0)
    assert balancing_keep(50, 2).all()
    share = balancing_keep(90000, 10, generator=gen).float().mean().item()
    assert abs(share - 1 / 9) < 0.005
    share = balancing_keep(90000, 10, flips=3, generator=gen).float().mean().item()
    assert abs(share - 3 / 9) < 0.005  # three flipped copies per image: keep one original in three
    assert balancing_keep(50, 10, flips=9).all()


def test_online_forms_need_a_positive_bias_weight(small_cmnist) -> None:
    from trust_core.fairness.aeda import aeda_online, aeda_robust

    for fn in (aeda_online, aeda_robust):
        with pytest.raises(ValueError, match="bias_weight"):
            fn(small_cmnist, epochs=1, bias_weight=0.0)
        with pytest.raises(ValueError, match="flips"):
            fn(small_cmnist, epochs=1, flips=10)  # ten colours: at most nine other groups


def test_online_flips_send_every_image_to_several_distinct_colours(small_cmnist, monkeypatch) -> None:
    from trust_core.fairness import aeda

    data = dataclasses.replace(small_cmnist, train=small_cmnist.train.subset(torch.arange(256)))
    calls = []

    def recording_flip(net, **kw):
        def attack(x, targets):
            calls.append((x.clone(), targets.clone()))
            return x
        return attack

    monkeypatch.setattr(aeda, "flip_attack", recording_flip)
    aeda.aeda_online(data, epochs=1, batch=64, bias_weight=0.1, flips=3)
    assert len(calls) == 4  # one per batch
    for x, targets in calls:
        assert len(x) == len(targets) == 3 * 64
        assert torch.equal(x[:64], x[64:128]) and torch.equal(x[:64], x[128:])  # three copies of the batch
        per_image = targets.view(3, 64).sort(0).values
        assert (per_image[1:] != per_image[:-1]).all()  # three different colours for each image


def test_a_reading_bias_head_leaves_the_shared_features_untouched(small_cmnist) -> None:
    x, b = small_cmnist.train.x[:64], small_cmnist.train.b[:64]
    grads = {}
    for trains in (True, False):
        net = new_net(small_cmnist, seed=0)
        bias_head_loss(net, x, b, trains_features=trains).backward()
        grads[trains] = ([p.grad for p in net.features.parameters()], net.bias_head.weight.grad)
    assert all(g is not None and g.abs().sum() > 0 for g in grads[True][0])
    assert all(g is None for g in grads[False][0])
    assert torch.allclose(grads[True][1], grads[False][1])  # the head learns the same either way


def test_cli_rejects_unknown_method() -> None:
    from trust_core.fairness.cli import app

    result = CliRunner().invoke(app, ["cmnist", "--method", "magic", "--seeds", "1"])
    assert result.exit_code != 0
    assert "unknown method" in result.output
