"""Deepfakes: face swaps made by landmark warping and Poisson blending (:mod:`.swap`), re-compressed and resized
variants (:mod:`.variants`), CelebA data with held-out identities (:mod:`.dataset`) and spatial / spectral / fused
detectors (:mod:`.detector`); ``apf lab deepfake`` (:mod:`.lab`, :mod:`.cli`) measures them.
"""
from trust_core.deepfake.dataset import FaceSet, celeba_faces, identity_split, make_faces
from trust_core.deepfake.detector import (
    CnnDetector,
    FusedDetector,
    SpectrumDetector,
    face_cnn,
    face_region,
    spectral_features,
    spectrum,
)
from trust_core.deepfake.swap import CELEBA_TEMPLATE, face_mask, swap
from trust_core.deepfake.variants import jpeg, random_variant, resize

__all__ = [
    "CELEBA_TEMPLATE", "CnnDetector", "FaceSet", "FusedDetector", "SpectrumDetector", "celeba_faces", "face_cnn",
    "face_mask", "face_region", "identity_split", "jpeg", "make_faces", "random_variant", "resize", "spectral_features",
    "spectrum", "swap",
]
