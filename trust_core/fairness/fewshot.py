"""AEDA's few-shot pilot: adversarial pseudo-samples for rare MNIST digits (Zhang & Sang, ACM MM 2020, Sec. 6).

Protocol (ours): 10-way MNIST where the ``few`` digits (2, 4, 6, 8) have ``shots`` training images each and
the other six have ``n_base`` each. *Original* trains on that. *AEDA_robust* adversarially trains a classifier
on the same data (L2 PGD, Madry et al.) with every digit weighing the same in its loss, attacks base-digit
images towards each few-shot digit with targeted L2 PGD and adds the results *labelled as the attacked digit*:
a robust model's adversarial examples carry features of the target class, so they stand in for the missing
samples. Unweighted, the robust classifier never predicts a rare digit (0% on each, seed 0), so attacks towards
one find little of it. Reported: per-digit test accuracy.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from trust_core.attacks import PGD
from trust_core.fairness.baselines import fit_debias, predict, target_loss
from trust_core.fairness.datasets import Split
from trust_core.fairness.models import DebiasNet

FEW = (2, 4, 6, 8)


def fewshot_mnist(*, few: tuple[int, ...] = FEW, shots: int = 4, n_base: int = 500, n_test: int = 2000,
                  seed: int = 0) -> tuple[Split, Split]:
    """(train, test): ``shots`` images of every digit in ``few``, ``n_base`` of each other digit; the bias
    label ``b`` is 1 for few-shot digits. The test split is the first ``n_test`` MNIST-test images."""
    from trust_core.data import mnist_tensors

    if shots < 1 or n_base < 1 or not few or not set(few) < set(range(10)):
        raise ValueError(f"need shots, n_base >= 1 and few a proper subset of 0..9, got {shots}, {n_base}, {few}")
    x, y = mnist_tensors("train")
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    keep = torch.cat([order[y[order] == d][: shots if d in few else n_base] for d in range(10)])
    xt, yt = mnist_tensors("test", limit=n_test)
    is_few = torch.tensor([d in few for d in range(10)])
    return Split(x[keep], y[keep], is_few[y[keep]].long()), Split(xt, yt, is_few[yt].long())


def _net(seed: int, width: int) -> DebiasNet:
    torch.manual_seed(seed)
    return DebiasNet(n_target=10, n_bias=2, in_channels=1, width=width)  # only the target head is used


def _fit(split: Split, loss: object, *, seed: int, epochs: int, batch: int, lr: float, width: int,
         n_steps_of: int) -> DebiasNet:
    steps = epochs * -(-n_steps_of // batch)
    return fit_debias(_net(seed, width), split, loss, steps=steps, batch=batch, lr=lr, seed=seed)  # type: ignore[arg-type]


def class_balanced_weights(y: torch.Tensor) -> torch.Tensor:
    """Per-sample weights ∝ 1 / (size of its class), mean 1: every class weighs the same in the loss."""
    weights = 1 / torch.bincount(y).float()[y]
    return weights / weights.mean()


def pseudo_samples(train: Split, net: DebiasNet, *, few: tuple[int, ...], per_class: int, eps: float,
                   steps: int, seed: int = 0) -> Split:
    """``per_class`` base images attacked towards each few-shot digit, labelled as that digit."""
    gen = torch.Generator().manual_seed(seed)
    base = torch.nonzero(train.b == 0).flatten()
    attack = PGD(net, eps=eps, alpha=2.5 * eps / steps, steps=steps, norm="l2", targeted=True, random_start=False)
    xs, ys = [], []
    for digit in few:
        pick = base[torch.randperm(len(base), generator=gen)[:per_class]]
        target = torch.full((len(pick),), digit)
        xs.append(attack(train.x[pick], target))
        ys.append(target)
    y = torch.cat(ys)
    return Split(torch.cat(xs), y, torch.ones_like(y))


def fewshot_pilot(*, seed: int = 0, few: tuple[int, ...] = FEW, shots: int = 4, n_base: int = 500,
                  n_test: int = 2000, epochs: int = 10, batch: int = 128, lr: float = 1e-3, width: int = 16,
                  robust_eps: float = 1.0, eps: float = 4.0, attack_steps: int = 10,
                  per_class: int = 100) -> dict[str, dict[int, float]]:
    """Per-digit test accuracy (%) on ``few`` for Original and AEDA_robust (same steps, seed and net)."""
    train, test = fewshot_mnist(few=few, shots=shots, n_base=n_base, n_test=n_test, seed=seed)
    common = {"seed": seed, "epochs": epochs, "batch": batch, "lr": lr, "width": width, "n_steps_of": len(train)}
    plain = _fit(train, target_loss, **common)
    robust_net = _net(seed + 1, width)
    madry = PGD(robust_net, eps=robust_eps, alpha=2.5 * robust_eps / 5, steps=5, norm="l2", seed=seed)

    def robust_loss(net: DebiasNet, x: torch.Tensor, y: torch.Tensor, b: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        loss = F.cross_entropy(net(torch.cat([x, madry(x, y)])), torch.cat([y, y]), reduction="none")
        return (loss * torch.cat([w, w])).mean()

    robust_net = fit_debias(robust_net, train, robust_loss, steps=epochs * -(-len(train) // batch), batch=batch,
                            lr=lr, seed=seed + 1, weights=class_balanced_weights(train.y))  # type: ignore[arg-type]
    extra = pseudo_samples(train, robust_net, few=few, per_class=per_class, eps=eps, steps=attack_steps, seed=seed)
    augmented = Split(torch.cat([train.x, extra.x]), torch.cat([train.y, extra.y]), torch.cat([train.b, extra.b]))
    aeda = _fit(augmented, target_loss, **common)
    out = {}
    for name, net in (("original", plain), ("aeda-robust", aeda)):
        pred = torch.from_numpy(predict(net, test.x))
        out[name] = {d: 100 * (pred[test.y == d] == d).float().mean().item() for d in few}
    return out
