"""CAPTCHA difficulty levels: how much distortion, noise, overlap and clutter each one draws."""
from __future__ import annotations

from dataclasses import dataclass

#: the alphabet of every challenge: digits and upper-case letters (answers are compared case-insensitively).
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MIN_LENGTH, MAX_LENGTH = 4, 6
#: image size (height, width) of every CAPTCHA: small grayscale images keep breakers and attacks cheap.
HEIGHT, WIDTH = 32, 100

#: seed ranges of the data splits: training, validation and test images never share a seed.
SPLIT_OFFSETS = {"train": 0, "val": 10_000_000, "test": 20_000_000}


@dataclass(frozen=True)
class Level:
    """Rendering parameters of one difficulty level (angles in degrees, sizes in canvas pixels)."""

    name: str
    rotation: float          # max |rotation| of each glyph
    overlap: float           # max fraction of a glyph's width the next one overlaps
    jitter: int              # max vertical offset of a glyph
    warp: float              # amplitude of the sine warp (pixels)
    lines: int               # interfering curves drawn across the text
    line_width: int
    dots: float              # fraction of pixels set to salt-and-pepper dots
    clutter: int             # random strokes and ellipses in the background
    noise: float             # std of additive Gaussian noise (0..1 intensity)
    contrast: float          # min intensity gap between text and background (0..1)
    max_contrast: float = 1.0  # max intensity gap: a low ceiling keeps binarisation from undoing the perturbation


LEVELS: dict[str, Level] = {
    "easy": Level("easy", rotation=5, overlap=0.0, jitter=2, warp=0.0, lines=0, line_width=1,
                  dots=0.0, clutter=0, noise=0.02, contrast=0.45, max_contrast=0.55),
    "medium": Level("medium", rotation=15, overlap=0.15, jitter=4, warp=1.5, lines=2, line_width=2,
                    dots=0.02, clutter=2, noise=0.05, contrast=0.55),
    "hard": Level("hard", rotation=25, overlap=0.3, jitter=5, warp=2.5, lines=3, line_width=2,
                  dots=0.05, clutter=5, noise=0.08, contrast=0.45),
}


def level(name: str) -> Level:
    """The level called ``name``; ``ValueError`` for an unknown one."""
    if name not in LEVELS:
        raise ValueError(f"unknown level {name!r}; choose one of {', '.join(LEVELS)}")
    return LEVELS[name]
