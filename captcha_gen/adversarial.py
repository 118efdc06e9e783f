"""Adversarial CAPTCHAs: small perturbations that make an ensemble of breakers misread the answer.

The perturbation is found with the attack core's loop (:class:`trust_core.attacks.GradientAttack`, MI-FGSM
momentum, Dong et al., CVPR 2018) under an L∞ budget, ascending the breakers' loss of the true answer — the
CTC loss for CTC readers and the summed per-position cross-entropy for multi-head ones — over an ensemble
(Liu et al., ICLR 2017), with expectation over the attacker's preprocessing (EOT, Athalye et al., ICML 2018;
:func:`captcha_gen.transforms.random_preprocess`). This follows robust text CAPTCHAs against OCR
(Shao et al., "Robust Text CAPTCHAs Using Adversarial Examples", 2021).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from captcha_gen.breakers import decode, encode, string_loss, texts
from captcha_gen.transforms import random_preprocess
from trust_core.attacks import GradientAttack

#: the default L∞ budget (of 1.0 intensity): 32/255, a visible grain that leaves the text readable. Against the
#: shipped breakers 16/255 is too little (held-out ConvCTC still reads 77% of easy and 33% of medium ones).
EPS = 32 / 255
#: EOT copies per attack step (the first untransformed): with 2, easy CAPTCHAs at 32/255 still read 8.5% (CRNN) and
#: 17.5% (held-out ConvCTC) after the attacker's preprocessing; with 4, 0% on 100 of them.
SAMPLES = 4


class Ensemble(nn.Module):
    """Runs every breaker on the same input; outputs a tuple in breaker order."""

    def __init__(self, breakers: Sequence[nn.Module]) -> None:
        super().__init__()
        if not breakers:
            raise ValueError("the ensemble needs at least one breaker")
        self.breakers = nn.ModuleList(breakers)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(b(x) for b in self.breakers)


class EnsembleStringLoss:
    """Sum over breakers of each one's per-sample loss of the true answer, capped at ``cap``; a breaker that
    already misreads a copy counts with weight ``fooled_weight``, so the step serves the breakers still reading
    it. Labels are encoded answers ``(N, 6)``; outputs may hold ``k`` EOT copies of the batch (labels repeat)."""

    def __init__(self, kinds: Sequence[str], *, cap: float = 12.0, fooled_weight: float = 0.0) -> None:
        self.kinds, self.cap, self.fooled_weight = tuple(kinds), cap, fooled_weight

    def validate(self, outputs: tuple[torch.Tensor, ...], labels: torch.Tensor) -> None:
        if len(outputs) != len(self.kinds):
            raise ValueError(f"expected outputs of {len(self.kinds)} breakers, got {len(outputs)}")
        if labels.ndim != 2 or labels.dtype != torch.long:
            raise ValueError("labels must be encoded answers (N, 6) of dtype long (captcha_gen.breakers.encode)")

    def __call__(self, outputs: tuple[torch.Tensor, ...], labels: torch.Tensor) -> torch.Tensor:
        total = 0.0
        for kind, out in zip(self.kinds, outputs):
            n = out.shape[1] if kind == "ctc" else out.shape[0]
            copies = n // labels.shape[0]
            targets = labels.repeat(copies, 1)
            loss = string_loss(kind, out, targets).clamp(max=self.cap)
            with torch.no_grad():
                reads = decode(kind, out)
                correct = torch.tensor([r == t for r, t in zip(reads, texts(targets))], device=loss.device)
            weight = torch.where(correct, 1.0, self.fooled_weight)
            total = total + (weight * loss).view(copies, -1).mean(0)
        return total


class EOTAttack(GradientAttack):
    """MI-FGSM whose every step reads ``samples`` random attacker pipelines of the perturbed CAPTCHA."""

    def __init__(self, model: nn.Module, *, eps: float, alpha: float | None = None, steps: int = 30, samples: int = SAMPLES,
                 prob: float = 0.5, momentum: float = 1.0, loss: EnsembleStringLoss, seed: int | None = None) -> None:
        super().__init__(model, eps=eps, alpha=alpha, steps=steps, momentum=momentum, loss=loss, seed=seed)
        if not isinstance(samples, int) or samples < 1:
            raise ValueError(f"samples must be a positive integer, got {samples!r}")
        self.samples, self.prob = samples, prob
        self.generator = self.generator or torch.Generator()

    def transform_input(self, x: torch.Tensor) -> torch.Tensor:
        copies = [x] + [random_preprocess(x, prob=self.prob, generator=self.generator) for _ in range(self.samples - 1)]
        return torch.cat(copies)


def make_adversarial(images: torch.Tensor, texts: Sequence[str], breakers: Sequence[nn.Module], *, eps: float = EPS,
                     steps: int = 30, samples: int = SAMPLES, alpha: float | None = None, seed: int | None = 0) -> torch.Tensor:
    """Adversarial versions of ``images`` ``(N, 1, H, W)`` in [0, 1] whose answers are ``texts``.

    ``samples`` EOT copies per step (the first one untransformed), step ``alpha`` (default 2.5·eps/steps).
    """
    if len(texts) != images.shape[0]:
        raise ValueError(f"got {images.shape[0]} images but {len(texts)} answers")
    attack = EOTAttack(Ensemble(breakers), eps=eps, steps=steps, samples=samples, seed=seed,
                       alpha=alpha if alpha is not None else 2.5 * eps / steps,
                       loss=EnsembleStringLoss([b.kind for b in breakers]))
    return attack(images, encode(list(texts)))
