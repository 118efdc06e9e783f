"""The filter for a grayscale photo (edge_probe.crops.gray_filter)."""
from __future__ import annotations

import numpy as np
import pytest

from edge_probe.crops import gray_filter


def test_gray_filter_is_the_clipped_channel_sum_in_every_channel() -> None:
    eps = 12 / 255
    filters = np.zeros((1, 3, 2, 2), np.float32)
    filters[0, :, 0, 0] = eps  # channels agree: the full budget
    filters[0, :, 0, 1] = (eps, -eps, eps)  # two against one: a third of it
    filters[0, :, 1, 0] = (eps, -eps, 0)  # they cancel
    filters[0, :, 1, 1] = (-eps / 4, -eps / 4, 0)
    out = gray_filter(filters, eps)
    expected = np.array([[eps, eps], [0, -eps / 2]], np.float32)
    assert out.shape == filters.shape
    for channel in out[0]:
        np.testing.assert_allclose(channel, expected, atol=1e-7)


def test_gray_filter_refuses_other_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        gray_filter(np.zeros((1, 1, 4, 4)), 0.1)
