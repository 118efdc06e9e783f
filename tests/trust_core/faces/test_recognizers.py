"""The recognizer registry, the FaceNet-CASIA conversion (parity with OpenCV running the original graph),
and dlib's black-box recognizer, on real LFW faces."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from trust_core.faces.recognizers import Recognizer, available_recognizers, get_recognizer, register_recognizer


def test_registry():
    assert {"facenet-casia", "dlib"} <= set(available_recognizers())
    with pytest.raises(ValueError, match="unknown recognizer 'nope'; available: .*facenet-casia"):
        get_recognizer("nope")


def test_register_a_new_recognizer():
    @register_recognizer("test-mean-colour")
    class MeanColour(Recognizer):
        input_size = 8

        def _embed(self, faces):
            return torch.nn.functional.normalize(faces.mean(dim=(2, 3)), dim=-1)

    rec = get_recognizer("test-mean-colour")
    assert rec is get_recognizer("test-mean-colour") and rec.name == "test-mean-colour"
    faces = torch.rand(2, 3, 8, 8)
    assert torch.allclose(rec.embed(faces).norm(dim=1), torch.ones(2))
    with pytest.raises(ValueError, match="expected 8x8 crops"):
        rec.embed(torch.rand(1, 3, 9, 9))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        rec.embed(faces * 2)
    with pytest.raises(ValueError, match="shape"):
        rec.embed(torch.rand(3, 8, 8))


def _crops(rec, images, faces):
    return torch.cat([rec.align(image, [face]).crops for image, face in zip(images, faces)])


def test_facenet_matches_opencv_on_the_original_graph(facenet, lfw_images, lfw_faces):
    """Conversion parity: converted InceptionResnetV1 vs cv2.dnn on graph_final.pb, max |diff| <= 1e-4."""
    import cv2

    from trust_core.faces.facenet_casia import graph_path

    crops = _crops(facenet, lfw_images[:4], lfw_faces[:4])
    with torch.no_grad():
        ours = facenet.embed(crops).numpy()
    net = cv2.dnn.readNetFromTensorflow(str(graph_path()))
    for crop, embedding in zip(crops, ours):
        net.setInput(((crop.numpy() * 255.0 - 127.5) / 128.0)[None].astype(np.float32))
        reference = net.forward().ravel()
        assert np.abs(reference - embedding).max() <= 1e-4
    assert ours.shape == (4, 512) and np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)


def test_facenet_verifies_real_pairs_and_is_differentiable(facenet, lfw_images, lfw_faces):
    # photos: 0,1 = Abel Pacheco; 2,3 = Akhmed Zakayev; 4 = Abdel Madi Shabneh; 5 = Dean Barker; 6 = M. Gorbachev
    crops = _crops(facenet, lfw_images, lfw_faces)
    with torch.no_grad():
        emb = facenet.embed(crops)
    genuine = facenet.similarity(emb[[0, 2]], emb[[1, 3]])
    impostor = facenet.similarity(emb[[4, 4, 0, 5]], emb[[5, 6, 2, 6]])
    assert (genuine >= facenet.threshold).all() and (impostor < facenet.threshold).all()
    assert facenet.same_person(emb[0], emb[1]) and not facenet.same_person(emb[0], emb[2])
    pair = crops[:2].clone().requires_grad_(True)
    facenet.similarity(*facenet.embed(pair)).backward()
    assert pair.grad is not None and pair.grad.abs().sum() > 0
    assert facenet.differentiable and not facenet.module.training and facenet.input_size == 160


def test_dlib_is_black_box_and_verifies_real_pairs(dlib_recognizer, lfw_images, lfw_faces):
    rec = dlib_recognizer
    assert not rec.differentiable and rec.input_size == 150 and not hasattr(rec, "module")
    aligned = [rec.align(image, [face]) for image, face in zip(lfw_images, lfw_faces)]
    emb = rec.embed(torch.cat([a.crops for a in aligned]))
    assert emb.shape == (7, 128) and torch.allclose(emb.norm(dim=1), torch.ones(7), atol=1e-5)
    genuine = rec.similarity(emb[[0, 2]], emb[[1, 3]])
    impostor = rec.similarity(emb[[4, 4, 0, 5]], emb[[5, 6, 2, 6]])
    assert (genuine >= rec.threshold).all() and (impostor < rec.threshold).all()
    # the chip's affine maps the 150 px chip centre onto the face
    centre = aligned[0].transforms[0] @ np.array([74.5, 74.5, 1.0])
    box = lfw_faces[0].box
    assert box[0] < centre[0] < box[2] and box[1] < centre[1] < box[3]
