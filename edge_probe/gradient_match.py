"""Input-gradient distillation: teach the probe the direction of the standard recognizer's gradient.

The probe exists to give a gradient signal that transfers to real recognizers (APF, Zhang et al., ACM MM 2020).
Matching embeddings alone leaves its input gradient far from the teacher's (a single FGSM step of the shipped
probe barely moves FaceNet-CASIA), so this adds Jacobian matching (Srinivas & Fleuret, "Knowledge Transfer with
Jacobian Matching", ICML 2018) on the quantity APF sends: the FGSM direction of the cosine loss to the face's
mirror-image embedding (:mod:`edge_probe.signal`'s default x_e).

The teacher's target is taken where the filter acts: δ at 112 px, resized bilinearly to the 160-px crop and added
(:func:`edge_probe.crops.filter_to_crop`); only its sign is kept (bit-packed, 4.7 kB a face), which is what FGSM
reads. The probe learns it through double back-propagation: 1 − cos(∇x L_probe(x), sign ∇δ L_teacher).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from edge_probe.model import INPUT_SIZE

#: the signal's shape, whose sign bits a target packs.
SIGNAL_SHAPE = (3, INPUT_SIZE, INPUT_SIZE)


def _mirror_loss(model: nn.Module, x: torch.Tensor, reference_input: torch.Tensor) -> torch.Tensor:
    """Σ 1 − cos(model(x), model(mirror)) with the reference detached, as the signal's FGSM step sees it."""
    with torch.no_grad():
        reference = model(reference_input.flip(-1))
    return (1 - F.cosine_similarity(model(x), reference, dim=1)).sum()


def teacher_gradient_signs(teacher: nn.Module, crops: torch.Tensor, *, smooth: float = 0.0) -> np.ndarray:
    """Packed sign bits (N, 4704) of ∇δ [1 − cos(teacher(crop + up(δ)), teacher(mirror crop))] at δ = 0, where
    ``crops`` are the teacher's (N, 3, 160, 160) crops in [0, 1] and up() is the bilinear resize to the crop;
    ``smooth`` > 0 blurs the gradient first (Gaussian σ in pixels): a σ = 2 sign map still lowers the teacher's
    similarity to the clean face about as much as the plain one, with fewer degrees of freedom to learn."""
    from trust_core.attacks.transforms import gaussian

    delta = torch.zeros(len(crops), *SIGNAL_SHAPE, dtype=crops.dtype, requires_grad=True)
    x = crops + F.interpolate(delta, size=crops.shape[-2:], mode="bilinear", align_corners=False)
    (grad,) = torch.autograd.grad(_mirror_loss(teacher, x, crops), delta)
    if smooth > 0:
        grad = gaussian(grad, smooth)
    return np.packbits(grad.flatten(1).numpy() > 0, axis=1)


def unpack_signs(packed: np.ndarray) -> torch.Tensor:
    """±1 float (N, 3, 112, 112) from :func:`teacher_gradient_signs`' bits."""
    bits = np.unpackbits(packed, axis=1, count=int(np.prod(SIGNAL_SHAPE)))
    return torch.from_numpy(bits.astype(np.float32) * 2 - 1).view(len(packed), *SIGNAL_SHAPE)


def probe_gradient(model: nn.Module, views: torch.Tensor, *, create_graph: bool = False) -> torch.Tensor:
    """∇x of the probe's mirror cosine loss at its (N, 3, 112, 112) views (differentiable with ``create_graph``)."""
    x = views.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(_mirror_loss(model, x, views), x, create_graph=create_graph)
    return grad


def gradient_alignment(model: nn.Module, views: torch.Tensor, signs: torch.Tensor, *,
                       create_graph: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean cosine of the probe's gradients to the teacher's signs, fraction of matching signs) over the views."""
    grad = probe_gradient(model, views, create_graph=create_graph).flatten(1)
    target = signs.flatten(1).to(grad)
    return F.cosine_similarity(grad, target, dim=1).mean(), (torch.sign(grad) == target).float().mean()
