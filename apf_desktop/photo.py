"""Reading a user's photo and writing its cloaked copy: same format, close quality, safe metadata, atomic.

The copy keeps the input's format; a JPEG is re-encoded with the input's own quantisation tables and chroma
subsampling, so its quality stays close to the original's. It also keeps what the pixels are: a grayscale photo
stays grayscale (and any black-and-white photo gets a gray filter, :attr:`Photo.neutral`) and a transparent one
keeps its alpha channel unchanged. GIF (a 256-colour palette cannot hold the filter) is written as PNG, under a
name of its own; a multi-picture JPEG (MPO: a phone's depth map or HDR gain map beside the photo, pictures of the
same face) as its primary picture alone; animated or multi-page files are refused rather than cut to one frame.
Pixels are stored upright (EXIF orientation applied), so the orientation tag is reset. Metadata policy: by default
only non-identifying capture settings survive (no GPS, dates, camera or lens serials, owner, maker notes);
``keep_metadata`` keeps the rest. The EXIF thumbnail, which would show the unprotected face, is dropped in every
case. Files are written to a temporary name in the target folder and renamed into place, so a crash or a full
disk never leaves a half-written photo.
"""
from __future__ import annotations

import errno
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trust_core.faces.io import FaceImageError, load_image

#: EXIF tags kept by default: how the photo was exposed, nothing about who, where, when or with which device.
SAFE_EXIF_TAGS = {
    0x829A: "ExposureTime", 0x829D: "FNumber", 0x8822: "ExposureProgram", 0x8827: "ISOSpeedRatings",
    0x9204: "ExposureBiasValue", 0x9207: "MeteringMode", 0x9209: "Flash", 0x920A: "FocalLength",
    0xA001: "ColorSpace", 0xA402: "ExposureMode", 0xA403: "WhiteBalance", 0xA406: "SceneCaptureType",
}
EXIF_IFD, GPS_IFD, ORIENTATION = 0x8769, 0x8825, 0x0112
#: formats written back as they came; anything else readable is written as PNG.
FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "TIFF": ".tif", "BMP": ".bmp", "HEIF": ".heic",
           "AVIF": ".avif"}
#: formats read as another: a multi-picture JPEG's primary picture is a JPEG.
SAME_AS = {"MPO": "JPEG"}
#: source modes whose copy is grayscale; the others are written in colour.
GRAY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
#: a colour photo is black and white when 99.9% of its pixels differ by at most this between channels (a gray
#: JPEG decodes to R = G = B within rounding; the least colourful of 200 LFW colour photos differs by 36).
NEUTRAL_TOLERANCE = 2
#: how many pixels, on a regular grid, decide it (a 100-MP photo is not copied whole for this).
NEUTRAL_SAMPLE = 1_000_000


_UMASK = os.umask(0o022)
os.umask(_UMASK)


class DiskFullError(OSError):
    """The output could not be written for lack of space (nothing was left behind)."""


@dataclass
class Photo:
    """An upright RGB photo and what is needed to write it back like the original: the format it is written in,
    whether it is ``gray``, its ``alpha`` channel (upright, (H, W) uint8) and whether the source file's own name
    suits that format (``renamed`` when it does not: a GIF written as PNG)."""

    path: Path
    pixels: np.ndarray
    format: str
    save_options: dict[str, Any] = field(default_factory=dict)
    exif: Any = None  # PIL.Image.Exif
    gray: bool = False
    alpha: np.ndarray | None = None
    renamed: bool = False

    @property
    def neutral(self) -> bool:
        """Whether the photo is black and white, in a gray mode or as colour pixels with R = G = B: its filter must
        be gray too."""
        if self.gray:
            return True
        height, width = self.pixels.shape[:2]
        step = max(1, int(np.sqrt(height * width / NEUTRAL_SAMPLE)))  # a grid of about NEUTRAL_SAMPLE pixels
        pixels = self.pixels[::step, ::step].astype(np.int16)
        spread = np.maximum(np.abs(pixels[..., 0] - pixels[..., 1]), np.abs(pixels[..., 1] - pixels[..., 2]))
        return bool(np.percentile(spread, 99.9) <= NEUTRAL_TOLERANCE)

    @property
    def suffix(self) -> str:
        return FORMATS[self.format] if self.renamed or not self.path.suffix else self.path.suffix


def read_photo(path: Path | str) -> Photo:
    """Load ``path`` safely (:func:`trust_core.faces.io.load_image`) with its format, encoder settings, colour
    mode and alpha channel. Raises :class:`FaceImageError` for animated or multi-page files."""
    from PIL import Image, ImageOps, JpegImagePlugin

    path = Path(path)
    pixels = load_image(path)
    try:
        with Image.open(path) as image:
            source = image.format or "PNG"
            fmt = SAME_AS.get(source, source)
            frames = getattr(image, "n_frames", 1)
            if frames > 1 and fmt != "JPEG":
                raise FaceImageError(path, f"{frames} frames (an animated or multi-page {source}): cloak each frame "
                                           "as a photo of its own")
            options: dict[str, Any] = {}
            if image.info.get("icc_profile") and image.mode != "CMYK":  # the copy of a CMYK photo is RGB
                options["icc_profile"] = image.info["icc_profile"]
            if fmt == "JPEG":
                options["qtables"] = image.quantization
                sampling = JpegImagePlugin.get_sampling(image)
                options["subsampling"] = sampling if sampling >= 0 else 2
            elif fmt == "WEBP":
                options.update(quality=95, method=4)
            elif fmt in ("HEIF", "AVIF"):
                options["quality"] = 90
            exif, gray = image.getexif(), image.mode in GRAY_MODES
            alpha = None
            if image.mode in ("RGBA", "LA", "La", "PA", "RGBa") or "transparency" in image.info:
                alpha = np.asarray(ImageOps.exif_transpose(image).convert("RGBA").getchannel("A")).copy()
            return Photo(path, pixels, fmt if fmt in FORMATS else "PNG", options, exif, gray=gray, alpha=alpha,
                         renamed=fmt not in FORMATS)
    except FaceImageError:
        raise
    except (OSError, ValueError) as exc:
        raise FaceImageError(path, f"cannot read its format ({exc})") from None


def clean_exif(exif: Any, *, keep: bool) -> bytes:  # noqa: ANN401 - PIL.Image.Exif
    """EXIF bytes for the cloaked copy: orientation reset, thumbnail dropped, identifying tags stripped unless ``keep``."""
    from PIL import Image

    out = Image.Exif()
    if exif is None:
        return out.tobytes()
    if keep:
        for tag, value in exif.items():
            if tag not in (EXIF_IFD, GPS_IFD):
                out[tag] = value
        for ifd in (EXIF_IFD, GPS_IFD):
            values = exif.get_ifd(ifd)
            if values:
                out.get_ifd(ifd).update(values)
    else:
        sub = exif.get_ifd(EXIF_IFD)
        kept = {tag: value for tag, value in sub.items() if tag in SAFE_EXIF_TAGS}
        if kept:
            out.get_ifd(EXIF_IFD).update(kept)
    if ORIENTATION in out:
        out[ORIENTATION] = 1
    return out.tobytes()


def output_path(photo: Photo, out_dir: Path | str | None = None) -> Path:
    """``<out_dir or the photo's folder>/<stem>-cloaked<suffix>``; a renamed format keeps the source's extension in
    the name (``anim.gif`` -> ``anim-gif-cloaked.png``), so it cannot meet the copy of ``anim.png``."""
    source = photo.path
    tag = f"-{source.suffix[1:].lower()}" if photo.renamed and source.suffix else ""
    return Path(out_dir or source.parent) / f"{source.stem}{tag}-cloaked{photo.suffix}"


def check_writable(folder: Path) -> None:
    """Create ``folder`` if needed and prove a file can be written there; ``PermissionError`` otherwise."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".apf-write-test-"):
            pass
    except OSError as exc:
        raise PermissionError(f"cannot write to the output folder {folder}: {exc.strerror or exc}") from None


def as_source(photo: Photo, pixels: np.ndarray):  # noqa: ANN201 - a PIL image
    """(H, W, 3) uint8 ``pixels`` as the kind of image ``photo`` was: grayscale (luminance) or colour, with its
    alpha channel."""
    from PIL import Image

    image = Image.fromarray(pixels)
    if photo.gray:
        image = image.convert("L")
    if photo.alpha is not None:
        if photo.alpha.shape != pixels.shape[:2]:
            raise ValueError(f"the alpha channel is {photo.alpha.shape}, the pixels {pixels.shape[:2]}")
        image.putalpha(Image.fromarray(photo.alpha))
    return image


def write_photo(photo: Photo, pixels: np.ndarray, target: Path, *, keep_metadata: bool = False) -> Path:
    """Write ``pixels`` like ``photo`` (:func:`as_source`) to ``target`` atomically; never onto the original photo."""
    if target.resolve() == photo.path.resolve():
        raise ValueError(f"refusing to overwrite the original {photo.path}")
    options = {**photo.save_options, "exif": clean_exif(photo.exif, keep=keep_metadata)}
    if photo.format in ("BMP",):
        options.pop("exif")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}-", suffix=".part")
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; a photo gets the user's usual permissions
        with os.fdopen(fd, "wb") as fh:
            as_source(photo, pixels).save(fh, format=photo.format, **options)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFullError(exc.errno, f"no space left to write {target}") from None
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
