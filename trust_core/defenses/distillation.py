"""Defensive distillation (Papernot et al., IEEE S&P 2016) — and its break by C&W (Carlini & Wagner, S&P 2017).

A teacher is trained with softmax at temperature T, a student of the same architecture is trained at T on
the teacher's soft labels, and the student is deployed at T = 1: its logits are ~T times larger, the softmax
saturates and the cross-entropy gradients FGSM follows vanish. C&W's margin on the logits does not care.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from trust_core.models.training import train_loop


def distill(
    build: Callable[[], nn.Module],
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    temperature: float = 100.0,
    epochs: int = 3,
    batch: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
) -> tuple[nn.Module, nn.Module]:
    """Train ``(teacher, student)`` from ``build()``; the student, used with raw logits (T = 1), is the defended model."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")

    def hard(net: nn.Module, x: torch.Tensor, y: torch.Tensor, _: float) -> torch.Tensor:
        return F.cross_entropy(net(x) / temperature, y)

    torch.manual_seed(seed)
    teacher = train_loop(build(), images, labels, hard, epochs=epochs, batch=batch, lr=lr, seed=seed)
    with torch.no_grad():
        soft = torch.cat([F.softmax(teacher(images[i : i + 1000]) / temperature, 1) for i in range(0, len(images), 1000)])
    index = torch.arange(len(images))

    def distilled(net: nn.Module, x: torch.Tensor, idx: torch.Tensor, _: float) -> torch.Tensor:
        return -(soft[idx] * F.log_softmax(net(x) / temperature, 1)).sum(1).mean()

    student = train_loop(build(), images, index, distilled, epochs=epochs, batch=batch, lr=lr, seed=seed + 1)
    return teacher, student
