"""Per-sample losses for the attack loop: ``loss(outputs, labels) -> (N,)``.

Untargeted attacks ascend the loss; targeted attacks descend it (towards ``labels`` as targets).
"""
from __future__ import annotations

from typing import Protocol

import torch
import torch.nn.functional as F


class AttackLoss(Protocol):
    def __call__(self, outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor: ...


class CrossEntropy:
    """Cross-entropy of classifier logits; labels are class indices."""

    def validate(self, outputs: torch.Tensor, labels: torch.Tensor) -> None:
        if labels.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
            raise ValueError(f"class labels must be integers, got {labels.dtype}")
        if labels.ndim != 1:
            raise ValueError(f"class labels must be 1-D, got shape {tuple(labels.shape)}")
        num_classes = outputs.shape[1]
        if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
            raise ValueError(f"labels must lie in [0, {num_classes - 1}], got [{int(labels.min())}, {int(labels.max())}]")

    def __call__(self, outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(outputs, labels.long(), reduction="none")


class CosineDistance:
    """1 − cos(embedding, reference): face verification. Labels are reference embeddings ``(N, D)``.

    Untargeted (dodging) pushes the face away from its reference; targeted (impersonation) pulls it
    towards a target embedding.
    """

    def validate(self, outputs: torch.Tensor, labels: torch.Tensor) -> None:
        if labels.shape != outputs.shape:
            raise ValueError(f"reference embeddings must have shape {tuple(outputs.shape)}, got {tuple(labels.shape)}")
        if not torch.isfinite(labels).all():
            raise ValueError("reference embeddings contain NaN or inf")

    def __call__(self, outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return 1.0 - F.cosine_similarity(outputs, labels.to(outputs.dtype), dim=1)
