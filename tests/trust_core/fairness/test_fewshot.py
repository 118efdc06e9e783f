"""The few-shot pilot's data and pseudo-samples: rare digits keep their shots, and a robust classifier's targeted
L2 examples are read as the attacked digit and labelled as it."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from trust_core.attacks import PGD
from trust_core.fairness.baselines import fit_debias
from trust_core.fairness.fewshot import FEW, _net, class_balanced_weights, fewshot_mnist, pseudo_samples


def test_fewshot_split_keeps_shots_for_rare_digits() -> None:
    train, test = fewshot_mnist(shots=4, n_base=50, n_test=300, seed=0)
    counts = torch.bincount(train.y, minlength=10)
    assert all(counts[d] == 4 for d in FEW) and all(counts[d] == 50 for d in range(10) if d not in FEW)
    assert torch.equal(train.b, torch.isin(train.y, torch.tensor(FEW)).long()) and len(test) == 300


def test_class_balanced_weights_give_every_digit_the_same_total_weight() -> None:
    assert torch.allclose(class_balanced_weights(torch.tensor([0, 0, 0, 1])), torch.tensor([2 / 3, 2 / 3, 2 / 3, 2]))
    train, _ = fewshot_mnist(shots=4, n_base=50, n_test=10, seed=0)
    weights = class_balanced_weights(train.y)
    totals = torch.zeros(10).index_add_(0, train.y, weights)
    assert torch.allclose(totals, totals.mean().expand(10)) and abs(weights.mean().item() - 1) < 1e-6


def test_pseudo_samples_are_read_as_the_attacked_digit() -> None:
    torch.set_num_threads(1)
    train, _ = fewshot_mnist(shots=4, n_base=40, seed=0)
    net = _net(0, 8)
    madry = PGD(net, eps=1.0, alpha=0.5, steps=2, norm="l2", seed=0)

    def loss(net, x, y, b, w):
        return F.cross_entropy(net(torch.cat([x, madry(x, y)])), torch.cat([y, y]))

    net = fit_debias(net, train, loss, steps=150, batch=64, lr=3e-3)
    extra = pseudo_samples(train, net, few=FEW, per_class=10, eps=8.0, steps=10, seed=0)
    assert torch.equal(extra.y, torch.tensor(FEW).repeat_interleave(10)) and (extra.b == 1).all()
    assert extra.x.min() >= 0 and extra.x.max() <= 1
    base = train.x[train.b == 0][:40]
    with torch.no_grad():
        hit = (net(extra.x).argmax(1) == extra.y).float().mean().item()
        before = net(base).softmax(1)[:, list(FEW)].mean().item()
        after = net(extra.x).softmax(1).gather(1, extra.y[:, None]).mean().item()
    assert hit > 0.15 and after > 4 * before  # measured: 40% read as the rare digit, p 0.27 vs ~0.02 on base digits
