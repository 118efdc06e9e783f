"""Biased data sets for debiasing: C-MNIST (background colour ↔ digit) and CelebA-10k (Arched_Eyebrows vs Male).

Each is a :class:`BiasedData`: images in [0, 1], a target label ``y`` and a bias label ``b`` for the train,
validation and test splits. In C-MNIST the training colour follows the digit with probability
``strength`` and the validation and test sets cross every digit with every colour, so colour is independent
of the digit there and each image is seen in all ten colours (AEDA, Zhang & Sang, ACM MM 2020, Sec. 5.1).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from trust_core.faces.recognizers import Recognizer

#: ten well-separated background colours, colour k is the one digit k gets in training.
PALETTE = torch.tensor([
    [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0], [1.0, 0.0, 1.0],
    [0.0, 1.0, 1.0], [1.0, 0.5, 0.0], [0.5, 0.0, 1.0], [0.0, 0.5, 0.0], [0.5, 0.5, 0.5],
])


@dataclass
class Split:
    """Images (N, C, H, W) in [0, 1], target labels and bias labels (int64)."""

    x: torch.Tensor
    y: torch.Tensor
    b: torch.Tensor

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, index: torch.Tensor) -> Split:
        return Split(self.x[index], self.y[index], self.b[index])


@dataclass
class BiasedData:
    """A debiasing task: three splits and the number of target and bias classes; ``backbone`` names the
    pretrained recognizer whose face crops the images are (its embedder then starts every model, frozen, or
    fine-tuned at ``backbone_lr_scale`` times the learning rate when that is positive)."""

    name: str
    train: Split
    val: Split
    test: Split
    n_target: int
    n_bias: int
    protocol: str
    backbone: str | None = None
    backbone_lr_scale: float = 0.0


def colorize(digits: torch.Tensor, colours: torch.Tensor) -> torch.Tensor:
    """White digits on a coloured background: ``x + (1 − x) · PALETTE[colour]``, (N, 3, 28, 28)."""
    background = PALETTE[colours].view(-1, 3, 1, 1)
    return digits + (1 - digits) * background


def crossed(digits: torch.Tensor, labels: torch.Tensor) -> Split:
    """Every digit drawn in each of the ten colours (colour-major order): colour independent of the digit."""
    colours = torch.arange(10).repeat_interleave(len(labels))
    return Split(colorize(digits.repeat(10, 1, 1, 1), colours), labels.repeat(10), colours)


def biased_colours(labels: torch.Tensor, *, strength: float, generator: torch.Generator) -> torch.Tensor:
    """Colour = digit with probability ``strength``, otherwise one of the other nine colours uniformly."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must lie in [0, 1], got {strength}")
    aligned = torch.rand(len(labels), generator=generator) < strength
    other = (labels + torch.randint(1, 10, (len(labels),), generator=generator)) % 10
    return torch.where(aligned, labels, other)


def colored_mnist(*, strength: float = 0.99, n_train: int = 10000, n_val: int = 2000, n_test: int = 2000,
                  seed: int = 0) -> BiasedData:
    """C-MNIST: MNIST digits on a background colour that predicts the digit in training.

    Train and validation come from disjoint parts of MNIST-train: training colours are biased at ``strength``,
    the ``n_val`` validation digits are each drawn in all ten colours like the test set, which is the first
    ``n_test`` MNIST-test digits (``10 · n_test`` images each), so settings are chosen on held-out digits under
    the test's colour distribution, never on the test set. The bias label is the colour index.
    """
    from trust_core.data import mnist_tensors

    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must lie in [0, 1], got {strength}")
    if n_train < 1 or n_val < 1 or n_test < 1:
        raise ValueError("n_train, n_val and n_test must be positive")
    if n_train + n_val > 60000 or n_test > 10000:
        raise ValueError("C-MNIST draws at most 60,000 train+val and 10,000 test digits")
    gen = torch.Generator().manual_seed(seed)
    x, y = mnist_tensors("train")
    order = torch.randperm(len(y), generator=gen)[: n_train + n_val]
    x, y = x[order], y[order]
    b = biased_colours(y, strength=strength, generator=gen)[:n_train]
    train = Split(colorize(x[:n_train], b), y[:n_train], b)
    val = crossed(x[n_train:], y[n_train:])
    test = crossed(*mnist_tensors("test", limit=n_test))
    protocol = (f"C-MNIST: {n_train} train digits, colour = digit with p={strength}; val = {n_val} held-out "
                f"train digits x 10 colours; test = {n_test} MNIST-test digits x 10 colours")
    return BiasedData("cmnist", train, val, test, 10, 10, protocol)


def _portrait(path: Path, size: int) -> torch.Tensor:
    """The aligned portrait cropped to a centred square and resized to ``size``² (3, size, size) in [0, 1]."""
    import torch.nn.functional as F
    from PIL import Image

    with Image.open(path) as img:
        arr = torch.from_numpy(np.asarray(img.convert("RGB"), dtype=np.float32) / 255).permute(2, 0, 1)
    side = arr.shape[1] - arr.shape[2]
    square = arr[:, side // 2 : side // 2 + arr.shape[2]]
    return F.interpolate(square[None], size=(size, size), mode="bilinear", antialias=True, align_corners=False)[0]


def _face_crop(path: Path, recognizer: Recognizer) -> torch.Tensor:
    """The recognizer's own crop of the face box of an aligned CelebA image (3, S, S) in [0, 1]."""
    from trust_core.data.celeba import face_box
    from trust_core.faces.align import Face
    from trust_core.faces.io import load_image

    image = load_image(path)
    return recognizer.align(image, [Face.from_box(face_box(image.shape[1]))]).crops[0]


def celeba_fairness(*, target: str = "Arched_Eyebrows", bias: str = "Male", size: int = 64,
                    backbone: str | None = None, backbone_lr_scale: float = 0.0,
                    fractions: tuple[float, float] = (0.7, 0.1), seed: int = 0, limit: int | None = None) -> BiasedData:
    """CelebA-10k with a seeded identity-disjoint train/val/test split.

    Images are the portraits resized to ``size``², or, with ``backbone`` (a registered differentiable
    recognizer, e.g. ``"probe"``), that recognizer's crops of the face; its embedder is fine-tuned at
    ``backbone_lr_scale`` times the learning rate, or frozen at 0. ``fractions`` are the train and validation
    shares of identities; the rest is the test set.
    """
    from trust_core.data import CelebA

    if backbone_lr_scale and backbone is None:
        raise ValueError("backbone_lr_scale needs a backbone to fine-tune")
    if backbone is None and not 8 <= size <= 218:
        raise ValueError(f"size must lie in [8, 218], got {size}")
    if not (0 < fractions[0] and 0 < fractions[1] and sum(fractions) < 1):
        raise ValueError(f"fractions must be two positive shares summing below 1, got {fractions}")
    recognizer = None
    if backbone is not None:
        from trust_core.faces.recognizers import get_recognizer

        recognizer = get_recognizer(backbone)
        if not recognizer.differentiable:
            raise ValueError(f"backbone {backbone!r} is not differentiable; AEDA needs input gradients through it")
        size = recognizer.input_size
    celeba = CelebA()
    y, b = celeba.attribute(target), celeba.attribute(bias)
    ids = celeba.identities
    paths = celeba.paths()
    count = len(paths) if limit is None else min(limit, len(paths))
    images = torch.empty(count, 3, size, size)
    for i, path in enumerate(paths[:count]):
        images[i] = _portrait(path, size) if recognizer is None else _face_crop(path, recognizer)
    images.clamp_(0, 1)
    rng = np.random.default_rng(seed)
    people = rng.permutation(np.unique(ids[:count]))
    cut1, cut2 = int(fractions[0] * len(people)), int(sum(fractions) * len(people))
    part = {int(p): 0 if k < cut1 else 1 if k < cut2 else 2 for k, p in enumerate(people)}
    which = torch.tensor([part[int(p)] for p in ids[:count]])
    yt, bt = torch.from_numpy(y[:count]), torch.from_numpy(b[:count])
    splits = [Split(images[which == k], yt[which == k], bt[which == k]) for k in range(3)]
    view = f"{size}x{size} portraits" if backbone is None else f"{backbone}'s {size}x{size} face crops"
    if backbone_lr_scale:
        view += f", {backbone} fine-tuned at {backbone_lr_scale:g}x the learning rate"
    protocol = (f"CelebA-10k {target} (target) vs {bias} (bias), {view}, identity-disjoint split "
                f"{len(splits[0])}/{len(splits[1])}/{len(splits[2])} (seed {seed})")
    return BiasedData("celeba", *splits, 2, 2, protocol, backbone, backbone_lr_scale)
