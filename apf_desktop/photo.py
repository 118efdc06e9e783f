"""Reading a user's photo and writing its cloaked copy: same format, close quality, safe metadata, atomic.

The copy keeps the input's format; a JPEG is re-encoded with the input's own quantisation tables and chroma
subsampling, so its quality stays close to the original's. Pixels are stored upright (EXIF orientation applied),
so the orientation tag is reset. Metadata policy: by default only non-identifying capture settings survive (no
GPS, dates, camera or lens serials, owner, maker notes); ``keep_metadata`` keeps the rest. The EXIF thumbnail,
which would show the unprotected face, is dropped in every case. Files are written to a temporary name in the
target folder and renamed into place, so a crash or a full disk never leaves a half-written photo.
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
FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "TIFF": ".tif", "BMP": ".bmp"}


_UMASK = os.umask(0o022)
os.umask(_UMASK)


class DiskFullError(OSError):
    """The output could not be written for lack of space (nothing was left behind)."""


@dataclass
class Photo:
    """An upright RGB photo and what is needed to write it back like the original."""

    path: Path
    pixels: np.ndarray
    format: str
    save_options: dict[str, Any] = field(default_factory=dict)
    exif: Any = None  # PIL.Image.Exif

    @property
    def suffix(self) -> str:
        return self.path.suffix if self.format in FORMATS and self.path.suffix else FORMATS.get(self.format, ".png")


def read_photo(path: Path | str) -> Photo:
    """Load ``path`` safely (:func:`trust_core.faces.io.load_image`) with its format and encoder settings."""
    from PIL import Image, JpegImagePlugin

    path = Path(path)
    pixels = load_image(path)
    try:
        with Image.open(path) as image:
            fmt = image.format or "PNG"
            options: dict[str, Any] = {}
            if image.info.get("icc_profile"):
                options["icc_profile"] = image.info["icc_profile"]
            if fmt == "JPEG":
                options["qtables"] = image.quantization
                sampling = JpegImagePlugin.get_sampling(image)
                options["subsampling"] = sampling if sampling >= 0 else 2
            elif fmt == "WEBP":
                options.update(quality=95, method=4)
            return Photo(path, pixels, fmt if fmt in FORMATS else "PNG", options, image.getexif())
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


def output_path(source: Path, out_dir: Path | None, suffix: str) -> Path:
    """``<out_dir or source folder>/<stem>-cloaked<suffix>``."""
    return (out_dir or source.parent) / f"{source.stem}-cloaked{suffix}"


def check_writable(folder: Path) -> None:
    """Create ``folder`` if needed and prove a file can be written there; ``PermissionError`` otherwise."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".apf-write-test-"):
            pass
    except OSError as exc:
        raise PermissionError(f"cannot write to the output folder {folder}: {exc.strerror or exc}") from None


def write_photo(photo: Photo, pixels: np.ndarray, target: Path, *, keep_metadata: bool = False) -> Path:
    """Write ``pixels`` like ``photo`` to ``target`` atomically; never onto the original photo."""
    from PIL import Image

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
            Image.fromarray(pixels).save(fh, format=photo.format, **options)
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
