"""Query-based model stealing against a black-box classifier that answers with labels.

- Knockoff-style stealing (Orekondy et al., CVPR 2019, the ``random`` strategy): query a sample of the attacker's
  own natural images and train the substitute on the answers.
- Jacobian-based dataset augmentation (Papernot et al., AsiaCCS 2017): from a small seed set, grow
  S_{r+1} = S_r ∪ {x + λ sign(∇_x F_sub[O(x)](x))} and retrain after every round.
- DRMI (He et al., USENIX Security 2021): query the subset chosen by :func:`trust_core.extraction.drmi.drmi_select`.
Transferability: the share of adversarial examples crafted on the substitute that also fool the victim.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from trust_core.models.train_mnist import fit
from trust_core.models.wrappers import eval_mode


class LabelOracle:
    """Black-box access to ``model``: top-1 labels only, every queried image counted."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.queries = 0

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        self.queries += len(images)
        with torch.no_grad(), eval_mode(self.model):
            return torch.cat([self.model(chunk).argmax(1) for chunk in images.split(1000)])


def train_substitute(
    oracle: LabelOracle,
    images: torch.Tensor,
    *,
    make_model: Callable[[], nn.Module],
    epochs: int = 40,
    seed: int = 0,
) -> nn.Module:
    """Label ``images`` with the victim (one query each) and fit a fresh substitute on the answers."""
    torch.manual_seed(seed)
    labels = oracle(images)
    batch = max(8, min(64, len(images) // 8))
    return fit(make_model(), images, labels, epochs=epochs, batch=batch, lr=1e-3, seed=seed)


def knockoff(
    oracle: LabelOracle, pool: torch.Tensor, budget: int, *, make_model: Callable[[], nn.Module], epochs: int = 40,
    seed: int = 0,
) -> nn.Module:
    """Knockoff random strategy: ``budget`` uniformly drawn images of the attacker's pool."""
    if not 1 <= budget <= len(pool):
        raise ValueError(f"budget must be in [1, {len(pool)}], got {budget}")
    pick = torch.randperm(len(pool), generator=torch.Generator().manual_seed(seed))[:budget]
    return train_substitute(oracle, pool[pick], make_model=make_model, epochs=epochs, seed=seed)


def jacobian_augmentation(
    oracle: LabelOracle,
    seed_images: torch.Tensor,
    budget: int,
    *,
    make_model: Callable[[], nn.Module],
    lam: float = 0.1,
    epochs: int = 40,
    seed: int = 0,
) -> nn.Module:
    """Papernot et al.'s substitute training: double the set each round along the sign of the substitute's Jacobian
    row of the victim's label, until ``budget`` queries are spent (the last round is truncated to fit)."""
    if budget < len(seed_images):
        raise ValueError(f"budget {budget} is smaller than the seed set ({len(seed_images)} images)")
    data, labels = seed_images.clone(), oracle(seed_images)
    gen = torch.Generator().manual_seed(seed)
    while True:
        torch.manual_seed(seed)
        batch = max(8, min(64, len(data) // 8))
        model = fit(make_model(), data, labels, epochs=epochs, batch=batch, lr=1e-3, seed=seed)
        room = budget - len(data)
        if room <= 0:
            return model
        x = data.clone().requires_grad_(True)
        with eval_mode(model):
            grad, = torch.autograd.grad(model(x).gather(1, labels[:, None]).sum(), x)
        new = (data + lam * grad.sign()).clamp(0, 1)
        new = new[torch.randperm(len(new), generator=gen)[:room]]
        data, labels = torch.cat([data, new]), torch.cat([labels, oracle(new)])


def transferability(
    substitute: nn.Module, victim: nn.Module, images: torch.Tensor, labels: torch.Tensor, *, eps: float = 0.3,
    attack: str = "fgsm",
) -> float:
    """Share of images the victim classifies correctly whose adversarial version, crafted on the substitute with a
    ``trust_core.attacks`` attack (L∞ ``eps``), the victim misclassifies."""
    from trust_core.attacks import GRADIENT_ATTACKS

    with torch.no_grad(), eval_mode(victim):
        keep = victim(images).argmax(1) == labels
    images, labels = images[keep], labels[keep]
    if attack not in GRADIENT_ATTACKS:
        raise ValueError(f"unknown attack {attack!r}; choose from {sorted(GRADIENT_ATTACKS)}")
    options = {} if attack == "fgsm" else {"alpha": eps / 4, "steps": 10}
    adv = GRADIENT_ATTACKS[attack](substitute, eps=eps, **options)(images, labels)
    with torch.no_grad(), eval_mode(victim):
        return float((victim(adv).argmax(1) != labels).float().mean())
