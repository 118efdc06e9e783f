"""AEDA: adversarial-example-based data augmentation for visual debiasing (Zhang & Sang, ACM MM 2020).

A bias classifier is attacked (targeted PGD from :mod:`trust_core.attacks`) towards a *different* bias label;
the adversarial image keeps its target label and joins the target task's training data, so each target class
is seen across bias groups — as often in each group when :func:`balancing_keep` thins the originals. Three forms:

* :func:`aeda_pre` — a separate bias classifier is trained first, the examples are generated once, then the
  target model trains on the union;
* :func:`aeda_online` — target head and bias head share one feature extractor and are updated together;
  every batch is augmented with examples generated against the current bias head;
* :func:`aeda_robust` — :func:`aeda_online` whose bias head is also adversarially trained (PGD, Madry et al.),
  so its adversarial examples change the bias attribute itself rather than exploiting non-robust features.

The online forms weight the bias head's loss by ``bias_weight``: at 1 the shared features come to be dominated
by the bias (on C-MNIST, the colour), which the target head then reads; a small weight keeps the bias head good
enough to attack while the features serve the target (AEDA_robust, seed 0, on C-MNIST's validation digits in
all ten colours: bias gap 9.3 at weight 1, 2.6 at 0.2, 2.4 at 0.1, 2.8 at 0.05). With ``bias_trains_features``
off the bias head only reads the shared features (its loss stops at them), so it cannot make them encode the
bias (AEDA_robust, seed 0, val bACC / bias: CelebA 71.9 / 34.2 against 75.3 / 42.4 when it trains them and
Original's 73.6 / 37.9; C-MNIST 95.6 / 5.6 against 96.8 / 2.6): the rise of the CelebA bias under AEDA comes from
the bias head shaping the features, but reading them alone cuts no bias either. With ``flips`` > 1 every
image is flipped towards that many different groups (C-MNIST, seed 0, AEDA_robust val bACC / bias: 96.8 / 2.9 at
three flips against 96.8 / 2.7 at one): more counterfactual colours per digit do not cut the bias.

Flips and the bias head's adversarial training use the L∞ or the L2 ball of the pixels, or the colour shifts of
:class:`~trust_core.attacks.TintAttack` (``norm="tint"``), which recolour an image without touching its shape.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from trust_core.attacks import PGD, TintAttack
from trust_core.fairness.baselines import fit_debias, new_net, steps_for, target_loss
from trust_core.fairness.datasets import BiasedData, Split
from trust_core.fairness.models import DebiasNet


def flipped_bias(b: torch.Tensor, n_bias: int, *, count: int = 1,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Another bias label for every sample: ``1 − b`` for a binary bias, else uniform over the other groups.

    With ``count > 1``, that many *distinct* other labels per sample, concatenated count-major (count · N,).
    """
    if n_bias < 2:
        raise ValueError(f"n_bias must be at least 2, got {n_bias}")
    if not 1 <= count <= n_bias - 1:
        raise ValueError(f"count must lie in [1, {n_bias - 1}]: the flips go to distinct groups of the other "
                         f"{n_bias - 1}, got {count}")
    if count == 1:  # the single-flip draw stays as it was, so earlier results reproduce
        return (b + torch.randint(1, n_bias, b.shape, generator=generator)) % n_bias
    offsets = torch.rand(len(b), n_bias - 1, generator=generator).argsort(1)[:, :count] + 1
    return ((b[:, None] + offsets) % n_bias).T.reshape(-1)


def _ball_attack(net: DebiasNet, *, eps: float, alpha: float, steps: int, norm: str, targeted: bool,
                 random_start: bool, seed: int | None = None) -> PGD | TintAttack:
    if norm == "tint":
        return TintAttack(net.bias_logits, eps=eps, alpha=alpha, steps=steps, targeted=targeted)
    return PGD(net.bias_logits, eps=eps, alpha=alpha, steps=steps, norm=norm, targeted=targeted,
               random_start=random_start, seed=seed)


def balancing_keep(n: int, n_bias: int, *, flips: int = 1, generator: torch.Generator | None = None) -> torch.Tensor:
    """Which clean images stay beside their ``flips`` flipped copies: each with probability
    ``flips / (n_bias − 1)``.

    The flips spread a group's images uniformly over the other ``n_bias − 1`` groups, so keeping that share of
    the originals makes every bias group equally frequent within a target class even when the training set is
    fully biased (AEDA rebalances the bias distribution). A binary bias keeps every image.
    """
    if n_bias <= 2:
        return torch.ones(n, dtype=torch.bool)
    return torch.rand(n, generator=generator) < min(1.0, flips / (n_bias - 1))


def flip_attack(net: DebiasNet, *, eps: float, steps: int, norm: str = "linf") -> PGD | TintAttack:
    """Targeted PGD (or, for ``norm="tint"``, the tint attack) on the bias head, towards the flipped bias labels;
    one step spends all of ``eps``.

    No random start: a uniform start in a ball large enough to recolour a background is itself full-budget
    noise over the whole image, which the target model would learn to tell apart from clean images.

    L∞: more steps are ``eps / 4`` each rather than Madry's ``2.5 eps / steps`` (the large budgets that recolour
    a C-MNIST background make bigger sign steps overshoot; measured flip success 4% vs 65%). L2 keeps the
    gradient's magnitudes, so pixels the bias head barely uses (the digit strokes) move little; steps are
    ``2.5 eps / steps``. Tint: ``eps / steps`` per step on the colour shift.
    """
    alpha = eps if steps == 1 else {"linf": eps / 4, "tint": eps / steps}.get(norm, 2.5 * eps / steps)
    return _ball_attack(net, eps=eps, alpha=alpha, steps=steps, norm=norm, targeted=True, random_start=False)


def bias_head_loss(net: DebiasNet, x: torch.Tensor, b: torch.Tensor, *, trains_features: bool = True) -> torch.Tensor:
    """The bias head's cross-entropy; with ``trains_features`` off its gradient stops at the shared features, so
    the head reads them without shaping them."""
    features = net.embed(x)
    return F.cross_entropy(net.bias_head(features if trains_features else features.detach()), b)


def _bias_loss(net: DebiasNet, x: torch.Tensor, y: torch.Tensor, b: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
    return bias_head_loss(net, x, b)


def augment_with_flips(data: BiasedData, bias_net: DebiasNet, *, eps: float, attack_steps: int, norm: str = "linf",
                       seed: int = 0, batch: int = 500) -> Split:
    """One bias-flipped adversarial copy of every training image (target label kept), plus the clean images
    that :func:`balancing_keep` keeps."""
    gen = torch.Generator().manual_seed(seed)
    targets = flipped_bias(data.train.b, data.n_bias, generator=gen)
    attack = flip_attack(bias_net, eps=eps, steps=attack_steps, norm=norm)
    x = data.train.x
    adv = torch.cat([attack(x[i : i + batch], targets[i : i + batch]) for i in range(0, len(x), batch)])
    keep = balancing_keep(len(x), data.n_bias, generator=gen)
    return Split(torch.cat([x[keep], adv]), torch.cat([data.train.y[keep], data.train.y]),
                 torch.cat([data.train.b[keep], targets]))


def aeda_pre(data: BiasedData, *, seed: int = 0, epochs: int = 3, batch: int = 128, lr: float = 1e-3,
             width: int = 16, eps: float = 0.3, attack_steps: int = 5, norm: str = "linf") -> DebiasNet:
    """AEDA_pre: bias classifier → one-off adversarial examples → target training on the union."""
    steps = steps_for(data, epochs=epochs, batch=batch)
    bias_net = fit_debias(new_net(data, seed=seed + 1, width=width), data.train, _bias_loss,
                          steps=steps, batch=batch, lr=lr, seed=seed + 1)
    augmented = augment_with_flips(data, bias_net, eps=eps, attack_steps=attack_steps, norm=norm, seed=seed)
    return fit_debias(new_net(data, seed=seed, width=width), augmented, target_loss,
                      steps=steps, batch=batch, lr=lr, seed=seed)


def _coupled(data: BiasedData, *, seed: int, epochs: int, batch: int, lr: float, width: int, eps: float,
             attack_steps: int, norm: str, robust_eps: float, bias_weight: float,
             bias_trains_features: bool, flips: int) -> DebiasNet:
    if not 0 < bias_weight:
        raise ValueError(f"bias_weight must be positive (the flips need a trained bias head), got {bias_weight}")
    net = new_net(data, seed=seed, width=width)
    flip = flip_attack(net, eps=eps, steps=attack_steps, norm=norm)
    robust = (_ball_attack(net, eps=robust_eps, alpha=2.5 * robust_eps / attack_steps, steps=attack_steps, norm=norm,
                           targeted=False, random_start=True, seed=seed + 1) if robust_eps > 0 else None)
    gen = torch.Generator().manual_seed(seed)

    def loss(net: DebiasNet, x: torch.Tensor, y: torch.Tensor, b: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
        net.eval()  # attacks see the model as it predicts: no batch statistics of a fine-tuned backbone move
        adv = flip(x.repeat(flips, 1, 1, 1), flipped_bias(b, data.n_bias, count=flips, generator=gen))
        keep = balancing_keep(len(x), data.n_bias, flips=flips, generator=gen)
        bias_x, bias_b = x, b
        if robust is not None:
            bias_x, bias_b = torch.cat([x, robust(x, b)]), torch.cat([b, b])
        net.train()
        return (F.cross_entropy(net(torch.cat([x[keep], adv])), torch.cat([y[keep], y.repeat(flips)]))
                + bias_weight * bias_head_loss(net, bias_x, bias_b, trains_features=bias_trains_features))

    return fit_debias(net, data.train, loss, steps=steps_for(data, epochs=epochs, batch=batch), batch=batch,
                      lr=lr, seed=seed)


def aeda_online(data: BiasedData, *, seed: int = 0, epochs: int = 3, batch: int = 128, lr: float = 1e-3,
                width: int = 16, eps: float = 0.3, attack_steps: int = 5, norm: str = "linf",
                bias_weight: float = 1.0, bias_trains_features: bool = True, flips: int = 1) -> DebiasNet:
    """AEDA_online: shared features; each batch adds ``flips`` copies of every image, each flipped against the
    current bias head towards a different bias group."""
    return _coupled(data, seed=seed, epochs=epochs, batch=batch, lr=lr, width=width, eps=eps,
                    attack_steps=attack_steps, norm=norm, robust_eps=0.0, bias_weight=bias_weight,
                    bias_trains_features=bias_trains_features, flips=flips)


def aeda_robust(data: BiasedData, *, seed: int = 0, epochs: int = 3, batch: int = 128, lr: float = 1e-3,
                width: int = 16, eps: float = 0.3, attack_steps: int = 5, norm: str = "linf",
                robust_eps: float = 0.1, bias_weight: float = 1.0, bias_trains_features: bool = True,
                flips: int = 1) -> DebiasNet:
    """AEDA_robust: AEDA_online whose bias head also trains on PGD examples within ``robust_eps``."""
    if not 0 < robust_eps:
        raise ValueError(f"robust_eps must be positive, got {robust_eps}")
    return _coupled(data, seed=seed, epochs=epochs, batch=batch, lr=lr, width=width, eps=eps,
                    attack_steps=attack_steps, norm=norm, robust_eps=robust_eps, bias_weight=bias_weight,
                    bias_trains_features=bias_trains_features, flips=flips)
