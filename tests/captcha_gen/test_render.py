"""The seeded CAPTCHA renderer and its levels."""
from __future__ import annotations

import numpy as np
import pytest

from captcha_gen.levels import ALPHABET, HEIGHT, LEVELS, WIDTH
from captcha_gen.render import batch, generate, render


@pytest.mark.parametrize("name", list(LEVELS))
def test_same_seed_same_bytes(name: str) -> None:
    a, b = generate(name, 123), generate(name, 123)
    assert a.text == b.text and a.png() == b.png()
    assert generate(name, 124).png() != a.png()


def test_answers_and_shapes() -> None:
    images, texts = batch("hard", split="train", start=0, n=200)
    assert images.shape == (200, HEIGHT, WIDTH) and images.dtype == np.uint8
    assert {len(t) for t in texts} == {4, 5, 6}
    assert set("".join(texts)) <= set(ALPHABET) and len(set("".join(texts))) > 30


def test_splits_disjoint() -> None:
    train, _ = batch("easy", split="train", start=0, n=20)
    test, _ = batch("easy", split="test", start=0, n=20)
    assert not any((t == s).all() for t in test for s in train)


def test_levels_get_harder() -> None:
    """More clutter and noise: the high-frequency energy of the image grows with the level."""
    def roughness(name: str) -> float:
        images, _ = batch(name, split="val", start=0, n=50)
        return float(np.abs(np.diff(images.astype(float), axis=2)).mean())

    easy, medium, hard = (roughness(n) for n in ("easy", "medium", "hard"))
    assert easy < medium < hard


def test_easy_text_contrast_stays_in_its_band() -> None:
    """Easy CAPTCHAs keep text and background 0.45-0.55 apart (plus noise); medium ones may be far starker."""
    def gaps(name: str) -> np.ndarray:
        images, _ = batch(name, split="val", start=0, n=50)
        flat = images.reshape(len(images), -1) / 255
        return np.quantile(flat, 0.95, axis=1) - np.quantile(flat, 0.02, axis=1)

    easy = gaps("easy")
    assert easy.min() > 0.38 and easy.max() < 0.62
    assert gaps("medium").max() > 0.7


def test_render_fixed_text_is_case_insensitive() -> None:
    assert render("ab12", level_name="easy", seed=3).text == "AB12"
    assert render("ab12", level_name="easy", seed=3).png() == render("AB12", level_name="easy", seed=3).png()


@pytest.mark.parametrize("kwargs", [{"text": "ABC"}, {"text": "ABCDEFG"}, {"text": "AB-1"}, {"text": "ABCD", "level_name": "nightmare"}])
def test_bad_input(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        render(**kwargs)


def test_bad_split() -> None:
    with pytest.raises(ValueError, match="split"):
        batch("easy", split="holdout", start=0, n=1)
