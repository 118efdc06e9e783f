"""Texture masking: exact against a slow reference, and on real faces it hides the filter where it shows."""
import numpy as np
import pytest

from edge_probe.crops import apply_filter
from edge_probe.masking import FLOOR, TEXTURE, WINDOW, texture_mask


def reference_mask(crop: np.ndarray) -> np.ndarray:
    """Per pixel: the std of luminance over the WINDOW² box around it (mirrored at the border), / TEXTURE."""
    lum = np.pad(crop.mean(0), WINDOW // 2, mode="reflect")
    size = crop.shape[-1]
    std = np.array([[lum[y:y + WINDOW, x:x + WINDOW].std() for x in range(size)] for y in range(size)])
    return np.clip(std / TEXTURE, FLOOR, 1)


def test_mask_is_the_local_standard_deviation_of_luminance():
    crop = np.random.default_rng(0).random((3, 24, 24), dtype=np.float32) ** 3 * 0.3
    np.testing.assert_allclose(texture_mask(crop[None])[0, 0], reference_mask(crop), atol=2e-5)


def test_flat_regions_keep_the_floor_and_texture_the_whole_budget():
    flat = np.full((1, 3, 32, 32), 0.6, np.float32)
    stripes = np.zeros((1, 3, 32, 32), np.float32)
    stripes[..., ::2] = 0.5
    assert np.all(texture_mask(flat) == FLOOR) and np.all(texture_mask(stripes) == 1)


@pytest.mark.parametrize("crops", [np.zeros((2, 1, 8, 8)), np.zeros((3, 8, 8))])
def test_wrong_shapes_are_refused(crops):
    with pytest.raises(ValueError, match="expected"):
        texture_mask(crops)


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="texture > 0"):
        texture_mask(np.zeros((1, 3, 8, 8)), texture=0)


def test_on_real_faces_masking_raises_ssim_and_moves_smooth_skin_least():
    from skimage.metrics import structural_similarity

    from edge_probe.bench import lfw_crops

    crops = lfw_crops(4)  # real LFW faces, (4, 3, 112, 112)
    eps = 8 / 255
    filters = np.where(np.random.default_rng(1).random(crops.shape) < 0.5, -eps, eps).astype(np.float32)
    plain, masked = apply_filter(crops, filters), apply_filter(crops, filters, masking=True)
    change = np.abs(masked - crops)
    assert change.max() <= eps + 1e-6
    smooth = np.broadcast_to(texture_mask(crops) == FLOOR, crops.shape)
    assert 0.01 < smooth.mean() < 0.5 and change[smooth].max() <= FLOOR * eps + 1e-6

    def ssim(a: np.ndarray) -> float:
        return float(np.mean([structural_similarity(x.transpose(1, 2, 0), y.transpose(1, 2, 0), channel_axis=2,
                                                    data_range=1.0) for x, y in zip(crops, a)]))

    assert ssim(masked) > ssim(plain) + 0.03, (ssim(masked), ssim(plain))
