"""Face detection (MTCNN), alignment to fixed-size crops, and the inverse warp back into the photo.

Zhang et al., "Joint Face Detection and Alignment Using Multitask Cascaded Convolutional Networks",
IEEE SPL 2016 (facenet-pytorch's port; its weights ship in the wheel). Every crop is an affine warp of
the photo with a known ``crop -> photo`` matrix, so a modified crop is pasted back exactly: the change
(modified - original crop) is warped into the full-resolution photo under a feathered mask.

Two crop methods: ``"landmarks"`` (similarity transform of the 5 MTCNN landmarks to the ArcFace
template, Deng et al. CVPR 2019; the 112 px probe) and ``"box"`` (the detection box plus ``margin``
output pixels, resized to a square: FaceNet's own preprocessing, Schroff et al. CVPR 2015).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from trust_core.faces.io import FaceImageError, load_image

#: ArcFace's 5-point template for 112x112 crops (eyes, nose tip, mouth corners), scaled to any size.
ARCFACE_TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)


@dataclass(frozen=True)
class Face:
    """One detection: ``box`` (x0, y0, x1, y1), ``landmarks`` (5, 2) as (x, y), detector ``score``."""

    box: np.ndarray
    landmarks: np.ndarray
    score: float

    def to_json(self) -> dict:
        return {"box": self.box.tolist(), "landmarks": self.landmarks.tolist(), "score": self.score}

    @classmethod
    def from_json(cls, raw: dict) -> Face:
        return cls(np.asarray(raw["box"], float), np.asarray(raw["landmarks"], float), float(raw["score"]))

    @classmethod
    def from_box(cls, box: Sequence[float], score: float = 0.0) -> Face:
        """A face known only by its box (a fixed crop, no detector), with typical landmarks placed inside it."""
        box_arr = np.asarray(box, dtype=np.float64)
        template = np.array([[0.34, 0.46], [0.66, 0.46], [0.5, 0.64], [0.37, 0.82], [0.63, 0.82]])
        return cls(box_arr, box_arr[:2] + template * (box_arr[2:] - box_arr[:2]), score)


@dataclass
class AlignedFaces:
    """Crops ``(N, 3, S, S)`` float in [0, 1] and their ``crop -> photo`` affine matrices ``(N, 2, 3)``."""

    crops: "torch.Tensor"  # noqa: F821 - torch imported lazily
    transforms: np.ndarray


@lru_cache(maxsize=1)
def detector():  # noqa: ANN201 - facenet_pytorch.MTCNN
    """The shared MTCNN detector (CPU, all faces)."""
    from facenet_pytorch import MTCNN

    return MTCNN(keep_all=True, device="cpu")


def detect(images: Sequence[np.ndarray], *, batch_size: int = 16) -> list[list[Face]]:
    """All faces in each ``(H, W, 3)`` uint8 RGB image, most confident first; equal-sized images run batched."""
    out: list[list[Face]] = [[] for _ in images]
    by_shape: dict[tuple, list[int]] = {}
    for index, image in enumerate(images):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"image {index}: expected (H, W, 3) uint8 RGB, got {image.shape} {image.dtype}")
        by_shape.setdefault(image.shape, []).append(index)
    for indices in by_shape.values():
        for start in range(0, len(indices), batch_size):
            chunk = indices[start : start + batch_size]
            boxes, probs, points = detector().detect(np.stack([images[i] for i in chunk]), landmarks=True)
            for i, box, prob, point in zip(chunk, boxes, probs, points):
                if box is None:
                    continue
                faces = [Face(np.asarray(b, float), np.asarray(p, float), float(s))
                         for b, p, s in zip(box, point, prob)]
                out[i] = sorted(faces, key=lambda f: -f.score)
    return out


def central_face(faces: Sequence[Face], shape: tuple[int, ...]) -> Face | None:
    """The largest face nearest the image centre (Sandberg's rule for multi-face photos), or None."""
    if not faces:
        return None
    centre = np.array([shape[1], shape[0]]) / 2.0

    def rank(face: Face) -> float:
        size = (face.box[2] - face.box[0]) * (face.box[3] - face.box[1])
        offset = (face.box[:2] + face.box[2:]) / 2.0 - centre
        return size - 2.0 * float(offset @ offset)

    return max(faces, key=rank)


def landmark_transform(face: Face, size: int) -> np.ndarray:
    """The ``crop -> photo`` similarity (2, 3) mapping the ArcFace template (scaled to ``size``) onto the landmarks."""
    src = ARCFACE_TEMPLATE * (size / 112.0)
    dst = np.asarray(face.landmarks, float)
    # Umeyama (1991): least-squares similarity src -> dst.
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    u, sigma, vt = np.linalg.svd(d.T @ s / len(src))
    sign = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
    rotation = u @ sign @ vt
    scale = np.trace(np.diag(sigma) @ sign) / s.var(0).sum()
    matrix = np.empty((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = mu_d - scale * rotation @ mu_s
    return matrix


def box_transform(face: Face, size: int, shape: tuple[int, ...], *, margin: int = 32) -> np.ndarray:
    """The ``crop -> photo`` affine of facenet-pytorch's ``extract_face``: box + ``margin`` output px, clipped."""
    x0, y0, x1, y1 = face.box
    mx = margin * (x1 - x0) / (size - margin)
    my = margin * (y1 - y0) / (size - margin)
    left, top = int(max(x0 - mx / 2, 0)), int(max(y0 - my / 2, 0))
    right, bottom = int(min(x1 + mx / 2, shape[1])), int(min(y1 + my / 2, shape[0]))
    sx, sy = (right - left) / size, (bottom - top) / size
    return np.array([[sx, 0.0, left + 0.5 * sx - 0.5], [0.0, sy, top + 0.5 * sy - 0.5]])


def align_faces(
    image: np.ndarray, faces: Sequence[Face], *, size: int, method: str = "landmarks", margin: int = 32
) -> AlignedFaces:
    """Crops of ``faces`` from the uint8 RGB ``image``: ``method="landmarks"`` (similarity to the
    ArcFace template) or ``"box"`` (detection box + ``margin`` px, FaceNet's preprocessing)."""
    import cv2
    import torch

    if method not in ("landmarks", "box"):
        raise ValueError(f"method must be 'landmarks' or 'box', got {method!r}")
    if size < 8:
        raise ValueError(f"size must be >= 8, got {size}")
    transforms = np.stack(
        [landmark_transform(f, size) if method == "landmarks" else box_transform(f, size, image.shape, margin=margin)
         for f in faces]
    ) if faces else np.zeros((0, 2, 3))
    crops = [
        cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                       borderMode=cv2.BORDER_REPLICATE)
        for m in transforms
    ]
    tensor = torch.from_numpy(np.stack(crops) if crops else np.zeros((0, size, size, 3), np.uint8))
    return AlignedFaces(tensor.permute(0, 3, 1, 2).float().div(255.0), transforms)


def feather_mask(size: int, *, feather: float = 0.1) -> np.ndarray:
    """A (size, size) mask: 1 inside, ramping linearly to 0 over ``feather * size`` px at the border."""
    width = max(feather * size, 1.0)
    ramp = np.clip((np.minimum(np.arange(size), np.arange(size)[::-1]) + 0.5) / width, 0.0, 1.0)
    return np.outer(ramp, ramp).astype(np.float32)


def paste_faces(
    image: np.ndarray, aligned: AlignedFaces, modified: "torch.Tensor", *, feather: float = 0.1  # noqa: F821
) -> np.ndarray:
    """The photo with each crop's change (``modified - aligned.crops``) warped back under a feathered mask.

    Unchanged crops leave the photo untouched; pixels outside every crop's footprint never change.
    """
    import cv2

    if tuple(modified.shape) != tuple(aligned.crops.shape):
        raise ValueError(f"modified crops {tuple(modified.shape)} must match aligned {tuple(aligned.crops.shape)}")
    height, width = image.shape[:2]
    out = image.astype(np.float32)
    delta = (modified.detach().float().cpu() - aligned.crops).mul(255.0).permute(0, 2, 3, 1).numpy()
    mask = feather_mask(delta.shape[1], feather=feather) if len(delta) else None
    for change, matrix in zip(delta, aligned.transforms):
        warped = cv2.warpAffine(change, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=0)
        weight = cv2.warpAffine(mask, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=0)
        out += warped * weight[..., None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _cache_file(digest: str) -> Path:
    from trust_core.models.registry import cache_dir

    folder = cache_dir() / "detections" / digest[:2]
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{digest}.json"


def detect_files(paths: Iterable[Path | str], *, batch_size: int = 16) -> dict[Path, list[Face] | FaceImageError]:
    """Faces in each photo file (cached by the file's sha256), or the file's :class:`FaceImageError`."""
    from trust_core.models.registry import sha256_of

    results: dict[Path, list[Face] | FaceImageError] = {}
    pending: list[tuple[Path, Path, np.ndarray]] = []
    for path in map(Path, paths):
        if not path.is_file():
            results[path] = FaceImageError(path, "no such file")
            continue
        cached = _cache_file(sha256_of(path))
        if cached.is_file():
            results[path] = [Face.from_json(raw) for raw in json.loads(cached.read_text())]
            continue
        try:
            pending.append((path, cached, load_image(path)))
        except FaceImageError as exc:
            results[path] = exc
    for start in range(0, len(pending), batch_size * 4):
        chunk = pending[start : start + batch_size * 4]
        for (path, cached, _), faces in zip(chunk, detect([c[2] for c in chunk], batch_size=batch_size)):
            cached.write_text(json.dumps([f.to_json() for f in faces]))
            results[path] = faces
    return results
