"""What the signal reveals of the photo: the strongest reconstruction we can build from the payload alone.

The attacker is the cloud: it receives the wire message (the signal, nothing else) and knows the probe. It learns
an inverse — a U-Net from the signal to the face, trained on public faces (CelebA-10k and LFW people absent from
pairs.txt) — and applies it to the signals of LFW photos it never saw. Reported: SSIM of the reconstruction to the
probe's view of the original, and how often dlib (a recognizer the inverter never used) matches the reconstruction
to *another* photo of the same person (LFW's genuine pairs, fold 1), next to dlib's rate on impostor pairs (chance)
and on the true crops (the ceiling). With ``randomize`` the device sends the randomised response of the signal
(:mod:`edge_probe.randomize`) and the attacker, knowing the mechanism and the rate, learns from randomised signals of
the public faces. Cf. model inversion (Fredrikson et al., CCS 2015) and gradient leakage
(Zhu et al., "Deep Leakage from Gradients", NeurIPS 2019).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from edge_probe.crops import CROP_SIZE
from trust_core.models.unet import UNet


class Inverter(torch.nn.Module):
    """Signal in units of eps (N, 3, 112, 112) -> a face in [0, 1]."""

    def __init__(self, *, width: int = 24) -> None:
        super().__init__()
        self.net = UNet(width=width, depth=3)

    def forward(self, unit_signal: torch.Tensor) -> torch.Tensor:
        return (self.net(unit_signal) + 1) / 2


def payload(probe: torch.nn.Module, views: np.ndarray, *, method: str, eps: float, randomize: float = 0.0,
            rng: np.random.Generator | None = None, batch: int = 64) -> np.ndarray:
    """What the cloud receives for (N, 3, 112, 112) probe views, in units of eps: the signal, randomised at rate
    ``randomize`` as the device would."""
    from edge_probe.randomize import randomize as randomized
    from edge_probe.signal import compute_signal

    out = []
    for i in range(0, len(views), batch):
        signal = compute_signal(probe, views[i:i + batch], method=method, eps=eps).numpy()
        out.append(randomized(signal, method=method, eps=eps, rate=randomize, rng=rng) / eps)
    return np.concatenate(out).astype(np.float32)


def public_faces(count: int, *, method: str, eps: float, randomize: float = 0.0, seed: int = 0,
                 probe: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(payloads in units of eps, probe views) of ``count`` public training faces (never an LFW pair image), from
    the shipped probe or the one in the folder ``probe``."""
    from edge_probe.model import load_probe
    from edge_probe.train import teacher_crops, training_files

    files = training_files(lfw_limit=count // 2, celeba_limit=count - count // 2, seed=seed)
    views = np.concatenate([teacher_crops(files[i:i + 64])[1] for i in range(0, len(files), 64)])
    rng = np.random.default_rng(seed)
    return payload(load_probe(probe), views, method=method, eps=eps, randomize=randomize, rng=rng), views


def train_inverter(signals: np.ndarray, views: np.ndarray, *, minutes: float, steps: int | None = None,
                   batch: int = 32, seed: int = 0, width: int = 24,
                   progress: bool = True) -> tuple[Inverter, list[dict]]:
    """L1 regression of the faces from their signals for ``minutes``, or ``steps`` if they come first (Adam, lr
    2e-3)."""
    torch.manual_seed(seed)
    model = Inverter(width=width)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    rng = np.random.default_rng(seed)
    deadline, step, history = time.time() + minutes * 60, 0, []
    model.train()
    while time.time() < deadline and (steps is None or step < steps):
        idx = rng.choice(len(signals), size=min(batch, len(signals)), replace=False)
        loss = F.l1_loss(model(torch.from_numpy(signals[idx])), torch.from_numpy(views[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 50 == 0:
            history.append({"step": step, "l1": round(loss.item(), 4)})
            if progress:
                print(f"inverter step {step} L1 {loss.item():.4f}", flush=True)
    recalibrate_batchnorm(model, signals[:512], batch=batch)
    return model.eval(), history


@torch.no_grad()
def recalibrate_batchnorm(model: torch.nn.Module, inputs: np.ndarray, *, batch: int) -> None:
    """Replace the running BatchNorm statistics by their plain average over ``inputs`` (a short training run's
    running averages still remember the first steps)."""
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    for i in range(0, len(inputs), batch):
        model(torch.from_numpy(inputs[i:i + batch]))
    for m in norms:
        m.momentum = 0.1


def _chip_embeddings(dlib, faces: np.ndarray):  # noqa: ANN001, ANN202
    """dlib embeddings of (N, 3, 112, 112) face views, each seen as a 160-px box crop (the box is its centre 128 px)."""
    from trust_core.faces.align import Face

    face = Face.from_box([16.0, 16.0, 144.0, 144.0], score=1.0)
    out = []
    for view in faces:
        image = np.rint(np.clip(F.interpolate(torch.from_numpy(view)[None], size=CROP_SIZE, mode="bilinear",
                                              align_corners=False)[0].permute(1, 2, 0).numpy(), 0, 1) * 255)
        out.append(dlib.embed(dlib.align(np.ascontiguousarray(image, dtype=np.uint8), [face]).crops))
    return torch.cat(out)


def pair_views(pairs: list, dlib, *, progress: bool = True) -> tuple[np.ndarray, list, dict]:  # noqa: ANN001
    """The probe's (N, 3, 112, 112) views of the first photos of ``pairs`` (FaceNet-CASIA's box crop, the APF crop),
    the pairs kept (both photos found) and dlib's embeddings of the second photos (path -> embedding)."""
    from edge_probe.crops import probe_view
    from trust_core.faces.align import central_face, detect_files
    from trust_core.faces.evaluate import embed_files, lfw_fallback_face
    from trust_core.faces.io import load_image
    from trust_core.faces.recognizers import get_recognizer

    facenet = get_recognizer("facenet-casia")  # its box crop is the APF crop
    seconds = embed_files(dlib, [p.second for p in pairs], fallback=True, progress=progress)
    found = detect_files(sorted({p.first for p in pairs}))
    views, kept = [], []
    for pair in pairs:
        if pair.second not in seconds.embeddings or not isinstance(found[pair.first], list):
            continue
        image = load_image(pair.first)
        face = central_face(found[pair.first], image.shape) or lfw_fallback_face(image.shape)
        views.append(probe_view(facenet.align(image, [face]).crops.numpy())[0])
        kept.append(pair)
    return np.stack(views).astype(np.float32), kept, seconds.embeddings


def dlib_matches(dlib, faces: np.ndarray, targets: torch.Tensor) -> np.ndarray:  # noqa: ANN001
    """(len(faces), len(targets)) booleans: dlib's decision that face view i and target embedding j are one person."""
    embeddings = _chip_embeddings(dlib, faces)
    return (dlib.similarity(embeddings[:, None], targets[None]) >= dlib.threshold).numpy()


def ssim_views(a: np.ndarray, b: np.ndarray) -> list[float]:
    """SSIM of each (3, H, W) view of ``a`` to the same-index view of ``b`` (images in [0, 1])."""
    from skimage.metrics import structural_similarity

    return [float(structural_similarity(u.transpose(1, 2, 0), v.transpose(1, 2, 0), channel_axis=2, data_range=1.0))
            for u, v in zip(a, b, strict=True)]


def audit(inverter: Inverter, *, method: str, eps: float, randomize: float = 0.0, folds: int = 1,
          progress: bool = True, examples: Path | None = None, lfw=None,  # noqa: ANN001 - trust_core.data.LFW
          probe: Path | None = None) -> dict:
    """Reconstruct the first photo of each LFW pair of folds 1..``folds`` from its payload (of the shipped probe, or
    of the one in the folder ``probe``); SSIM and dlib match rates; ``examples``: a PNG of the first eight originals
    (top) and reconstructions (bottom)."""
    from edge_probe.model import load_probe
    from trust_core.data import LFW
    from trust_core.faces.recognizers import get_recognizer

    dlib, model = get_recognizer("dlib"), load_probe(probe)
    pairs = [p for p in (lfw or LFW()).pairs() if p.fold < folds]
    views_arr, kept, seconds = pair_views(pairs, dlib, progress=progress)
    signals = payload(model, views_arr, method=method, eps=eps, randomize=randomize, rng=np.random.default_rng(1))
    with torch.no_grad():
        recon = torch.cat([inverter(torch.from_numpy(signals[i:i + 64])) for i in range(0, len(signals), 64)]).numpy()
    if examples is not None:
        save_examples(recon[:8], views_arr[:8], examples)
    targets = torch.stack([seconds[p.second] for p in kept])
    same = np.array([p.same for p in kept])
    rates = {}
    for name, faces in (("reconstruction", recon), ("true_crop", views_arr)):
        matched = dlib_matches(dlib, faces, targets).diagonal()
        rates[name] = {"genuine_matched": float(matched[same].mean()), "impostor_matched": float(matched[~same].mean())}
    return {"method": method, "eps": eps, "randomize": randomize, "pairs": len(kept),
            "ssim_reconstruction": float(np.mean(ssim_views(views_arr, recon))),
            "dlib": rates, "dlib_threshold": dlib.threshold}


def save_examples(recon: np.ndarray, views: np.ndarray, path: Path) -> Path:
    """A PNG: originals (top) and their reconstructions from the signal (bottom)."""
    from PIL import Image

    grid = np.concatenate([np.concatenate(list(views), 2), np.concatenate(list(recon), 2)], 1)
    Image.fromarray(np.rint(grid.transpose(1, 2, 0) * 255).astype(np.uint8)).save(path)
    return path
