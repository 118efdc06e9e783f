"""The debiasing model's feature extractors: a frozen pretrained backbone stays frozen and in eval mode."""
from __future__ import annotations

import torch
from torch import nn

from trust_core.data.celeba import face_box
from trust_core.fairness.models import DebiasNet, backbone_features


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


def test_celeba_face_box_scales_with_the_image() -> None:
    assert face_box(89) == (22.0, 38.0, 67.0, 93.0)  # CelebA-10k's half-size aligned images
    assert face_box(178) == (44.0, 76.0, 134.0, 186.0)
