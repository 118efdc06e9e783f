"""MI-FACE on AT&T faces: reconstructions from a softmax classifier's confidences are recognised as the person."""
from __future__ import annotations

import pytest
import torch

from trust_core.models.train_mnist import fit
from trust_core.privacy.experiment import match_reconstructions
from trust_core.privacy.inversion import SoftmaxRegression, mi_face


def test_mi_face_reconstructions_are_recognised():
    from trust_core.data import load_att_faces

    x, y = load_att_faces()
    x = torch.nn.functional.avg_pool2d(x, 2)  # 56x46 keeps the test fast
    train = (torch.arange(len(x)) % 10) < 7
    classifier = fit(SoftmaxRegression(x[0].numel(), 40), x[train], y[train], epochs=25, batch=32, lr=3e-3, seed=0)
    people = list(range(0, 40, 4))
    reconstructions = [mi_face(classifier, p, tuple(x.shape[1:]), steps=300) for p in people]
    gallery = ~train & torch.isin(y, torch.tensor(people))
    relabel = {p: i for i, p in enumerate(people)}
    top1, _ = match_reconstructions(reconstructions, x[gallery], torch.tensor([relabel[int(v)] for v in y[gallery]]))
    assert top1 >= 0.7  # chance is 0.1
    blank = [torch.full_like(reconstructions[0], 0.5) + 0.01 * torch.randn_like(reconstructions[0]) for _ in people]
    assert match_reconstructions(blank, x[gallery], torch.tensor([relabel[int(v)] for v in y[gallery]]))[0] < 0.5
    with pytest.raises(ValueError, match="steps"):
        mi_face(classifier, 0, tuple(x.shape[1:]), steps=0)
