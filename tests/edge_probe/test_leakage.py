"""The channel audit: an inverter learns faces from signals; dlib's rates on real crops anchor its numbers."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from edge_probe.leakage import audit, public_faces, train_inverter


@pytest.fixture(scope="module")
def trained():  # noqa: ANN201
    pytest.importorskip("dlib", reason="dlib-bin is not installed")
    signals, views = public_faces(64, method="fgsm", eps=8 / 255)
    return signals, views, train_inverter(signals, views, minutes=10, steps=150, batch=8, width=8, progress=False)


def test_public_faces_are_sign_maps_of_face_views(trained):  # noqa: ANN001
    signals, views, _ = trained
    assert signals.shape == views.shape == (64, 3, 112, 112)
    assert np.abs(signals).max() <= 1 + 1e-5 and (np.abs(np.abs(signals) - 1) < 1e-3).mean() > 0.9  # ±eps, clipped
    assert 0 <= views.min() and views.max() <= 1


def test_inverter_learns_and_the_audit_reports_against_real_crops(trained, tiny_lfw_root, tmp_path):  # noqa: ANN001
    from trust_core.data import LFW

    from edge_probe.leakage import Inverter

    signals, views, (inverter, _) = trained
    torch.manual_seed(0)
    with torch.no_grad():
        l1, untrained = (torch.nn.functional.l1_loss(net.eval()(torch.from_numpy(signals)), torch.from_numpy(views)).item()
                         for net in (inverter, Inverter(width=8)))
    assert l1 < untrained - 0.01  # it learned something of the faces from their signals
    out = audit(inverter, method="fgsm", eps=8 / 255, lfw=LFW(tiny_lfw_root / "lfw"), progress=False,
                examples=tmp_path / "ex.png")
    assert out["pairs"] == 4 and 0 < out["ssim_reconstruction"] < 1
    # the ceiling: dlib matches both genuine pairs' true crops and neither impostor pair
    assert out["dlib"]["true_crop"] == {"genuine_matched": 1.0, "impostor_matched": 0.0}
    assert (tmp_path / "ex.png").stat().st_size > 1000


def test_the_attacked_payload_is_randomised_as_the_device_sends_it(trained):  # noqa: ANN001
    from edge_probe.leakage import payload
    from edge_probe.model import load_probe

    signals, views, _ = trained
    plain = payload(load_probe(), views[:8], method="fgsm", eps=8 / 255)
    noisy = payload(load_probe(), views[:8], method="fgsm", eps=8 / 255, randomize=0.5, rng=np.random.default_rng(0))
    assert np.array_equal(plain, signals[:8])  # the same payload public_faces gave
    assert abs(float((np.sign(noisy) != np.sign(plain)).mean()) - 0.25) < 0.01  # 301,056 bits
