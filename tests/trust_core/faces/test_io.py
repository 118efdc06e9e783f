"""Safe loading: every odd but valid photo becomes upright 8-bit RGB; every bad file a clear FaceImageError."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from trust_core.faces.io import FaceImageError, load_image


def test_grayscale_becomes_rgb(tmp_path):
    path = tmp_path / "gray.png"
    Image.fromarray(np.full((8, 6), 77, np.uint8), "L").save(path)
    image = load_image(path)
    assert image.shape == (8, 6, 3) and image.dtype == np.uint8 and (image == 77).all()


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (10, 12), (0, 255, 255, 0)).save(path, quality=100)  # pure red in CMYK
    image = load_image(path)
    assert image.shape == (12, 10, 3)
    assert image[..., 0].min() > 200 and image[..., 1:].max() < 60


def test_16bit_png_is_scaled_to_8bit(tmp_path):
    path = tmp_path / "deep.png"
    Image.fromarray(np.full((5, 7), 65535, np.uint16)).save(path)
    Image.fromarray(np.full((5, 7), 32896, np.uint16)).save(tmp_path / "mid.png")
    assert (load_image(path) == 255).all()
    assert (load_image(tmp_path / "mid.png") == 128).all()


def test_exif_orientation_is_applied(tmp_path):
    pixels = np.zeros((10, 20, 3), np.uint8)
    pixels[:, :5] = 255  # white band on the left edge
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "rotated.jpg"
    Image.fromarray(pixels).save(path, exif=exif, quality=100)
    image = load_image(path)
    assert image.shape == (20, 10, 3)
    assert image[:5].mean() > 200 and image[-5:].mean() < 50  # the band is now on top


def test_alpha_is_composited_on_white(tmp_path):
    path = tmp_path / "alpha.png"
    Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(path)
    assert (load_image(path) == 255).all()


@pytest.mark.parametrize("case", ["truncated", "not_image", "empty", "missing", "bomb"])
def test_bad_files_raise_clear_errors(tmp_path, case):
    path = tmp_path / f"{case}.jpg"
    if case == "truncated":
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(path)
        path.write_bytes(path.read_bytes()[:600])
        reason = "truncated"
    elif case == "not_image":
        path.write_text("this is a text file, not a photo")
        reason = "not an image"
    elif case == "empty":
        path.write_bytes(b"")
        reason = "not an image"
    elif case == "missing":
        reason = "no such file"
    else:
        path = tmp_path / "bomb.png"
        Image.new("1", (20_000, 10_000)).save(path)  # 200 MP, a few kB on disk
        reason = "pixel"
    with pytest.raises(FaceImageError) as info:
        load_image(path)
    assert isinstance(info.value, ValueError)
    assert path.name in str(info.value) and reason in str(info.value)


def test_pixel_cap_is_configurable(tmp_path):
    path = tmp_path / "big.png"
    Image.new("RGB", (100, 100)).save(path)
    assert load_image(path, max_pixels=10_000).shape == (100, 100, 3)
    with pytest.raises(FaceImageError, match="exceeds the 9,999-pixel limit"):
        load_image(path, max_pixels=9_999)
