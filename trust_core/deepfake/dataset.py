"""Real and manipulated CelebA faces with disjoint identities for training and testing a detector.

Within one identity group, some images stay real and others become swap targets, each receiving the inner face of
a donor of another identity from the same group; then every image, real or fake alike, goes through the same
random post-processing (:func:`trust_core.deepfake.variants.random_variant`), so that neither re-compression nor
resizing tells the classes apart.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from sklearn.model_selection import GroupShuffleSplit

from trust_core.data import CelebA
from trust_core.deepfake.swap import swap
from trust_core.deepfake.variants import random_variant


@dataclass(frozen=True)
class FaceSet:
    """``images`` (N, H, W, 3) uint8 RGB, ``labels`` (1 = manipulated) and the ``identities`` shown."""

    images: np.ndarray
    labels: np.ndarray
    identities: np.ndarray

    def map(self, fn: Callable[[np.ndarray], np.ndarray]) -> FaceSet:
        """The same set with ``fn`` applied to every image (e.g. JPEG q75)."""
        return FaceSet(np.stack([fn(image) for image in self.images]), self.labels, self.identities)


def identity_split(identities: np.ndarray, *, test_share: float = 0.3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Image indices of the train and test groups; no identity appears in both."""
    train, test = next(GroupShuffleSplit(1, test_size=test_share, random_state=seed).split(identities, groups=identities))
    return train, test


def make_faces(paths: Sequence[Path], identities: np.ndarray, pool: np.ndarray, *, reals: int, fakes: int,
               variants: bool = True, seed: int = 0) -> FaceSet:
    """``reals`` untouched and ``fakes`` swapped images drawn from the image indices ``pool``."""
    rng = np.random.default_rng(seed)
    if reals + fakes > len(pool):
        raise ValueError(f"asked for {reals} real + {fakes} fake images from a pool of {len(pool)}")
    order = rng.permutation(pool)

    def load(i: int) -> np.ndarray:
        image = cv2.imread(str(paths[i]), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"unreadable image {paths[i]}")
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)

    images, labels, shown = [], [], []
    for n, i in enumerate(order[: reals + fakes]):
        image = load(i)
        if n >= reals:
            donor = rng.choice(pool)
            while identities[donor] == identities[i]:
                donor = rng.choice(pool)
            image = swap(image, load(donor))
        images.append(random_variant(image, rng) if variants else image)
        labels.append(int(n >= reals))
        shown.append(identities[i])
    return FaceSet(np.stack(images), np.array(labels), np.array(shown))


def celeba_faces(*, train_reals: int = 2000, train_fakes: int = 2000, test_reals: int = 600, test_fakes: int = 600,
                 variants: bool = True, seed: int = 0) -> tuple[FaceSet, FaceSet]:
    """(train, test) from CelebA-10k with held-out identities in the test set."""
    celeba = CelebA()
    identities = celeba.identities
    train_pool, test_pool = identity_split(identities, seed=seed)
    paths = celeba.paths()
    return (make_faces(paths, identities, train_pool, reals=train_reals, fakes=train_fakes, variants=variants, seed=seed),
            make_faces(paths, identities, test_pool, reals=test_reals, fakes=test_fakes, variants=variants,
                       seed=seed + 1))
