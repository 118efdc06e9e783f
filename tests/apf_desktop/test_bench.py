"""apf bench cloak's photo preparation."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from apf_desktop.bench import grayscale_copy
from apf_desktop.photo import read_photo


def test_grayscale_copy_is_read_as_a_gray_photo(tmp_path: Path) -> None:
    src = tmp_path / "colour.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 30, 3), dtype=np.uint8)).save(src)
    copy = grayscale_copy(src, tmp_path / "gray")
    assert copy == tmp_path / "gray" / "colour.jpg"
    photo = read_photo(copy)
    assert photo.gray and photo.format == "JPEG" and photo.pixels.shape == (40, 30, 3)
    assert (photo.pixels[..., 0] == photo.pixels[..., 2]).all()
