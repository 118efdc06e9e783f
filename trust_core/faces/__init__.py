"""Faces: detection and alignment (:mod:`.align`), safe loading (:mod:`.io`), recognizers behind one
interface (:mod:`.recognizers`: FaceNet-CASIA, dlib) and the evaluation protocols (:mod:`.evaluate`).

Submodules import torch/cv2/dlib lazily; import them directly.
"""
