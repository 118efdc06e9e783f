"""Shared fixtures: real data slices and the small fixed models every topic's tests use."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

#: pairs.txt fold 1 rows: two genuine pairs and two impostor pairs (6 distinct photos).
PAIRS = [
    ("Abel_Pacheco", 1, "Abel_Pacheco", 4),
    ("Akhmed_Zakayev", 1, "Akhmed_Zakayev", 3),
    ("Abdel_Madi_Shabneh", 1, "Dean_Barker", 1),
    ("Abdel_Madi_Shabneh", 1, "Mikhail_Gorbachev", 1),
]


@pytest.fixture(scope="session", autouse=True)
def _deterministic() -> None:
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def mnist_test_slice() -> tuple[torch.Tensor, torch.Tensor]:
    """The first 512 MNIST test images (float, [0, 1], (N, 1, 28, 28)) and labels."""
    from trust_core.data import mnist_tensors

    return mnist_tensors("test", limit=512)


@pytest.fixture(scope="session")
def mnist_train_slice() -> tuple[torch.Tensor, torch.Tensor]:
    """The first 5,000 MNIST train images and labels."""
    from trust_core.data import mnist_tensors

    return mnist_tensors("train", limit=5000)


@pytest.fixture(scope="session")
def mnist_cnn() -> torch.nn.Module:
    """The shipped MNIST CNN (99.18% test accuracy), eval mode. Do not train it in place: deepcopy first."""
    from trust_core.models.mnist import load_mnist_cnn

    return load_mnist_cnn()


@pytest.fixture(scope="session")
def lfw():  # noqa: ANN201
    from trust_core.data import LFW, DataMissingError

    try:
        return LFW()
    except DataMissingError as exc:
        pytest.skip(f"LFW is not available: {exc}")


@pytest.fixture(scope="session")
def lfw_paths(lfw) -> list[Path]:  # noqa: ANN001
    """The 7 distinct photos of :data:`PAIRS`."""
    return list(dict.fromkeys(lfw.path(p, n) for row in PAIRS for p, n in (row[:2], row[2:])))


@pytest.fixture(scope="session")
def tiny_lfw_root(tmp_path_factory, lfw) -> Path:  # noqa: ANN001
    """A data root whose ``lfw/`` holds symlinks to the :data:`PAIRS` photos and a 1-fold pairs.txt."""
    root = tmp_path_factory.mktemp("data")
    images = root / "lfw" / "images"
    images.mkdir(parents=True)
    lines = ["1\t2"]
    for a, i, b, j in PAIRS:
        for person, num in ((a, i), (b, j)):
            link = images / f"{person}_{num:04d}.jpg"
            if not link.exists():
                link.symlink_to(lfw.path(person, num))
        lines.append(f"{a}\t{i}\t{j}" if a == b else f"{a}\t{i}\t{b}\t{j}")
    (root / "lfw" / "pairs.txt").write_text("\n".join(lines) + "\n")
    return root
