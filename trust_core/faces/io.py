"""Safe photo loading: every photo becomes 8-bit RGB, upright, or a clear per-file error."""
from __future__ import annotations

import functools
import warnings
from pathlib import Path

import numpy as np

#: the largest photo accepted, in pixels (a decompression bomb guard).
MAX_PIXELS = 100_000_000


@functools.cache
def register_formats() -> None:
    """Teach PIL the phone formats it lacks: HEIC/HEIF (pillow-heif; an iPhone's default) when installed."""
    try:
        from pillow_heif import register_heif_opener
    except ImportError:
        return
    register_heif_opener()


class FaceImageError(ValueError):
    """A photo that cannot be used; names the file and the reason."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path.name}: {reason}")


def _to_rgb8(image) -> np.ndarray:  # noqa: ANN001 - a PIL image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        scale = 257.0 if array.max(initial=0) > 255 or image.mode.startswith("I;16") else 1.0
        gray = np.clip(np.round(array / scale), 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        from PIL import Image

        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def load_image(path: Path | str, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """The photo at ``path`` as ``(H, W, 3)`` uint8 RGB, EXIF orientation applied.

    Grayscale, palette, CMYK, alpha and 16-bit images are converted; a missing, truncated, non-image
    or larger-than-``max_pixels`` file raises :class:`FaceImageError`.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise FaceImageError(path, "no such file")
    register_formats()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise FaceImageError(path, f"{width}x{height} exceeds the {max_pixels:,}-pixel limit")
                image.load()
                image = ImageOps.exif_transpose(image)
                return _to_rgb8(image)
    except FaceImageError:
        raise
    except UnidentifiedImageError:
        raise FaceImageError(path, "not an image PIL can read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise FaceImageError(path, f"too large ({exc})") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise FaceImageError(path, f"corrupt or truncated image ({exc})") from None
