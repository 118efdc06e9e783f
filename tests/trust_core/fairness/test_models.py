"""The debiasing model's feature extractors: a frozen pretrained backbone stays frozen and in eval mode; a
fine-tuned one trains a copy at its share of the learning rate."""
from __future__ import annotations

import torch
from torch import nn

import pytest

from trust_core.data.celeba import face_box
from trust_core.fairness.baselines import fit_debias, parameter_groups, target_loss
from trust_core.fairness.datasets import Split
from trust_core.fairness.models import DebiasNet, TunedBackbone, backbone_features


def test_frozen_backbone_keeps_eval_mode_and_weights_while_the_top_trains() -> None:
    torch.manual_seed(0)
    backbone = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.BatchNorm1d(8))
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    net = DebiasNet(n_target=2, n_bias=2, features=backbone_features(backbone, embedding_dim=8, feature_dim=64))
    net.train()
    assert not backbone.training  # batch-norm statistics must not move
    x = torch.rand(16, 3, 2, 2, requires_grad=True)
    opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.5)
    loss = nn.functional.cross_entropy(net(x), torch.randint(0, 2, (16,)))
    loss.backward()
    opt.step()
    assert x.grad is not None and x.grad.abs().sum() > 0  # attacks get input gradients through it
    assert all(torch.equal(before[k], v) for k, v in backbone.state_dict().items())
    assert net.target_head.weight.grad is not None


def test_tuned_backbone_trains_a_copy_at_its_share_of_the_learning_rate() -> None:
    torch.manual_seed(0)
    backbone = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.BatchNorm1d(8))
    original = {k: v.clone() for k, v in backbone.state_dict().items()}
    net = DebiasNet(n_target=2, n_bias=2,
                    features=backbone_features(backbone, embedding_dim=8, feature_dim=64, lr_scale=0.1))
    tuned = net.features[0]
    groups = parameter_groups(net, 1e-2)
    assert [g["lr"] for g in groups] == [1e-2, pytest.approx(1e-3)]
    assert sum(len(g["params"]) for g in groups) == len(list(net.parameters()))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    split = Split(torch.rand(32, 3, 2, 2), torch.randint(0, 2, (32,)), torch.randint(0, 2, (32,)))
    fit_debias(net, split, target_loss, steps=2, batch=32, lr=1e-2)
    moved = {k: (v - before[k]).abs().max().item() for k, v in net.state_dict().items() if v.is_floating_point()}
    # Adam moves each weight by about its learning rate per step, the same share in each group
    assert moved["features.0.module.1.weight"] == pytest.approx(0.1 * moved["target_head.weight"], rel=0.05)
    assert all(torch.equal(original[k], v) for k, v in backbone.state_dict().items())  # the shared one is untouched
    assert tuned.module.training is False and isinstance(tuned, TunedBackbone)
    with pytest.raises(ValueError, match="lr_scale"):
        TunedBackbone(backbone, lr_scale=0.0)


def test_celeba_face_box_scales_with_the_image() -> None:
    assert face_box(89) == (22.0, 38.0, 67.0, 93.0)  # CelebA-10k's half-size aligned images
    assert face_box(178) == (44.0, 76.0, 134.0, 186.0)
