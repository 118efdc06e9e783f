"""The APF table's cloak: signals from torch (the reference) or from the device's path (onnxruntime, then the wire)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from apf_desktop.apf_table import APFCloak, apf_table


@pytest.fixture(scope="module")
def cloaks():
    from cloud_enhancer.enhancer import Enhancer
    from edge_probe.model import load_probe
    from edge_probe.runtime import ProbeRuntime

    probe, filt = load_probe(), Enhancer.load(device="cpu").filter
    return APFCloak(probe, filt), APFCloak(probe, filt, runtime=ProbeRuntime(threads=2))


@pytest.fixture(scope="module")
def crops() -> torch.Tensor:
    """Two real LFW faces at the standard recognizer's 160 px."""
    from edge_probe.bench import lfw_crops

    return F.interpolate(torch.from_numpy(lfw_crops(2)), size=160, mode="bilinear", align_corners=False).clamp(0, 1)


def test_device_fgsm_signals_are_the_sent_sign_bits_of_torchs_signal(cloaks, crops):
    reference, device = (c.signals(crops, "fgsm") for c in cloaks)
    eps = 8 / 255
    assert set(np.unique(device)) == {np.float32(-eps), np.float32(eps)}  # one bit a value on the wire
    moved = reference != 0  # 0 where the step would leave [0, 1]: the sign bit sends it as +eps
    assert moved.mean() > 0.95 and np.mean(np.sign(device[moved]) == np.sign(reference[moved])) >= 0.999


def test_device_multistep_signals_arrive_on_the_int8_grid_and_protect_like_torchs(cloaks, crops):
    reference, device = (c.signals(crops, "di2fgsm") for c in cloaks)
    eps = 8 / 255
    levels = device / eps * 127
    np.testing.assert_allclose(levels, np.rint(levels), atol=1e-3)
    assert np.abs(device).max() <= eps + 1e-6 and not np.array_equal(device, reference)
    from edge_probe.crops import probe_view

    probe = cloaks[0].probe
    views = torch.from_numpy(probe_view(crops.numpy()))  # what the signals were computed on
    with torch.no_grad():
        clean = probe(views)
        cosines = [F.cosine_similarity(probe((views + torch.from_numpy(g)).clamp(0, 1)), clean).mean().item()
                 for g in (reference, device)]
    assert max(cosines) < 0.2 and abs(cosines[0] - cosines[1]) < 0.05, cosines  # both push the face far away, alike (-0.22)


def test_unknown_signal_source_is_refused():
    with pytest.raises(ValueError, match="signals must be one of"):
        apf_table(signals="gpu", progress=False)


def test_masked_cloak_moves_every_pixel_at_most_as_far_and_smooth_skin_least(cloaks, crops):
    from edge_probe.masking import FLOOR, texture_mask

    reference = cloaks[0]
    masked = APFCloak(reference.probe, reference.filter, masking=True)
    plain, soft = ((c.cloak("fgsm", "s")(crops) - crops).abs() for c in (reference, masked))
    assert torch.all(soft <= plain + 1e-6) and soft.mean() < 0.9 * plain.mean()
    smooth = torch.from_numpy(texture_mask(crops.numpy()) == FLOOR).expand_as(soft)
    assert smooth.any() and soft[smooth].max() <= FLOOR * 8 / 255 + 1e-6
