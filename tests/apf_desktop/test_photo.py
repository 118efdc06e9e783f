"""Reading a photo and writing its copy like the original: colour mode, alpha, format and name (no models)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from apf_desktop.photo import output_path, read_photo, write_photo
from trust_core.faces.io import FaceImageError


def picture(size: int = 64) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (size, size, 3), dtype=np.uint8)


def nudged(pixels: np.ndarray) -> np.ndarray:
    """The pixels with a block moved by a few levels in one channel, as a filter would."""
    out = pixels.astype(int)
    out[8:24, 8:24, 1] += np.where(out[8:24, 8:24, 1] > 200, -6, 6)
    return out.astype(np.uint8)


def test_alpha_channel_is_written_back_unchanged(tmp_path: Path) -> None:
    alpha = np.tile(np.linspace(0, 255, 64).astype(np.uint8), (64, 1))
    src = tmp_path / "cut-out.png"
    Image.fromarray(np.dstack([picture(), alpha])).save(src)
    photo = read_photo(src)
    assert photo.alpha is not None and not photo.gray
    out = write_photo(photo, nudged(photo.pixels), output_path(photo, tmp_path / "out"))
    written = Image.open(out)
    assert written.mode == "RGBA"
    assert np.array_equal(np.asarray(written)[..., 3], alpha)
    # the colour is the filtered photo as composited for detection, so the nudge is there
    assert np.abs(np.asarray(written)[..., :3].astype(int) - photo.pixels).max() == 6


@pytest.mark.parametrize(("mode", "written_mode"), [("L", "L"), ("LA", "LA"), ("I;16", "L")])
def test_grayscale_photo_stays_grayscale(tmp_path: Path, mode: str, written_mode: str) -> None:
    gray = picture()[..., 0]
    src = tmp_path / "bw.png"
    image = Image.fromarray(gray)
    if mode == "LA":
        image.putalpha(200)
    elif mode == "I;16":
        image = Image.fromarray(gray.astype(np.uint16) * 257)
    image.save(src)
    photo = read_photo(src)
    assert photo.gray
    filtered = photo.pixels.copy()
    filtered[8:24, 8:24] = np.clip(filtered[8:24, 8:24].astype(int) + 5, 0, 255)
    written = Image.open(write_photo(photo, filtered, tmp_path / "out.png"))
    assert written.mode == written_mode
    assert np.array_equal(np.asarray(written.convert("L")), filtered[..., 0])


def test_cmyk_photo_is_written_in_rgb_without_its_cmyk_profile(tmp_path: Path) -> None:
    src = tmp_path / "print.jpg"
    Image.fromarray(picture()).convert("CMYK").save(src, icc_profile=b"not an RGB profile")
    photo = read_photo(src)
    assert "icc_profile" not in photo.save_options and not photo.gray
    written = Image.open(write_photo(photo, photo.pixels, tmp_path / "out.jpg"))
    assert written.format == "JPEG" and written.mode == "RGB" and "icc_profile" not in written.info


def test_gif_is_written_as_png_under_a_name_no_png_copy_shares(tmp_path: Path) -> None:
    for name in ("pal.gif", "pal.png"):
        Image.fromarray(picture()).convert("P").save(tmp_path / name)
    gif, png = read_photo(tmp_path / "pal.gif"), read_photo(tmp_path / "pal.png")
    assert (gif.format, gif.suffix, output_path(gif).name) == ("PNG", ".png", "pal-gif-cloaked.png")
    assert output_path(png).name == "pal-cloaked.png"
    written = write_photo(gif, gif.pixels, output_path(gif))
    assert Image.open(written).format == "PNG"


def test_multi_picture_jpeg_is_written_as_its_primary_picture(tmp_path: Path) -> None:
    src = tmp_path / "phone.jpg"
    primary = Image.fromarray(picture())
    primary.save(src, format="MPO", save_all=True, append_images=[primary.convert("L").convert("RGB")])
    assert Image.open(src).format == "MPO"
    photo = read_photo(src)
    assert (photo.format, output_path(photo).name) == ("JPEG", "phone-cloaked.jpg")
    written = Image.open(write_photo(photo, photo.pixels, output_path(photo)))
    assert written.format == "JPEG" and getattr(written, "n_frames", 1) == 1


@pytest.mark.parametrize("fmt", ["GIF", "TIFF"])
def test_animated_or_multi_page_files_are_refused(tmp_path: Path, fmt: str) -> None:
    src = tmp_path / f"many.{fmt.lower()}"
    first = Image.fromarray(picture())
    first.save(src, format=fmt, save_all=True, append_images=[first.rotate(90)])
    with pytest.raises(FaceImageError, match="2 frames"):
        read_photo(src)


def test_output_folder_may_be_given_as_text(tmp_path: Path) -> None:
    src = tmp_path / "a.png"
    Image.fromarray(picture()).save(src)
    assert output_path(read_photo(src), str(tmp_path / "out")) == tmp_path / "out" / "a-cloaked.png"


@pytest.mark.parametrize(("fmt", "suffix"), [("HEIF", ".heic"), ("AVIF", ".avif")])
def test_phone_formats_are_read_and_written_back_as_themselves(tmp_path: Path, fmt: str, suffix: str) -> None:
    from trust_core.faces.io import register_formats

    register_formats()
    src = tmp_path / f"phone{suffix}"
    ramp = np.linspace(30, 220, 64)
    smooth = np.stack(np.broadcast_arrays(ramp[:, None], ramp[None, :], 250 - ramp[:, None]), -1).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0110] = "Phone X"  # the camera model
    exif.get_ifd(0x8825)[2] = (48.0, 51.0, 29.0)  # GPS latitude
    Image.fromarray(smooth).save(src, format=fmt, quality=95, exif=exif.tobytes())
    photo = read_photo(src)
    assert (photo.format, output_path(photo).name) == (fmt, f"phone-cloaked{suffix}")
    assert photo.exif.get_ifd(0x8825)
    written = Image.open(write_photo(photo, photo.pixels, output_path(photo)))
    assert written.format == fmt
    assert not written.getexif().get_ifd(0x8825) and 0x0110 not in written.getexif()
    assert np.abs(np.asarray(written.convert("RGB")).astype(int) - photo.pixels).mean() < 6


def test_black_and_white_photo_stored_in_colour_is_neutral_and_a_colour_one_is_not(tmp_path: Path) -> None:
    gray = np.repeat(picture()[..., :1], 3, axis=2)
    Image.fromarray(gray).save(tmp_path / "bw.jpg", quality=90)
    Image.fromarray(picture()).save(tmp_path / "colour.png")
    bw, colour = read_photo(tmp_path / "bw.jpg"), read_photo(tmp_path / "colour.png")
    assert bw.neutral and not bw.gray  # written in colour, as it came, with a gray filter
    assert not colour.neutral
