"""Gradient leakage and MI-FACE against the probe's payload: the optimisation reproduces the payload, yet
recovers nothing of the photo that produced it."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from edge_probe.payload_leakage import PayloadConfidence, probe_gradient, reconstruct_from_payload, sign_agreement
from edge_probe.signal import DEFAULT_EPS, compute_signal


@pytest.fixture(scope="module")
def setting(probe):  # noqa: ANN001, ANN201
    from edge_probe.bench import lfw_crops

    crops = torch.from_numpy(lfw_crops(6))
    others = crops[2:]
    prior = ((others + others.flip(-1)) / 2).mean(0, keepdim=True)  # a (symmetric) mean face of other people
    truth = crops[:2]
    return truth, compute_signal(probe, truth) / DEFAULT_EPS, prior


def test_gradient_leakage_reproduces_the_payload_not_the_face(probe, setting):  # noqa: ANN001
    truth, payload, prior = setting
    torch.manual_seed(0)
    recon = reconstruct_from_payload(probe, payload, prior, attack="gradient", steps=15)
    assert recon.shape == truth.shape and 0 <= recon.min() and recon.max() <= 1
    start = sign_agreement(probe, prior.expand_as(truth).contiguous(), payload)
    assert (sign_agreement(probe, recon, payload) > start + 0.015).all()  # its own payload looks more like the observed one
    # ...but against the shipped probe it recovers no face: the change stays tiny and brings no reconstruction
    # nearer its true face than the prior was
    def mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return ((a - b) ** 2).flatten(1).mean(1)

    assert (mse(recon, prior) < 0.01).all() and (mse(recon, truth) >= mse(prior, truth)).all()


def test_mi_face_on_payload_confidence(probe, setting):  # noqa: ANN001
    truth, payload, prior = setting
    gradient_of = probe_gradient(probe)
    confidence = PayloadConfidence(gradient_of, payload[:1])
    with torch.no_grad():
        own, other = (F.softmax(confidence(x), 1)[0, 0].item() for x in (truth[:1], truth[1:]))
    assert own > other + 0.2  # the true photo is the "class" of its payload
    recon = reconstruct_from_payload(probe, payload[:1], prior, attack="mi-face", steps=5)
    start = sign_agreement(probe, prior.contiguous(), payload[:1])
    assert sign_agreement(probe, recon, payload[:1])[0] > start[0] + 0.015
    with pytest.raises(ValueError, match="attack"):
        reconstruct_from_payload(probe, payload, prior, attack="dlg")


def test_payload_audit_is_framed_by_the_prior_and_the_true_crops(tiny_lfw_root):  # noqa: ANN001
    pytest.importorskip("dlib", reason="dlib-bin is not installed")
    from edge_probe.payload_leakage import payload_audit
    from trust_core.data import LFW

    out = payload_audit(faces=2, steps=2, prior_faces=8, lfw=LFW(tiny_lfw_root / "lfw"), progress=False)
    rows = {row["reconstruction"]: row for row in out["rows"]}
    assert out["faces"] == out["people"] == 2 and set(rows) == {"prior (mean public face)", "true crop", "gradient",
                                                                 "mi-face"}
    truth, prior = rows["true crop"], rows["prior (mean public face)"]
    assert truth["ssim"] == truth["sign_agreement"] == truth["toward_own"] == 1.0
    assert truth["dlib_genuine"] == 1.0 and truth["dlib_chance"] == 0.0  # dlib's ceiling and chance on real crops
    assert prior["toward_own"] == 0.0 and prior["ssim"] < 0.6


def test_payload_audit_attacks_the_randomised_response(tiny_lfw_root):  # noqa: ANN001
    """At rate 0.5 a quarter of the sent sign bits are flipped: even the true crop agrees with only ~75% of them."""
    pytest.importorskip("dlib", reason="dlib-bin is not installed")
    from edge_probe.payload_leakage import payload_audit
    from trust_core.data import LFW

    out = payload_audit(faces=2, steps=1, prior_faces=8, randomize=0.5, lfw=LFW(tiny_lfw_root / "lfw"),
                        progress=False)
    truth = next(row for row in out["rows"] if row["reconstruction"] == "true crop")
    assert out["randomize"] == 0.5 and 0.72 < truth["sign_agreement"] < 0.78 and truth["ssim"] == 1.0
