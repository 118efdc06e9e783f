"""The gradient signal the device sends instead of the photo (APF, Zhang et al., ACM MM 2020).

g is the perturbation an L∞ gradient attack on the probe makes against the cosine similarity of the face's
embedding to a reference embedding x_e: g = eps · sign(∇x L(x, x_e)) for FGSM, the accumulated perturbation for
I-FGSM, MI-FGSM and DI²-FGSM (:mod:`trust_core.attacks`, loss :class:`~trust_core.attacks.losses.CosineDistance`,
untargeted: pushes the face away from x_e).

x_e is the mean embedding of other photos of the person when the user gives some; by default it is the embedding
of the photo's mirror image. (The photo's own embedding is a stationary point of the cosine loss — its gradient is
exactly zero — so it gives no direction; the mirror image is the same photo of the same person and does.)

DI²-FGSM draws its input diversity from a fixed, seeded schedule (:func:`diversity_schedule`), and applies each
resize-and-pad as two constant matrices (:mod:`edge_probe.diversity`), so the exported ONNX graph and torch agree.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from edge_probe.diversity import diversity_matrix
from edge_probe.model import INPUT_SIZE
from trust_core.attacks import DI2FGSM, FGSM, IFGSM, MIFGSM, CosineDistance, GradientAttack

#: the methods the probe offers, in the order of the APF table.
METHODS = ("fgsm", "ifgsm", "mifgsm", "di2fgsm")
#: the default budget (L∞, in [0, 1] pixel units) and iterations.
DEFAULT_EPS = 8 / 255
DEFAULT_STEPS = 10
#: DI²-FGSM's diversity probability and scale (Xie et al. use 0.5 and 1.1), and the schedule seed shared by torch and
#: ONNX. Every step is diversified, at up to 1.2×: chosen on LFW's second fold (row s, masked 12/255, 300 genuine
#: pairs), where FaceNet-CASIA / dlib still matched after a 0.5× resize and JPEG q75 went from 25.0 / 55.0% at
#: (0.5, 1.1) to 21.3 / 46.0%, and as saved from 4.0 / 41.7% to 4.0 / 37.0%; (1.0, 1.1), (1.0, 1.3) and (1.0, 1.4)
#: were close behind, (0.7, 1.6) and momentum 1 worse.
DIVERSITY_PROB = 1.0
DIVERSITY_SCALE = 1.2
DIVERSITY_SEED = 0


@dataclass(frozen=True)
class Diversity:
    """One resize-and-pad draw: resize to ``inner``, pad to ``outer`` at (``top``, ``left``), resize back."""

    inner: int
    outer: int
    top: int
    left: int


def diversity_schedule(steps: int, *, prob: float = DIVERSITY_PROB, scale: float = DIVERSITY_SCALE,
                       seed: int = DIVERSITY_SEED, size: int = INPUT_SIZE) -> tuple[Diversity | None, ...]:
    """The per-step draws of DI²-FGSM from ``seed`` (``None`` = identity at that step), as in input_diversity."""
    gen = torch.Generator().manual_seed(seed)
    outer = max(size + 1, int(round(size * scale)))
    out: list[Diversity | None] = []
    for _ in range(steps):
        if prob <= 0 or torch.rand((), generator=gen).item() >= prob:
            out.append(None)
            continue
        inner = int(torch.randint(size, outer, (), generator=gen))
        top = int(torch.randint(0, outer - inner + 1, (), generator=gen))
        left = int(torch.randint(0, outer - inner + 1, (), generator=gen))
        out.append(Diversity(inner, outer, top, left))
    return tuple(out)


class ScheduledDI2FGSM(DI2FGSM):
    """DI²-FGSM whose diversity follows a fixed schedule of draws, so that every run (and the ONNX graph) agrees."""

    def __init__(self, model: nn.Module, *, eps: float, steps: int, schedule: tuple[Diversity | None, ...],
                 alpha: float | None = None, loss: CosineDistance | None = None) -> None:
        super().__init__(model, eps=eps, alpha=alpha, steps=steps, diversity_prob=1.0, loss=loss)
        if len(schedule) != steps:
            raise ValueError(f"the schedule has {len(schedule)} draws for {steps} steps")
        self.matrices = [None if d is None else (torch.from_numpy(diversity_matrix(INPUT_SIZE, d.inner, d.outer, d.top)),
                                                 torch.from_numpy(diversity_matrix(INPUT_SIZE, d.inner, d.outer, d.left)))
                         for d in schedule]
        self._step = 0

    def perturb(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        self._step = 0
        return super().perturb(images, labels)

    def transform_input(self, x: torch.Tensor) -> torch.Tensor:
        pair = self.matrices[self._step % len(self.matrices)]
        self._step += 1
        if pair is None:
            return x
        rows, cols = (m.to(x) for m in pair)
        return rows @ x @ cols.T


def make_attack(model: nn.Module, method: str, *, eps: float = DEFAULT_EPS, steps: int = DEFAULT_STEPS,
                seed: int = DIVERSITY_SEED) -> GradientAttack:
    """The :mod:`trust_core.attacks` attack behind ``method`` against ``model`` with the cosine (dodging) loss."""
    loss = CosineDistance()
    if method == "fgsm":
        return FGSM(model, eps=eps, loss=loss)
    if method == "ifgsm":
        return IFGSM(model, eps=eps, steps=steps, loss=loss)
    if method == "mifgsm":
        return MIFGSM(model, eps=eps, steps=steps, loss=loss)
    if method == "di2fgsm":
        return ScheduledDI2FGSM(model, eps=eps, steps=steps, schedule=diversity_schedule(steps, seed=seed), loss=loss)
    raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")


def check_crops(crops: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Validate aligned crops: (N, 3, 112, 112) float in [0, 1], finite. Returns a float32 tensor."""
    if isinstance(crops, np.ndarray):
        crops = torch.from_numpy(np.ascontiguousarray(crops))
    if not isinstance(crops, torch.Tensor):
        raise ValueError(f"crops must be a tensor or array, got {type(crops).__name__}")
    if crops.ndim == 3:
        crops = crops.unsqueeze(0)
    if crops.ndim != 4 or tuple(crops.shape[1:]) != (3, INPUT_SIZE, INPUT_SIZE):
        raise ValueError(f"crops must be aligned (N, 3, {INPUT_SIZE}, {INPUT_SIZE}) faces, got shape {tuple(crops.shape)}")
    if not crops.is_floating_point():
        raise ValueError(f"crops must be floating point in [0, 1], got {crops.dtype}")
    if not torch.isfinite(crops).all():
        raise ValueError("crops contain NaN or inf")
    if crops.numel() and (crops.min() < 0 or crops.max() > 1):
        raise ValueError(f"crops must lie in [0, 1], got [{crops.min().item():.3g}, {crops.max().item():.3g}]")
    return crops.float()


@torch.no_grad()
def reference_embeddings(model: nn.Module, crops: torch.Tensor, references: torch.Tensor | None = None) -> torch.Tensor:
    """x_e for each crop: the normalised mean embedding of ``references`` (other photos of the person, shared by all
    crops) or, by default, each crop's mirror-image embedding."""
    from trust_core.models.wrappers import eval_mode

    crops = check_crops(crops)
    with eval_mode(model):
        if references is None:
            return model(crops.flip(-1))
        references = check_crops(references)
        if len(references) == 0:
            raise ValueError("references is empty: give at least one other photo of the person, or None")
        mean = F.normalize(model(references).mean(0, keepdim=True), dim=1)
    return mean.expand(len(crops), -1).clone()


def compute_signal(model: nn.Module, crops: torch.Tensor | np.ndarray, *, method: str = "fgsm",
                   eps: float = DEFAULT_EPS, steps: int = DEFAULT_STEPS, reference: torch.Tensor | None = None,
                   references: torch.Tensor | None = None) -> torch.Tensor:
    """The signal g (N, 3, 112, 112), |g| ≤ eps, for aligned crops in [0, 1].

    ``reference``: x_e per crop (N, D) embeddings; ``references``: other photos of the person (M, 3, 112, 112) whose
    mean embedding is x_e; neither: the mirror-image default.
    """
    crops = check_crops(crops)
    attack = make_attack(model, method, eps=eps, steps=steps)  # validates method and eps first
    if reference is not None and references is not None:
        raise ValueError("give either reference embeddings or reference photos, not both")
    if reference is None:
        reference = reference_embeddings(model, crops, references)
    elif not isinstance(reference, torch.Tensor) or reference.ndim != 2 or len(reference) != len(crops):
        raise ValueError(f"reference must be (N={len(crops)}, D) embeddings, got "
                         f"{tuple(reference.shape) if isinstance(reference, torch.Tensor) else type(reference).__name__}")
    return attack(crops, reference) - crops
