"""Neural Cleanse — Wang, Yao, Shan, Li, Viswanath, Zheng & Zhao, "Neural Cleanse: identifying and mitigating
backdoor attacks in neural networks", IEEE S&P 2019.

For every label, reverse-engineer the smallest trigger (mask m, pattern p; x' = (1 - m) x + m p) that sends clean
images to that label; a backdoored label needs a much smaller mask. The label whose mask L1 norm lies far below the
others — anomaly index (median - norm) / (1.4826 · MAD) above 2 — is flagged. Mitigation by unlearning: fine-tune on
clean data where a share of the images carry the reversed trigger but keep their true labels.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from trust_core.models.train_mnist import fit
from trust_core.models.wrappers import eval_mode

#: MAD → standard deviation for normally distributed data.
CONSISTENCY = 1.4826


@dataclass(frozen=True)
class ReversedTrigger:
    """A reverse-engineered trigger for ``label``: ``mask`` (1, H, W) and ``pattern`` (C, H, W) in [0, 1]."""

    label: int
    mask: torch.Tensor
    pattern: torch.Tensor
    success: float

    @property
    def norm(self) -> float:
        return float(self.mask.abs().sum())

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        return (1 - self.mask) * images + self.mask * self.pattern


@dataclass(frozen=True)
class CleanseReport:
    """Per-label reversed triggers, their mask norms, anomaly indices and the flagged (backdoored) labels."""

    triggers: list[ReversedTrigger]
    anomaly_index: torch.Tensor
    flagged: list[int]

    @property
    def norms(self) -> torch.Tensor:
        return torch.tensor([t.norm for t in self.triggers])


def anomaly_index(norms: torch.Tensor) -> torch.Tensor:
    """(median - norm) / (1.4826 · MAD): large and positive for labels with an abnormally small trigger."""
    median = norms.median()
    mad = CONSISTENCY * (norms - median).abs().median()
    return (median - norms) / mad.clamp_min(1e-12)


def reverse_triggers(model: nn.Module, images: torch.Tensor, labels: list[int], *, steps: int = 300, lr: float = 0.1,
                     cost: float = 1e-2, batch: int = 32, success: float = 0.99, patience: int = 10,
                     seed: int = 0) -> list[ReversedTrigger]:
    """For each label, minimise ``CE(model(x'), label) + λ · |m|₁`` over a mask and a pattern (sigmoid box, Adam).

    As in Wang et al., each label's λ starts at ``cost`` and adapts: after ``patience`` steps in a row whose batch
    reaches the label at rate ≥ ``success`` it grows ×1.5, after as many below it shrinks ×1.5^1.5; each label
    keeps the smallest mask that reached ``success`` (the last one if none did). All labels are optimised together,
    one batch of ``batch`` clean images per label and step.
    """
    if len(images) == 0:
        raise ValueError("reverse-engineering a trigger needs clean images")
    gen = torch.Generator().manual_seed(seed)
    count = len(labels)
    mask_logit = torch.full((count, 1, *images.shape[-2:]), -5.0, requires_grad=True)
    pattern_logit = (torch.rand(count, *images.shape[1:], generator=gen) * 2 - 1).requires_grad_(True)
    opt = torch.optim.Adam([mask_logit, pattern_logit], lr=lr, betas=(0.5, 0.9))
    target = torch.tensor(labels).repeat_interleave(batch)
    lam = torch.full((count,), float(cost))
    above, below = torch.zeros(count, dtype=torch.long), torch.zeros(count, dtype=torch.long)
    best = [(float("inf"), None, None)] * count
    flags = [p.requires_grad for p in model.parameters()]
    try:
        for p in model.parameters():
            p.requires_grad_(False)
        with eval_mode(model), torch.enable_grad():
            for _ in range(steps):
                x = images[torch.randint(len(images), (count, batch), generator=gen)]
                mask, pattern = torch.sigmoid(mask_logit)[:, None], torch.sigmoid(pattern_logit)[:, None]
                logits = model(((1 - mask) * x + mask * pattern).flatten(0, 1))
                ce = F.cross_entropy(logits, target, reduction="none").view(count, batch).mean(1)
                norms = mask.flatten(1).sum(1)
                loss = (ce + lam * norms).sum()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                with torch.no_grad():
                    rate = (logits.argmax(1) == target).float().view(count, batch).mean(1)
                    ok = rate >= success
                    for i in ok.nonzero().flatten().tolist():
                        if norms[i] < best[i][0]:
                            best[i] = (float(norms[i]), mask[i, 0].detach().clone(), pattern[i, 0].detach().clone())
                    above, below = torch.where(ok, above + 1, 0), torch.where(ok, 0, below + 1)
                    grow, shrink = above >= patience, below >= patience
                    lam = torch.where(grow, lam * 1.5, torch.where(shrink, lam / 1.5 ** 1.5, lam))
                    above[grow], below[shrink] = 0, 0
            with torch.no_grad():
                found = []
                for i, label in enumerate(labels):
                    _, mask_i, pattern_i = best[i]
                    if mask_i is None:
                        mask_i, pattern_i = torch.sigmoid(mask_logit[i]), torch.sigmoid(pattern_logit[i])
                    trigger = ReversedTrigger(label, mask_i, pattern_i, 0.0)
                    found.append(replace(trigger, success=(model(trigger(images)).argmax(1) == label).float().mean().item()))
    finally:
        for p, flag in zip(model.parameters(), flags):
            p.requires_grad_(flag)
    return found


def neural_cleanse(model: nn.Module, images: torch.Tensor, *, num_classes: int, threshold: float = 2.0,
                   steps: int = 300, cost: float = 1e-2, batch: int = 32, seed: int = 0) -> CleanseReport:
    """Reverse a trigger for every label on clean ``images`` and flag labels with anomaly index > ``threshold``."""
    triggers = reverse_triggers(model, images, list(range(num_classes)), steps=steps, cost=cost, batch=batch, seed=seed)
    index = anomaly_index(torch.tensor([t.norm for t in triggers]))
    return CleanseReport(triggers, index, [i for i in range(num_classes) if index[i] > threshold])


def unlearn(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, triggers: list[ReversedTrigger], *,
            fraction: float = 0.2, epochs: int = 1, lr: float = 1e-3, seed: int = 0) -> nn.Module:
    """A copy of ``model`` fine-tuned on clean data with the reversed triggers stamped on ``fraction`` of it
    (true labels kept), which unlearns the backdoor. The input model is left untouched."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must lie in (0, 1], got {fraction}")
    if not triggers:
        raise ValueError("no reversed trigger to unlearn")
    gen = torch.Generator().manual_seed(seed)
    stamped = images.clone()
    chosen = torch.randperm(len(images), generator=gen)[: round(fraction * len(images))]
    for part, trigger in zip(chosen.chunk(len(triggers)), triggers):
        stamped[part] = trigger(images[part])
    return fit(copy.deepcopy(model), stamped, labels, epochs=epochs, lr=lr, seed=seed)
