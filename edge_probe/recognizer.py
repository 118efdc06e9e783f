"""The probe as a :class:`~trust_core.faces.recognizers.Recognizer` named ``"probe"`` (for protection checks).

It crops like the standard recognizer (MTCNN box + margin at 160 px) and looks at the 112-px view of that crop
(:func:`edge_probe.crops.probe_view`), as the device does when it computes the signal. Importing this module
registers it.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from edge_probe.crops import CROP_SIZE, probe_view
from edge_probe.model import INPUT_SIZE, load_probe
from trust_core.faces.align import AlignedFaces, Face, align_faces
from trust_core.faces.recognizers import TorchRecognizer, register_recognizer


@register_recognizer("probe")
class ProbeRecognizer(TorchRecognizer):
    """The shipped probe; ``threshold``: the accuracy-maximising cosine on genuine and impostor pairs of 400 CelebA-10k identities (:func:`calibrate`: 0.1973, 75.1% accuracy there), never on LFW."""

    input_size = INPUT_SIZE
    threshold = 0.1973
    align_method = "box"
    cache_tag = "view160"

    def __init__(self) -> None:
        super().__init__(load_probe())

    def align(self, image: np.ndarray, faces: Sequence[Face]) -> AlignedFaces:
        big = align_faces(image, faces, size=CROP_SIZE, method="box", margin=self.align_margin)
        scale = np.diag([CROP_SIZE / INPUT_SIZE, CROP_SIZE / INPUT_SIZE, 1.0])
        return AlignedFaces(torch.from_numpy(probe_view(big.crops.numpy())), big.transforms @ scale)


def calibrate(*, people: int = 400, seed: int = 0) -> dict:
    """The accuracy-maximising cosine threshold of the probe on CelebA-10k identities (two photos each, one
    genuine and one impostor pair per person), never LFW."""
    from edge_probe.train import teacher_crops
    from trust_core.data import CelebA
    from trust_core.faces.evaluate import best_threshold

    celeba = CelebA()
    by_id: dict[int, list] = {}
    for path, ident in zip(celeba.paths(), celeba.identities, strict=True):
        by_id.setdefault(int(ident), []).append(path)
    ids = sorted(i for i, paths in by_id.items() if len(paths) >= 2)
    chosen = np.random.default_rng(seed).choice(ids, size=min(people, len(ids)), replace=False)
    _, views = teacher_crops([p for i in chosen for p in by_id[int(i)][:2]])
    with torch.no_grad():
        emb = load_probe()(torch.from_numpy(views)).numpy()
    first, second = emb[0::2], emb[1::2]
    genuine = (first * second).sum(1)
    impostor = (first * np.roll(second, 1, axis=0)).sum(1)
    sims, same = np.concatenate([genuine, impostor]), np.r_[np.ones(len(genuine), bool), np.zeros(len(impostor), bool)]
    threshold = best_threshold(sims, same)
    return {"threshold": round(float(threshold), 4), "accuracy": round(float(np.mean((sims >= threshold) == same)), 4),
            "pairs": int(len(sims))}
