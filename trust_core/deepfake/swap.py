"""Face swaps made the classic way: warp the donor's face onto the target's landmarks (similarity transforms
fitted to the 5 points, through the swapper's low-resolution working crop) and blend it in with Poisson image editing (Pérez, Gangnet & Blake, SIGGRAPH 2003;
``cv2.seamlessClone``) over an ellipse covering eyes, nose and mouth. Images are (H, W, 3) uint8 RGB.

CelebA's aligned crops put every face at nearly the same place, so a fixed landmark template stands in for a
detector there (:data:`CELEBA_TEMPLATE`); pass detected landmarks (``trust_core.faces.align.detect``) elsewhere.
"""
from __future__ import annotations

import cv2
import numpy as np

#: The 5 MTCNN landmarks (eyes, nose tip, mouth corners; x, y) of CelebA-10k's 89x109 aligned images: their mean over
#: the first 64 images (per-point spread 1-3.5 px).
CELEBA_TEMPLATE = np.array([[35.3, 56.3], [54.8, 56.1], [44.8, 68.3], [36.5, 77.4], [53.6, 77.2]])


def _check(image: np.ndarray, name: str) -> None:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"{name} must be (H, W, 3) uint8, got {image.shape} {image.dtype}")


def face_mask(shape: tuple[int, ...], landmarks: np.ndarray, *, scale: float = 1.0) -> np.ndarray:
    """A filled ellipse (uint8 0/255) over the inner face of ``landmarks``, ``scale`` times the default size."""
    eyes, mouth = landmarks[:2].mean(0), landmarks[3:].mean(0)
    width = 1.9 * np.linalg.norm(landmarks[1] - landmarks[0]) * scale
    height = 2.2 * np.linalg.norm(mouth - eyes) * scale
    centre = (eyes + mouth) / 2
    angle = float(np.degrees(np.arctan2(*(landmarks[1] - landmarks[0])[::-1])))
    mask = np.zeros(shape[:2], np.uint8)
    cv2.ellipse(mask, (int(round(centre[0])), int(round(centre[1]))), (int(width / 2), int(height / 2)), angle, 0, 360,
                255, -1)
    return mask


def canonical(size: int) -> np.ndarray:
    """The ArcFace 5-point template scaled to a ``size`` x ``size`` face crop (the swapper's working frame)."""
    from trust_core.faces.align import ARCFACE_TEMPLATE

    return ARCFACE_TEMPLATE * size / 112.0


def _similarity(source: np.ndarray, destination: np.ndarray) -> np.ndarray:
    matrix, _ = cv2.estimateAffinePartial2D(source.astype(np.float32), destination.astype(np.float32))
    if matrix is None:
        raise ValueError("could not fit a similarity transform between the landmark sets")
    return matrix


def swap(target: np.ndarray, donor: np.ndarray, *, target_landmarks: np.ndarray = CELEBA_TEMPLATE,
         donor_landmarks: np.ndarray = CELEBA_TEMPLATE, work_size: int = 48, scale: float = 1.0) -> np.ndarray:
    """``target`` with the inner face of ``donor`` Poisson-blended in.

    As in face-swapping tools, the donor face passes through an aligned ``work_size`` crop (the resolution a
    swapping model works at) and is warped from there onto the target's landmarks — the resampling leaves the
    resolution and warping traces that detectors look for (Li & Lyu, "Exposing DeepFake videos by detecting face
    warping artifacts", CVPRW 2019).
    """
    _check(target, "target")
    _check(donor, "donor")
    frame = canonical(work_size)
    crop = cv2.warpAffine(donor, _similarity(donor_landmarks, frame), (work_size, work_size), flags=cv2.INTER_AREA,
                          borderMode=cv2.BORDER_REFLECT)
    height, width = target.shape[:2]
    warped = cv2.warpAffine(crop, _similarity(frame, target_landmarks), (width, height), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REFLECT)
    mask = face_mask(target.shape, target_landmarks, scale=scale)
    mask[:1], mask[-1:], mask[:, :1], mask[:, -1:] = 0, 0, 0, 0  # seamlessClone needs the mask inside the frame
    x, y, w, h = cv2.boundingRect(mask)
    return cv2.seamlessClone(warped, target, mask, (x + w // 2, y + h // 2), cv2.NORMAL_CLONE)
