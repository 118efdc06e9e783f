import cv2
import numpy as np
import pytest

from trust_core.data import CelebA
from trust_core.deepfake import CELEBA_TEMPLATE, face_mask, identity_split, jpeg, resize, swap


def _detail(image, where):
    grey = image.astype(float).mean(2)
    return (grey - cv2.blur(grey, (5, 5)))[where]


def test_swap_replaces_the_inner_face_only(two_faces):
    target, donor = two_faces
    fake = swap(target, donor)
    mask = (face_mask(target.shape, CELEBA_TEMPLATE) > 0).astype(np.uint8)
    x, y, w, h = cv2.boundingRect(mask)
    diff = np.abs(fake.astype(int) - target.astype(int)).sum(2)
    outside = np.ones_like(diff, bool)
    outside[y : y + h, x : x + w] = False
    assert fake.shape == target.shape and fake.dtype == np.uint8
    assert diff[outside].max() == 0 and diff[mask > 0].mean() > 10
    # inside, the fake carries the donor's fine detail, not the target's (Poisson blending keeps the donor's gradients)
    inner = cv2.erode(mask, np.ones((7, 7), np.uint8)) > 0
    assert np.corrcoef(_detail(fake, inner), _detail(donor, inner))[0, 1] > 0.6
    assert np.corrcoef(_detail(fake, inner), _detail(target, inner))[0, 1] < 0.5
    with pytest.raises(ValueError, match="uint8"):
        swap(target.astype(float), donor)


def test_variants_recompress_and_resize(two_faces):
    image = two_faces[0]
    q20, q95 = jpeg(image, 20), jpeg(image, 95)
    assert q20.shape == image.shape and np.abs(q20.astype(int) - image).mean() > np.abs(q95.astype(int) - image).mean()
    assert resize(image, 0.5).shape == image.shape and not np.array_equal(resize(image, 0.5), image)
    with pytest.raises(ValueError, match="quality"):
        jpeg(image, 0)


def test_identity_split_holds_identities_out():
    identities = CelebA().identities
    train, test = identity_split(identities, test_share=0.3)
    assert not set(identities[train]) & set(identities[test])
    assert 0.2 < len(test) / len(identities) < 0.4
