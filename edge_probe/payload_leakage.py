"""Optimisation attacks on the payload: trust_core's gradient-leakage and model-inversion tools against the signal.

The cloud holds the payload s (for FGSM, sign(∇x L(x, x_e)) in units of eps) and knows the probe. Two attacks
search for the photo x that produced s, from the attacker's prior, the mean of public face views:

- gradient leakage, DLG-style (Zhu et al., NeurIPS 2019): x whose probe gradient points like s — Adam on the cosine
  objective with a total-variation prior (Geiping et al., "Inverting Gradients", NeurIPS 2020),
  :func:`trust_core.privacy.leakage.match_gradient_direction`, through a softplus-smoothed copy of the ReLU probe;
- model inversion, MI-FACE (Fredrikson et al., CCS 2015), :func:`trust_core.privacy.inversion.mi_face` on a
  classifier whose confidence is that same agreement (:class:`PayloadConfidence`).

:func:`payload_audit` reports, per attack, SSIM to the true crop, the sign agreement of the reconstruction's own
payload (real probe) with s, the cosine of what the attack added to the prior with the true face's deviation
from it (own photo vs other people's), and how often dlib matches the reconstruction to another photo of the person (LFW
genuine pairs), next to chance (the same reconstructions against the other people's photos).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from edge_probe.signal import DEFAULT_EPS, compute_signal
from trust_core.attacks import CosineDistance
from trust_core.privacy.inversion import mi_face
from trust_core.privacy.leakage import match_gradient_direction, smoothed


def probe_gradient(probe: nn.Module, *, beta: float = 10.0) -> Callable[[torch.Tensor], torch.Tensor]:
    """x -> ∇x L(x, x_e) of the signal's loss (cosine distance to the mirror-image reference, held fixed) through
    the probe with Softplus(β) for ReLU, differentiable in x (create_graph)."""
    smooth, loss = smoothed(probe, beta=beta), CosineDistance()

    def gradient_of(x: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            x = x if x.requires_grad else x.detach().requires_grad_(True)
            value = loss(smooth(x), smooth(x.flip(-1)).detach()).sum()
            return torch.autograd.grad(value, x, create_graph=True)[0]

    return gradient_of


class PayloadConfidence(nn.Module):
    """A two-class "classifier" for MI-FACE: logits (κ·cos(∇x L(x), s), 0), class 0 = "x produced the payload s"."""

    def __init__(self, gradient_of: Callable[[torch.Tensor], torch.Tensor], payload: torch.Tensor, *,
                 scale: float = 10.0) -> None:
        super().__init__()
        self.gradient_of, self.scale = gradient_of, scale
        self.register_buffer("payload", payload.detach().flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        agreement = F.cosine_similarity(self.gradient_of(x).flatten(1), self.payload, dim=1)
        return torch.stack([self.scale * agreement, torch.zeros_like(agreement)], 1)


def sign_agreement(probe: nn.Module, faces: torch.Tensor, payload: torch.Tensor, *, method: str = "fgsm",
                   eps: float = DEFAULT_EPS) -> np.ndarray:
    """Per face, the fraction of pixels where the real probe's signal of ``faces`` has the sign of ``payload``."""
    own = compute_signal(probe, faces, method=method, eps=eps)
    return (own.sign() == payload.sign()).float().mean((1, 2, 3)).numpy()


def reconstruct_from_payload(
    probe: nn.Module, payload: torch.Tensor, prior: torch.Tensor, *, attack: str = "gradient", steps: int = 60,
    beta: float = 10.0, lr: float | None = None, tv: float = 1.0, resolution: int = 56, seed: int = 0,
) -> torch.Tensor:
    """Faces (N, 3, 112, 112) recovered from payloads (N, 3, 112, 112) from ``prior`` (one face or N):
    ``attack="gradient"`` (cosine + TV, Adam, lr 0.01) or ``"mi-face"`` (plain gradient descent, lr 0.1: near a
    symmetric face the probe's gradient vanishes and the agreement's gradient is large). The start is the prior
    plus uniform noise of ±2/255 (``seed``): at an exactly symmetric face the signal's gradient is exactly zero."""
    if attack not in ("gradient", "mi-face"):
        raise ValueError(f"attack must be 'gradient' or 'mi-face', got {attack!r}")
    gradient_of = probe_gradient(probe, beta=beta)
    noise = torch.rand(payload.shape, generator=torch.Generator().manual_seed(seed)) * 4 / 255 - 2 / 255
    init = (prior.expand_as(payload) + noise).clamp(0, 1)
    if attack == "gradient":
        return match_gradient_direction(gradient_of, payload, init, steps=steps, lr=lr or 0.01, tv=tv,
                                        resolution=resolution)
    return torch.cat([mi_face(PayloadConfidence(gradient_of, payload[i:i + 1]), 0, tuple(payload.shape[1:]),
                              steps=steps, lr=lr or 0.1, patience=steps, gamma=0.0, init=init[i])
                      for i in range(len(payload))])


def payload_audit(*, faces: int = 12, steps: int = 60, method: str = "fgsm", eps: float = DEFAULT_EPS,
                  randomize: float = 0.0, prior_faces: int = 400, beta: float = 10.0, progress: bool = True,
                  lfw=None) -> dict:  # noqa: ANN001
    """Both attacks on the payloads of the first photos of ``faces`` genuine LFW pairs of fold 1 (the first pair of
    each of the first ``faces`` people): SSIM to
    the true crop, payload sign agreement, and dlib's rate of matching the result to the pair's second photo
    (genuine) and to the other pairs' second photos of other people (chance); rows for the prior (the mean of
    ``prior_faces`` public face views) and the true crops frame them. With ``randomize`` the payloads are the
    device's randomised response at that rate (:mod:`edge_probe.randomize`), which the attacks match as they are:
    the noise is symmetric and independent of the face, so it lowers every candidate's agreement alike."""
    from edge_probe.leakage import dlib_matches, pair_views, payload, public_faces, ssim_views
    from edge_probe.model import load_probe
    from trust_core.data import LFW
    from trust_core.faces.recognizers import get_recognizer

    dlib, probe = get_recognizer("dlib"), load_probe()
    by_person: dict[str, object] = {}
    for pair in (lfw or LFW()).pairs():
        if pair.fold == 0 and pair.same:
            by_person.setdefault(pair.first.stem.rsplit("_", 1)[0], pair)
    pairs = list(by_person.values())[:faces]
    views, kept, seconds = pair_views(pairs, dlib, progress=progress)
    targets = torch.stack([seconds[p.second] for p in kept])
    names = np.array([p.first.stem.rsplit("_", 1)[0] for p in kept])
    other = names[:, None] != names[None]
    truth = torch.from_numpy(views)
    sent = torch.from_numpy(payload(probe, views, method=method, eps=eps, randomize=randomize,
                                    rng=np.random.default_rng(1)))
    prior = torch.from_numpy(public_faces(prior_faces, method=method, eps=eps)[1].mean(0, keepdims=True))
    results = {"prior (mean public face)": prior.expand_as(truth), "true crop": truth}
    for attack in ("gradient", "mi-face"):
        if progress:
            print(f"{attack}: {len(truth)} faces, {steps} steps", flush=True)
        results[attack] = reconstruct_from_payload(probe, sent, prior, attack=attack, steps=steps, beta=beta)
    rows, truth_dev = [], F.normalize((truth - prior).flatten(1), dim=1)
    for name, recon in results.items():
        matched = dlib_matches(dlib, recon.numpy(), targets)
        toward = (F.normalize((recon - prior).flatten(1), dim=1) @ truth_dev.T).numpy()
        rows.append({"reconstruction": name, "ssim": round(float(np.mean(ssim_views(views, recon.numpy()))), 4),
                     "sign_agreement": round(float(sign_agreement(probe, recon, sent, method=method,
                                                                  eps=eps).mean()), 4),
                     "toward_own": round(float(toward.diagonal().mean()), 4),
                     "toward_others": round(float(toward[other].mean()), 4),
                     "dlib_genuine": round(float(matched.diagonal().mean()), 4),
                     "dlib_chance": round(float(matched[other].mean()), 4)})
    return {"method": method, "eps": eps, "randomize": randomize, "faces": len(kept), "people": len(set(names)),
            "steps": steps, "beta": beta, "prior_faces": prior_faces, "rows": rows}
