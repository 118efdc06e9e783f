"""Manipulation detectors: spatial (a small CNN on the high-passed face crop) and frequency-domain (azimuthally averaged log
power spectra, Durall, Keuper & Keuper, "Watch your up-convolution", CVPR 2020, of the face and of the inner face
against its surroundings, with logistic regression),
and their late fusion (mean probability). Images are (N, H, W, 3) uint8 RGB; every ``score`` is P(manipulated).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from trust_core.models.train_mnist import fit
from trust_core.models.wrappers import eval_mode


#: (top, bottom, left, right) of the 64x64 inner-face box of CelebA-10k's aligned 89x109 images.
CELEBA_FACE_BOX = (35, 99, 13, 77)


def face_region(images: np.ndarray, box: tuple[int, int, int, int] | None = CELEBA_FACE_BOX) -> np.ndarray:
    """The ``box`` of every image (all of it when ``box`` is None): detectors look at the face, not the background."""
    if box is None:
        return images
    top, bottom, left, right = box
    if images.ndim != 4 or bottom > images.shape[1] or right > images.shape[2]:
        raise ValueError(f"box {box} does not fit images of shape {images.shape}")
    return images[:, top:bottom, left:right]


def spectrum(images: np.ndarray, *, bins: int = 24) -> np.ndarray:
    """Log power of the grey image's 2-D FFT (Hann-windowed), averaged over rings of equal frequency: (N, bins)."""
    grey = images.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    height, width = grey.shape[1:]
    window = np.outer(np.hanning(height), np.hanning(width)).astype(np.float32)
    power = np.log1p(np.abs(np.fft.fftshift(np.fft.fft2((grey - grey.mean((1, 2), keepdims=True)) * window), axes=(1, 2))) ** 2)
    yy, xx = np.mgrid[:height, :width]
    radius = np.hypot((yy - height / 2) / (height / 2), (xx - width / 2) / (width / 2))
    ring = np.minimum((radius * bins).astype(int), bins - 1).ravel()
    counts = np.bincount(ring, minlength=bins)
    return np.stack([np.bincount(ring, weights=p.ravel(), minlength=bins) / counts for p in power])


#: CelebA-10k boxes for the resolution-consistency cue: the swapped inner face and the band above it (hair, brow).
CELEBA_INNER_BOX = (45, 89, 25, 65)
CELEBA_OUTER_BOX = (0, 40, 0, 89)


def spectral_features(images: np.ndarray, *, face: tuple[int, int, int, int] = CELEBA_FACE_BOX,
                      inner: tuple[int, int, int, int] = CELEBA_INNER_BOX,
                      outer: tuple[int, int, int, int] = CELEBA_OUTER_BOX, bins: int = 32) -> np.ndarray:
    """The face box's spectrum, the inner face's, and inner minus outer: a swapped face passed through a low
    resolution, so its high frequencies fall short of the untouched surroundings', whatever the whole photo went
    through afterwards."""
    inside = spectrum(face_region(images, inner), bins=bins // 2)
    return np.concatenate([spectrum(face_region(images, face), bins=bins), inside,
                           inside - spectrum(face_region(images, outer), bins=bins // 2)], axis=1)


class SpectrumDetector:
    """Standardised :func:`spectral_features` -> logistic regression."""

    def __init__(self, *, bins: int = 32, c: float = 0.1) -> None:
        self.bins = bins
        self.model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000))

    def fit(self, images: np.ndarray, labels: np.ndarray) -> SpectrumDetector:
        self.model.fit(spectral_features(images, bins=self.bins), labels)
        return self

    def score(self, images: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(spectral_features(images, bins=self.bins))[:, 1]


def as_tensor(images: np.ndarray) -> torch.Tensor:
    """(N, H, W, 3) uint8 -> (N, 3, H, W) float in [0, 1]."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0)


class HighPass(nn.Module):
    """The image minus its 3x3 local mean (x4): a fixed noise-residual filter, as manipulation detectors put in
    front of their CNNs (SRM filters: Fridrich & Kodovsky 2012; Zhou, Han, Morariu & Davis, CVPR 2018), so the
    network sees resampling and blending traces rather than faces."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 4 * (x - F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False))


def face_cnn(width: int = 8) -> nn.Sequential:
    """High-pass residual, three conv blocks and a linear head on a 4x4 grid (aligned faces keep parts in place)."""
    return nn.Sequential(
        HighPass(),
        nn.Conv2d(3, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(2 * width, 4 * width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4),
        nn.Flatten(), nn.Linear(4 * width * 16, 2),
    )


class CnnDetector:
    """:func:`face_cnn` trained with the shared loop (Adam, one-cycle) on real (0) vs manipulated (1)."""

    def __init__(self, *, width: int = 8, epochs: int = 6, lr: float = 1e-3, seed: int = 0,
                 box: tuple[int, int, int, int] | None = CELEBA_FACE_BOX) -> None:
        self.width, self.epochs, self.lr, self.seed, self.box = width, epochs, lr, seed, box
        self.model: nn.Module | None = None

    def fit(self, images: np.ndarray, labels: np.ndarray) -> CnnDetector:
        torch.manual_seed(self.seed)
        self.model = fit(face_cnn(self.width), as_tensor(face_region(images, self.box)), torch.from_numpy(labels).long(), epochs=self.epochs,
                         batch=64, lr=self.lr, seed=self.seed)
        return self

    def score(self, images: np.ndarray) -> np.ndarray:
        if self.model is None:
            raise RuntimeError("fit the detector first")
        x = as_tensor(face_region(images, self.box))
        with torch.no_grad(), eval_mode(self.model):
            return torch.cat([self.model(chunk).softmax(1)[:, 1] for chunk in x.split(256)]).numpy()


class FusedDetector:
    """The mean of the CNN's and the spectrum detector's probabilities."""

    def __init__(self, cnn: CnnDetector, spectral: SpectrumDetector) -> None:
        self.parts = (cnn, spectral)

    def fit(self, images: np.ndarray, labels: np.ndarray) -> FusedDetector:
        for part in self.parts:
            part.fit(images, labels)
        return self

    def score(self, images: np.ndarray) -> np.ndarray:
        return np.mean([part.score(images) for part in self.parts], axis=0)
