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


@pytest.mark.parametrize("mode", ["L", "LA"])
def test_grayscale_photo_stays_grayscale(tmp_path: Path, mode: str) -> None:
    gray = picture()[..., 0]
    src = tmp_path / "bw.png"
    image = Image.fromarray(gray)
    if mode == "LA":
        image.putalpha(200)
    image.save(src)
    photo = read_photo(src)
    assert photo.gray
    filtered = photo.pixels.copy()
    filtered[8:24, 8:24] = np.clip(filtered[8:24, 8:24].astype(int) + 5, 0, 255)
    written = Image.open(write_photo(photo, filtered, tmp_path / "out.png"))
    assert written.mode == mode
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


#: an XMP packet that names the person in the photo and locates her face (a photo manager's face tag).
FACE_TAG_XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
                b'<rdf:Description xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" '
                b'mwg-rs:Name="Jane Roe" mwg-rs:Area="0.5 0.4 0.2 0.3"/></rdf:RDF></x:xmpmeta>')


def save_with_named_metadata(image: Image.Image, path: Path) -> None:
    """Save ``image`` with the person's name in every metadata block its format holds besides EXIF."""
    from PIL.PngImagePlugin import PngInfo

    if path.suffix == ".jpg":
        image.save(path, xmp=FACE_TAG_XMP, comment=b"Jane Roe at home")
    elif path.suffix == ".png":
        text = PngInfo()
        text.add_text("Author", "Jane Roe")
        text.add_itxt("XML:com.adobe.xmp", FACE_TAG_XMP.decode())
        image.save(path, pnginfo=text)
    elif path.suffix == ".webp":
        image.save(path, xmp=FACE_TAG_XMP, lossless=True)
    else:
        image.save(path, tiffinfo={315: "Jane Roe", 700: FACE_TAG_XMP})  # Artist, XMP


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".tif"])
@pytest.mark.parametrize("keep_metadata", [False, True])
def test_names_and_face_tags_outside_exif_never_reach_the_copy(tmp_path: Path, suffix: str,
                                                               keep_metadata: bool) -> None:
    src = tmp_path / f"tagged{suffix}"
    save_with_named_metadata(Image.fromarray(picture()), src)
    assert b"Jane Roe" in src.read_bytes()
    photo = read_photo(src)
    out = write_photo(photo, nudged(photo.pixels), output_path(photo, tmp_path / "out"), keep_metadata=keep_metadata)
    written = out.read_bytes()
    assert b"mwg-rs" not in written and b"Jane Roe at home" not in written
    # the name goes too, unless the user keeps EXIF and the format held it there (TIFF's Artist tag is EXIF)
    assert (b"Jane Roe" in written) == (keep_metadata and suffix == ".tif")


def deep_picture(channels: int, size: int = 64) -> np.ndarray:
    """16-bit samples whose low bytes matter (an 8-bit round trip would change them)."""
    rng = np.random.default_rng(1)
    return rng.integers(0, 65536, (size, size, channels)[: 2 if channels == 1 else 3], dtype=np.uint16)


def read_deep(path: Path) -> np.ndarray:
    import cv2

    samples = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    return samples if samples.ndim == 2 else samples[..., ::-1]


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("channels", [1, 3])
def test_16_bit_photo_is_written_at_16_bits_and_unchanged_off_the_filter(tmp_path: Path, suffix: str,
                                                                          channels: int) -> None:
    import cv2

    samples = deep_picture(channels)
    src = tmp_path / f"scan{suffix}"
    if channels == 1:
        Image.fromarray(samples).save(src, icc_profile=b"a gray profile")
    else:
        cv2.imwrite(str(src), samples[..., ::-1])
    photo = read_photo(src)
    assert photo.deep is not None and np.array_equal(photo.deep, samples)
    filtered = nudged(photo.pixels)
    if channels == 1:  # a gray photo gets a gray filter
        filtered = np.repeat(filtered[..., 1:2], 3, axis=2)
    change = filtered.astype(int) - photo.pixels
    out = read_deep(write_photo(photo, filtered, output_path(photo, tmp_path / "out")))
    assert out.dtype == np.uint16 and out.shape == samples.shape
    expected = samples.astype(int) + 257 * (change[..., 1] if channels == 1 else change)
    assert np.array_equal(out, np.clip(expected, 0, 65535))  # the original's own samples off the filter's block
    if channels == 1:
        assert Image.open(output_path(photo, tmp_path / "out")).info.get("icc_profile") == b"a gray profile"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_16_bit_colour_png_keeps_its_colour_profile_and_comes_upright(tmp_path: Path, orientation: int) -> None:
    import zlib

    import cv2
    from PIL import ImageOps

    from apf_desktop.photo import _png_chunk

    samples = deep_picture(3)[:, :48]
    src = tmp_path / "edit.png"
    cv2.imwrite(str(src), samples[..., ::-1])
    exif = Image.Exif()
    exif[0x0112] = orientation
    profile = b"an RGB profile"
    first = src.read_bytes()  # splice an iCCP and an eXIf chunk in after IHDR, as an editor writes them
    chunks = _png_chunk(b"iCCP", b"p\0\0" + zlib.compress(profile)) + _png_chunk(b"eXIf", exif.tobytes()[6:])
    src.write_bytes(first[:33] + chunks + first[33:])
    photo = read_photo(src)
    # the oracle: PIL's own EXIF transpose of each 16-bit channel
    upright = [ImageOps.exif_transpose(with_orientation(Image.fromarray(samples[..., c]), exif)) for c in range(3)]
    expected = np.stack([np.asarray(channel) for channel in upright], axis=-1)
    assert photo.deep is not None
    assert np.array_equal(photo.deep, expected) and photo.pixels.shape == expected.shape
    written = write_photo(photo, photo.pixels, output_path(photo, tmp_path / "out"))
    assert np.array_equal(read_deep(written), expected)
    assert Image.open(written).info.get("icc_profile") == profile
    assert Image.open(written).getexif().get(0x0112, 1) == 1


def with_orientation(image: Image.Image, exif: Image.Exif) -> Image.Image:
    """``image`` carrying ``exif``'s orientation, as a file read with that tag would."""
    image.getexif()[0x0112] = exif[0x0112]
    return image
