"""MTCNN detection, aligned crops, the inverse warp back into the photo, and the detection cache."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from trust_core.faces.align import (
    ARCFACE_TEMPLATE,
    align_faces,
    central_face,
    detect,
    detect_files,
    paste_faces,
)
from trust_core.faces.io import FaceImageError


def test_detects_the_central_face_with_landmarks_inside_the_box(lfw_images, lfw_faces):
    for image, face in zip(lfw_images, lfw_faces):
        assert face is not None and face.score > 0.9
        x0, y0, x1, y1 = face.box
        assert 40 < (x0 + x1) / 2 < 210 and 40 < (y0 + y1) / 2 < 210  # LFW faces are centred
        assert ((face.landmarks >= [x0, y0]) & (face.landmarks <= [x1, y1])).all()
        left_eye, right_eye = face.landmarks[0], face.landmarks[1]
        assert left_eye[0] < right_eye[0]


def test_no_face_and_input_validation():
    assert detect([np.full((120, 120, 3), 128, np.uint8)]) == [[]]
    assert central_face([], (10, 10, 3)) is None
    with pytest.raises(ValueError, match="uint8 RGB"):
        detect([np.zeros((10, 10), np.uint8)])


@pytest.mark.parametrize("size", [112, 160])
def test_landmark_alignment_puts_landmarks_on_the_template(lfw_images, lfw_faces, size):
    image, face = lfw_images[0], lfw_faces[0]
    aligned = align_faces(image, [face], size=size)
    assert aligned.crops.shape == (1, 3, size, size) and 0 <= aligned.crops.min() and aligned.crops.max() <= 1
    matrix = np.vstack([aligned.transforms[0], [0, 0, 1]])
    in_crop = (np.linalg.inv(matrix) @ np.c_[face.landmarks, np.ones(5)].T).T[:, :2]
    assert np.abs(in_crop - ARCFACE_TEMPLATE * size / 112).max() < 0.08 * size
    # the crop re-detects as a face with landmarks near the template
    found = detect([(aligned.crops[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)])[0]
    assert found and np.abs(found[0].landmarks - ARCFACE_TEMPLATE * size / 112).max() < 0.1 * size


def test_box_alignment_matches_facenet_pytorch_extract_face(lfw_images, lfw_faces):
    from facenet_pytorch.models.mtcnn import extract_face
    from PIL import Image

    image, face = lfw_images[1], lfw_faces[1]
    ours = align_faces(image, [face], size=160, method="box", margin=32).crops[0] * 255
    theirs = extract_face(Image.fromarray(image), face.box, image_size=160, margin=32).float()
    assert (ours - theirs).abs().mean() < 4.0  # same box and scale; only the resampling kernel differs


def test_paste_of_unchanged_crops_leaves_the_photo_untouched(lfw_images, lfw_faces):
    image = lfw_images[2]
    for method in ("landmarks", "box"):
        aligned = align_faces(image, [lfw_faces[2]], size=112, method=method)
        assert np.array_equal(paste_faces(image, aligned, aligned.crops.clone()), image)


def test_paste_changes_only_the_face_region_and_round_trips(lfw_images, lfw_faces):
    image = lfw_images[3]
    aligned = align_faces(image, [lfw_faces[3]], size=160)
    delta = 0.2 * torch.sign(torch.randn(1, 3, 1, 1)) * torch.ones_like(aligned.crops)
    modified = (aligned.crops + delta).clamp(0, 1)
    pasted = paste_faces(image, aligned, modified, feather=0.1)
    changed = np.abs(pasted.astype(int) - image).max(axis=2) > 0
    corners = np.array([[0, 0, 1], [159, 0, 1], [159, 159, 1], [0, 159, 1]]) @ aligned.transforms[0].T
    import cv2

    footprint = np.zeros(image.shape[:2], np.uint8)
    cv2.fillConvexPoly(footprint, np.round(corners).astype(np.int32), 1)
    footprint = cv2.dilate(footprint, np.ones((3, 3), np.uint8))
    assert changed.sum() > 0.5 * footprint.sum() * 0.64  # the inner (unfeathered) area changed
    assert not (changed & (footprint == 0)).any()
    # re-cropping the pasted photo gives the modified crop back in the unfeathered interior
    again = align_faces(pasted, [lfw_faces[3]], size=160).crops
    inner = (slice(None), slice(None), slice(24, 136), slice(24, 136))
    assert (again - modified)[inner].abs().mean() < 0.02
    assert (again - aligned.crops)[inner].abs().mean() > 0.1


def test_several_faces_in_one_photo(lfw_images):
    photo = np.concatenate([lfw_images[0], lfw_images[1]], axis=1)  # two people side by side
    faces = detect([photo])[0]
    centres = sorted((f.box[0] + f.box[2]) / 2 for f in faces if f.score > 0.95)
    assert len(centres) >= 2 and centres[0] < 250 < centres[-1]
    aligned = align_faces(photo, faces, size=112)
    modified = aligned.crops.clone()
    modified[0] = 1.0 - modified[0]
    pasted = paste_faces(photo, aligned, modified)
    assert not np.array_equal(pasted, photo)
    assert np.array_equal(paste_faces(photo, aligned, aligned.crops), photo)
    with pytest.raises(ValueError, match="must match"):
        paste_faces(photo, aligned, modified[:1])


def test_batched_detection_equals_single(lfw_images):
    batched = detect(lfw_images[:3], batch_size=3)
    for image, faces in zip(lfw_images[:3], batched):
        single = detect([image])[0]
        assert len(single) == len(faces)
        np.testing.assert_allclose(single[0].box, faces[0].box, atol=1e-3)


def test_detection_cache_and_bad_files(lfw_paths, tmp_path, monkeypatch):
    monkeypatch.setenv("APF_CACHE", str(tmp_path / "cache"))
    bad = tmp_path / "bad.jpg"
    bad.write_text("not a photo")
    first = detect_files([lfw_paths[0], bad])
    assert isinstance(first[bad], FaceImageError) and "not an image" in str(first[bad])
    assert list((tmp_path / "cache" / "detections").rglob("*.json"))
    import trust_core.faces.align as align

    monkeypatch.setattr(align, "detect", lambda *a, **k: pytest.fail("cache miss"))
    second = detect_files([lfw_paths[0]])
    np.testing.assert_allclose(second[lfw_paths[0]][0].box, first[lfw_paths[0]][0].box)
