import numpy as np
import pytest

from trust_core.deepfake import face_region, spectral_features, spectrum


def _auc(lab, name, key="auc"):
    return next(r[key] for r in lab["rows"] if r["detector"].startswith(name))


def test_detectors_find_swaps_of_held_out_identities(deepfake_lab):
    assert deepfake_lab["config"]["identities"]["shared"] == 0
    assert _auc(deepfake_lab, "fused") >= 0.93
    assert _auc(deepfake_lab, "spectrum") >= 0.9 and _auc(deepfake_lab, "CNN") >= 0.85


def test_detection_survives_jpeg_q75_with_some_loss(deepfake_lab):
    for name in ("fused", "spectrum", "CNN"):
        clean, compressed = _auc(deepfake_lab, name), _auc(deepfake_lab, name, "auc_jpeg75")
        assert 0.8 <= compressed <= clean + 0.02, (name, clean, compressed)


def test_spectrum_sees_blur_as_missing_high_frequencies():
    rng = np.random.default_rng(0)
    sharp = rng.integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    blurred = np.stack([np.repeat(np.repeat(im[::2, ::2], 2, 0), 2, 1) for im in sharp])
    s, b = spectrum(sharp, bins=8), spectrum(blurred, bins=8)
    assert s.shape == (2, 8) and (s[:, -1] > b[:, -1] + 1).all()
    assert spectral_features(np.zeros((3, 109, 89, 3), np.uint8)).shape == (3, 32 + 16 + 16)
    with pytest.raises(ValueError, match="does not fit"):
        face_region(np.zeros((1, 50, 50, 3), np.uint8))
