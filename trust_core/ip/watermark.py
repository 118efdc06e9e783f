"""Watermarks for ownership verification, embedded while the owner trains (through the shared training loop).

* Trigger set — Adi, Baum, Cisse, Pinkas & Keshet, "Turning your weakness into a strength: watermarking deep
  neural networks by backdooring", USENIX Security 2018: a secret set of abstract images with random labels that
  the model learns alongside its task (some trigger images in every batch); the owner verifies by querying the
  labels (black box).
* Weight signature — Uchida, Nagai, Sakazawa & Satoh, "Embedding watermarks into deep neural networks", ICMR 2017:
  a T-bit signature ``b`` embedded through the regulariser ``λ·BCE(σ(X w), b)``, where ``w`` is a layer's weight
  averaged over its output units and ``X`` a secret random matrix; the owner verifies ``sign(X w)`` (white box).

Both decide with a binomial test (:func:`trust_core.ip.verify.binomial_verification`) against chance agreement.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from trust_core.ip.verify import Verification, binomial_verification
from trust_core.models.training import BatchLoss, cross_entropy
from trust_core.models.wrappers import eval_mode


@dataclass(frozen=True)
class TriggerSet:
    """Adi et al.'s secret key: ``images`` (N, C, H, W) in [0, 1] and the owner's random ``labels``."""

    images: torch.Tensor
    labels: torch.Tensor
    num_classes: int

    @classmethod
    def random(cls, size: int = 100, *, shape: tuple[int, ...] = (1, 28, 28), num_classes: int = 10,
               seed: int = 0) -> TriggerSet:
        """``size`` uniform-noise images with uniformly random labels (abstract images no one else would label so)."""
        if size < 1 or num_classes < 2:
            raise ValueError(f"need size >= 1 and num_classes >= 2, got {size}, {num_classes}")
        gen = torch.Generator().manual_seed(seed)
        return cls(torch.rand(size, *shape, generator=gen), torch.randint(num_classes, (size,), generator=gen),
                   num_classes)

    def loss(self, *, per_batch: int = 16, weight: float = 1.0, seed: int = 0) -> BatchLoss:
        """A loss term: cross-entropy on ``per_batch`` trigger images drawn afresh for each training batch."""
        gen = torch.Generator().manual_seed(seed)

        def term(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, progress: float) -> torch.Tensor:
            pick = torch.randint(len(self.images), (per_batch,), generator=gen)
            return weight * F.cross_entropy(model(self.images[pick]), self.labels[pick])

        return term

    def verify(self, model: nn.Module, *, alpha: float = 1e-4) -> Verification:
        """Query the model on the trigger images; verified when it agrees with the secret labels beyond chance."""
        with torch.no_grad(), eval_mode(model):
            matches = int((model(self.images).argmax(1) == self.labels).sum())
        return binomial_verification(matches, len(self.labels), chance=1 / self.num_classes, alpha=alpha)


def layer_weight(model: nn.Module, name: str) -> torch.Tensor:
    """The parameter ``name`` (e.g. ``"2.weight"``) averaged over its output units and flattened: Uchida's ``w``."""
    params = dict(model.named_parameters())
    if name not in params:
        raise ValueError(f"model has no parameter {name!r}; it has {', '.join(params)}")
    weight = params[name]
    if weight.ndim < 2:
        raise ValueError(f"{name!r} has shape {tuple(weight.shape)}; the signature needs a weight matrix or kernel")
    return weight.mean(0).flatten()


@dataclass(frozen=True)
class Signature:
    """Uchida et al.'s key: the parameter ``layer``, the secret projection ``key`` (T, M) and the ``bits`` (T,)."""

    layer: str
    key: torch.Tensor
    bits: torch.Tensor

    @classmethod
    def random(cls, model: nn.Module, layer: str, *, bits: int = 64, seed: int = 0) -> Signature:
        """A random T-bit signature and a standard-normal projection sized for ``layer`` of ``model``."""
        if bits < 1:
            raise ValueError(f"bits must be >= 1, got {bits}")
        gen = torch.Generator().manual_seed(seed)
        size = layer_weight(model, layer).numel()
        return cls(layer, torch.randn(bits, size, generator=gen), torch.randint(2, (bits,), generator=gen).float())

    def regulariser(self, model: nn.Module) -> torch.Tensor:
        """``BCE(σ(X w), b)``: small when every projected weight has the sign its bit asks for."""
        return F.binary_cross_entropy_with_logits(self.key @ layer_weight(model, self.layer), self.bits)

    def loss(self, *, strength: float = 0.01) -> BatchLoss:
        """A loss term ``strength · regulariser`` for the training loop (Uchida's λ)."""
        return lambda model, images, labels, progress: strength * self.regulariser(model)

    def extract(self, model: nn.Module) -> torch.Tensor:
        """The bits the model carries: ``X w > 0``."""
        with torch.no_grad():
            return (self.key @ layer_weight(model, self.layer) > 0).float()

    def verify(self, model: nn.Module, *, alpha: float = 1e-4) -> Verification:
        """Verified when more bits match than a coin would give (p < ``alpha``); ``1 - rate`` is the bit error rate."""
        matches = int((self.extract(model) == self.bits).sum())
        return binomial_verification(matches, len(self.bits), chance=0.5, alpha=alpha)


def combined_loss(*terms: BatchLoss, task: BatchLoss = cross_entropy) -> BatchLoss:
    """The task loss plus every watermark term, for :func:`trust_core.models.training.train_loop`."""
    return lambda model, images, labels, progress: task(model, images, labels, progress) + sum(
        term(model, images, labels, progress) for term in terms)
