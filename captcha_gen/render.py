"""The project's seeded text-CAPTCHA renderer (PIL + NumPy): same (level, seed) -> identical image bytes.

Glyphs of the ``captcha`` package's DroidSansMono font are rotated, jittered and overlapped, the text is
sine-warped, and curves, clutter strokes, salt-and-pepper dots and Gaussian noise are drawn over it in the
style of ImageCaptcha, with the amount set by the :mod:`~captcha_gen.levels` level.
"""
from __future__ import annotations

import importlib.resources
import io
import math
import random
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from captcha_gen.levels import ALPHABET, HEIGHT, LEVELS, MAX_LENGTH, MIN_LENGTH, SPLIT_OFFSETS, WIDTH, Level, level

_CANVAS_H = 48
_FONT_SIZES = (34, 38)
_MIN_USED = 130  # short answers keep their aspect ratio instead of stretching to the full width


@dataclass(frozen=True)
class Captcha:
    """One rendered challenge: the answer and the grayscale image (uint8, (HEIGHT, WIDTH))."""

    text: str
    image: np.ndarray
    level: str
    seed: int

    def png(self) -> bytes:
        """The image as PNG bytes (deterministic)."""
        buffer = io.BytesIO()
        Image.fromarray(self.image, mode="L").save(buffer, format="PNG", optimize=False)
        return buffer.getvalue()


@lru_cache(maxsize=None)
def _font(size: int) -> ImageFont.FreeTypeFont:
    path = importlib.resources.files("captcha") / "data" / "DroidSansMono.ttf"
    return ImageFont.truetype(str(path), size)


def _rng(level_name: str, seed: int) -> tuple[random.Random, np.random.Generator]:
    index = list(LEVELS).index(level_name)
    return random.Random(index * 1_000_003_000 + seed), np.random.default_rng([index, seed])


def random_text(rng: random.Random, *, length: int | None = None) -> str:
    """A random answer of ``length`` (default 4-6) characters of :data:`ALPHABET`."""
    length = rng.randint(MIN_LENGTH, MAX_LENGTH) if length is None else length
    return "".join(rng.choice(ALPHABET) for _ in range(length))


def validate_text(text: str) -> str:
    """Upper-cased ``text``; ``ValueError`` unless it has 4-6 characters of :data:`ALPHABET`."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, got {type(text).__name__}")
    upper = text.upper()
    if not MIN_LENGTH <= len(upper) <= MAX_LENGTH or any(c not in ALPHABET for c in upper):
        raise ValueError(f"text must be {MIN_LENGTH}-{MAX_LENGTH} characters of 0-9 and A-Z, got {text!r}")
    return upper


def _glyph(char: str, size: int, angle: float) -> Image.Image:
    font = _font(size)
    left, top, right, bottom = font.getbbox(char)
    glyph = Image.new("L", (right - left + 4, bottom - top + 4), 0)
    ImageDraw.Draw(glyph).text((2 - left, 2 - top), char, font=font, fill=255)
    return glyph.rotate(angle, resample=Image.BILINEAR, expand=True)


def _compose(text: str, lv: Level, rng: random.Random) -> tuple[Image.Image, int]:
    """Glyph masks on a wide canvas (255 = ink), and the used width."""
    size = rng.randint(*_FONT_SIZES)
    glyphs = [_glyph(c, size, rng.uniform(-lv.rotation, lv.rotation)) for c in text]
    width = max(sum(g.width for g in glyphs) + 16, _MIN_USED)
    canvas = Image.new("L", (width, _CANVAS_H), 0)
    x = 6
    for g in glyphs:
        y = (_CANVAS_H - g.height) // 2 + rng.randint(-lv.jitter, lv.jitter)
        canvas.paste(255, (x, y), g)
        x += int(g.width * (1 - rng.uniform(0, lv.overlap))) - 4
    return canvas, min(width, max(x + 10, _MIN_USED))


def _warp(mask: np.ndarray, amplitude: float, rng: random.Random) -> np.ndarray:
    if amplitude <= 0:
        return mask
    h, w = mask.shape
    period, phase = rng.uniform(25, 45), rng.uniform(0, 2 * math.pi)
    shifts = np.rint(amplitude * np.sin(2 * math.pi * np.arange(w) / period + phase)).astype(int)
    rows = (np.arange(h)[:, None] - shifts[None, :]).clip(0, h - 1)
    return mask[rows, np.arange(w)[None, :]]


def _interference(mask: Image.Image, lv: Level, rng: random.Random) -> None:
    draw = ImageDraw.Draw(mask)
    w, h = mask.size
    for _ in range(lv.lines):
        x0, x1 = rng.uniform(0, w * 0.2), rng.uniform(w * 0.8, w)
        y0, y1 = rng.uniform(h * 0.2, h * 0.8), rng.uniform(h * 0.2, h * 0.8)
        bow = rng.uniform(-h * 0.4, h * 0.4)
        points = [(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t + bow * math.sin(math.pi * t)) for t in np.linspace(0, 1, 12)]
        draw.line(points, fill=255, width=lv.line_width)
    for _ in range(lv.clutter):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        if rng.random() < 0.5:
            r = rng.uniform(3, 8)
            draw.ellipse((x - r, y - r * 0.6, x + r, y + r * 0.6), outline=255, width=1)
        else:
            draw.line((x, y, x + rng.uniform(-12, 12), y + rng.uniform(-8, 8)), fill=255, width=2)


def render(text: str, *, level_name: str = "medium", seed: int = 0) -> Captcha:
    """Render ``text`` at ``level_name``; all randomness comes from ``(level_name, seed)``."""
    lv = level(level_name)
    text = validate_text(text)
    rng, nrng = _rng(level_name, seed)
    rng.random()  # keep the stream aligned with :func:`generate`, which first draws the text
    canvas, used = _compose(text, lv, rng)
    mask = Image.fromarray(_warp(np.asarray(canvas), lv.warp, rng)).crop((0, 0, used, _CANVAS_H))
    _interference(mask, lv, rng)
    ink = np.asarray(mask.resize((WIDTH, HEIGHT), Image.BILINEAR), dtype=np.float32) / 255.0
    background = rng.uniform(0.8, 1.0)
    foreground = rng.uniform(max(0.0, background - lv.max_contrast), max(0.0, background - lv.contrast))
    gradient = np.linspace(0, rng.uniform(-0.1, 0.1), WIDTH, dtype=np.float32)[None, :]
    image = (background + gradient) * (1 - ink) + foreground * ink
    if lv.dots > 0:
        dots = nrng.random((HEIGHT, WIDTH)) < lv.dots
        image = np.where(dots, nrng.uniform(0, 1, (HEIGHT, WIDTH)).astype(np.float32) < 0.5, image)
    image = image + nrng.normal(0, lv.noise, (HEIGHT, WIDTH))
    return Captcha(text, np.rint(np.clip(image, 0, 1) * 255).astype(np.uint8), level_name, seed)


def generate(level_name: str, seed: int) -> Captcha:
    """A random challenge: text and image both drawn from ``(level_name, seed)``."""
    level(level_name)
    rng, _ = _rng(level_name, seed)
    text = random_text(random.Random(rng.random()))
    return render(text, level_name=level_name, seed=seed)


def batch(level_name: str, *, split: str, start: int, n: int) -> tuple[np.ndarray, list[str]]:
    """``n`` challenges of a data split: images uint8 ``(n, HEIGHT, WIDTH)`` and answers."""
    if split not in SPLIT_OFFSETS:
        raise ValueError(f"split must be one of {', '.join(SPLIT_OFFSETS)}, got {split!r}")
    if n < 0 or start < 0:
        raise ValueError(f"start and n must be non-negative, got start={start}, n={n}")
    items = [generate(level_name, SPLIT_OFFSETS[split] + start + i) for i in range(n)]
    return np.stack([c.image for c in items]) if items else np.zeros((0, HEIGHT, WIDTH), np.uint8), [c.text for c in items]
