"""Reading a user's photo and writing its cloaked copy: same format, close quality, safe metadata, atomic.

The copy keeps the input's format; a JPEG is re-encoded with the input's own quantisation tables and chroma
subsampling, so its quality stays close to the original's. It also keeps what the pixels are: a grayscale photo
stays grayscale (and any black-and-white photo gets a gray filter, :attr:`Photo.neutral`) and a transparent one
keeps its alpha channel unchanged. A 16-bit gray or RGB PNG or TIFF (a scan, a raw converter's export) is written
at 16 bits: the filter is added to its own samples, which stay exact wherever the filter is zero. GIF (a 256-colour
palette cannot hold the filter) is written as PNG, under a name of its own; a multi-picture JPEG (MPO: a phone's
depth map or HDR gain map beside the photo, pictures of the same face) as its primary picture alone; animated or
multi-page files are refused rather than cut to one frame.
Pixels are stored upright (EXIF orientation applied), so the orientation tag is reset. Metadata policy: by default
only non-identifying capture settings survive (no GPS, dates, camera or lens serials, owner, maker notes);
``keep_metadata`` keeps the rest of the EXIF. Whatever it says, the EXIF thumbnail (the unprotected face) is dropped,
and so are XMP, IPTC, Photoshop resources, comments and text chunks: they can name the people in the photo, mark
where their faces are, or hold a thumbnail of their own. Files are written to a temporary name in the target folder
and renamed into place, so a crash or a full disk never leaves a half-written photo.
"""
from __future__ import annotations

import errno
import io
import os
import tempfile
import zlib
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
#: blocks a TIFF's first IFD may embed beside EXIF, dropped in every case: XMP and IPTC (names, captions, a photo
#: manager's face regions) and Photoshop's resources (their own thumbnail of the unprotected face).
EMBEDDED_BLOCKS = {0x02BC: "XMP", 0x83BB: "IPTC", 0x8649: "Photoshop"}
#: formats written back as they came; anything else readable is written as PNG.
FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "TIFF": ".tif", "BMP": ".bmp", "HEIF": ".heic",
           "AVIF": ".avif"}
#: formats read as another: a multi-picture JPEG's primary picture is a JPEG.
SAME_AS = {"MPO": "JPEG"}
#: source modes whose copy is grayscale; the others are written in colour.
GRAY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
#: formats whose 16-bit photos are written back at 16 bits (PIL hands their colour samples over at 8).
DEEP_FORMATS = {"PNG", "TIFF"}
#: how the 8-bit view of a 16-bit sample relates to it: v8 = round(v16 / 257).
DEEP_SCALE = 257
#: a colour photo is black and white when 99.9% of its pixels differ by at most this between channels (a gray
#: JPEG decodes to R = G = B within rounding; the least colourful of 200 LFW colour photos differs by 36).
NEUTRAL_TOLERANCE = 2
#: how many pixels, on a regular grid, decide it, and whether 16-bit samples agree with their 8-bit view (a 100-MP
#: photo is not copied whole for either).
NEUTRAL_SAMPLE = 1_000_000


_UMASK = os.umask(0o022)
os.umask(_UMASK)


class DiskFullError(OSError):
    """The output could not be written for lack of space (nothing was left behind)."""


@dataclass
class Photo:
    """An upright RGB photo and what is needed to write it back like the original: the format it is written in,
    whether it is ``gray``, its ``alpha`` channel (upright, (H, W) uint8), its ``deep`` samples when it has 16 bits
    a sample (upright uint16, (H, W) gray or (H, W, 3) RGB; ``pixels`` is their 8-bit view) and whether the source
    file's own name suits that format (``renamed`` when it does not: a GIF written as PNG)."""

    path: Path
    pixels: np.ndarray
    format: str
    save_options: dict[str, Any] = field(default_factory=dict)
    exif: Any = None  # PIL.Image.Exif
    gray: bool = False
    alpha: np.ndarray | None = None
    renamed: bool = False
    deep: np.ndarray | None = None

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
            deep_source = stores_16_bits(image)  # before anything loads the pixels and drops the tile
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
            deep = deep_samples(image, path, pixels) if deep_source and fmt in DEEP_FORMATS and alpha is None else None
            return Photo(path, pixels, fmt if fmt in FORMATS else "PNG", options, exif, gray=gray, alpha=alpha,
                         renamed=fmt not in FORMATS, deep=deep)
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
            if tag not in (EXIF_IFD, GPS_IFD) and tag not in EMBEDDED_BLOCKS:
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


def stores_16_bits(image: Any) -> bool:  # noqa: ANN401 - a PIL image, not yet loaded
    """Whether the file stores 16 bits a sample (PIL's raw mode for it ends in ``;16``, ``;16B``, ``;16N``...)."""
    args = image.tile[0][3] if image.tile else ""
    rawmode = args if isinstance(args, str) else (args[0] if args else "")
    return ";16" in str(rawmode)


def deep_samples(image: Any, path: Path, pixels: np.ndarray) -> np.ndarray | None:  # noqa: ANN401 - a PIL image
    """The upright samples of a 16-bit gray or RGB PNG or TIFF (:func:`stores_16_bits`): gray ones through PIL,
    colour ones through OpenCV, each turned upright by PIL's own EXIF transpose. ``None`` when they do not agree
    with the 8-bit ``pixels`` within a level (the copy is then written at 8 bits, as PIL read it)."""
    from PIL import Image, ImageOps

    if image.mode.startswith("I;16"):
        deep = np.asarray(ImageOps.exif_transpose(image)).astype(np.uint16)
        view = pixels[..., 0]
    elif image.mode == "RGB":
        import cv2

        decoded = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_UNCHANGED)
        if decoded is None or decoded.dtype != np.uint16 or decoded.ndim != 3 or decoded.shape[2] != 3:
            return None
        orientation, channels = image.getexif().get(ORIENTATION, 1), []
        for channel in np.moveaxis(decoded[..., ::-1], -1, 0):  # PIL holds 16 bits one channel at a time
            plane = Image.fromarray(np.ascontiguousarray(channel))
            plane.getexif()[ORIENTATION] = orientation
            channels.append(np.asarray(ImageOps.exif_transpose(plane)))
        deep = np.stack(channels, axis=-1).astype(np.uint16)
        view = pixels
    else:
        return None
    if deep.shape != view.shape:
        return None
    step = max(1, int(np.sqrt(view.shape[0] * view.shape[1] / NEUTRAL_SAMPLE)))  # a grid, as Photo.neutral samples
    sample = deep[::step, ::step].astype(np.int32)
    if np.abs((sample + DEEP_SCALE // 2) // DEEP_SCALE - view[::step, ::step]).max(initial=0) > 1:
        return None
    return deep


def deep_with_filter(photo: Photo, pixels: np.ndarray) -> np.ndarray:
    """``photo``'s 16-bit samples plus the filter that turned its 8-bit ``pixels`` into ``pixels``: each 8-bit step
    is 257 16-bit steps, so the copy equals the original wherever the filter is zero (only the box around the
    changed pixels is computed on, so a large photo is not copied at 32 bits)."""
    out = photo.deep.copy()
    changed = np.any(pixels != photo.pixels, axis=-1)
    if not changed.any():
        return out
    rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    change = pixels[box].astype(np.int32) - photo.pixels[box]
    if out.ndim == 2:  # a gray photo's filter is gray: its channels agree
        change = np.rint(change.mean(axis=-1)).astype(np.int32)
    out[box] = np.clip(out[box].astype(np.int32) + DEEP_SCALE * change, 0, 65535)
    return out


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def _save_deep_rgb(samples: np.ndarray, fh: Any, fmt: str, options: dict[str, Any]) -> None:  # noqa: ANN401
    """Write 16-bit RGB ``samples`` (PIL cannot) as PNG through OpenCV, with the ICC profile and EXIF spliced in
    as ``iCCP`` and ``eXIf`` chunks, or as TIFF through tifffile with the ICC profile (EXIF is not written)."""
    icc = options.get("icc_profile")
    if fmt == "TIFF":
        import tifffile

        buffer = io.BytesIO()  # tifffile wants a named file or a buffer, not a bare descriptor
        tifffile.imwrite(buffer, samples, photometric="rgb", compression="zlib", iccprofile=icc or None)
        fh.write(buffer.getvalue())
        return
    import cv2

    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(samples[..., ::-1]))
    if not ok:
        raise OSError("OpenCV could not encode the 16-bit PNG")
    data = encoded.tobytes()
    header_end = 8 + 8 + 13 + 4  # signature, then the IHDR chunk
    extra = b""
    if icc:
        extra += _png_chunk(b"iCCP", b"ICC Profile\0\0" + zlib.compress(icc))
    exif = options.get("exif", b"")
    exif = exif[6:] if exif.startswith(b"Exif\0\0") else exif
    if exif:
        extra += _png_chunk(b"eXIf", exif)
    fh.write(data[:header_end] + extra + data[header_end:])


def write_photo(photo: Photo, pixels: np.ndarray, target: Path, *, keep_metadata: bool = False) -> Path:
    """Write ``pixels`` like ``photo`` (:func:`as_source`; a 16-bit photo at 16 bits, :func:`deep_with_filter`) to
    ``target`` atomically; never onto the original photo."""
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
            if photo.deep is None:
                as_source(photo, pixels).save(fh, format=photo.format, **options)
            elif photo.deep.ndim == 2:
                Image.fromarray(deep_with_filter(photo, pixels)).save(fh, format=photo.format, **options)
            else:
                _save_deep_rgb(deep_with_filter(photo, pixels), fh, photo.format, options)
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
