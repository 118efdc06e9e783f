"""C-MNIST construction: colour follows the digit at the stated strength in training and is independent at test."""
from __future__ import annotations

import pytest
import torch

from trust_core.fairness.datasets import PALETTE, biased_colours, colored_mnist


def test_train_colour_follows_digit_at_the_stated_strength(small_cmnist) -> None:
    aligned = (small_cmnist.train.b == small_cmnist.train.y).float().mean().item()
    assert 0.98 <= aligned <= 1.0
    # the conflicting 1% spreads over the other nine colours
    wrong = small_cmnist.train.b[small_cmnist.train.b != small_cmnist.train.y]
    assert len(wrong) > 0 and (wrong != small_cmnist.train.y[small_cmnist.train.b != small_cmnist.train.y]).all()


def test_strength_is_honoured_on_many_labels() -> None:
    labels = torch.arange(10).repeat(2000)
    gen = torch.Generator().manual_seed(0)
    for strength in (0.5, 0.9, 0.99):
        colours = biased_colours(labels, strength=strength, generator=gen)
        assert (colours == labels).float().mean().item() == pytest.approx(strength, abs=0.015)
    uniform = biased_colours(labels, strength=0.0, generator=gen)
    counts = torch.bincount(uniform[labels == 3], minlength=10)
    assert counts[3] == 0 and counts[torch.arange(10) != 3].min().item() > 150  # other nine colours equally likely (~222 each)


@pytest.mark.parametrize(("split", "digits"), [("val", 500), ("test", 300)])
def test_val_and_test_cross_every_digit_with_every_colour(small_cmnist, split, digits) -> None:
    part = getattr(small_cmnist, split)
    assert len(part) == 10 * digits
    table = torch.zeros(10, 10, dtype=torch.long)
    table.index_put_((part.y, part.b), torch.ones_like(part.y), accumulate=True)
    # independence: each digit's colour histogram is flat, so P(colour | digit) = 1/10 exactly
    assert (table == table[:, :1]).all()
    assert (part.b == part.y).float().mean().item() == pytest.approx(0.1)


def test_validation_digits_are_held_out_of_training(small_cmnist) -> None:
    # a colour-free fingerprint: the mask of near-white stroke pixels, the same in all ten colours
    train = {tuple(row) for row in (small_cmnist.train.x.amin(1) > 0.99).flatten(1).tolist()}
    val = small_cmnist.val.x[: len(small_cmnist.val) // 10]
    assert not any(tuple(row) in train for row in (val.amin(1) > 0.99).flatten(1).tolist())


def test_background_pixels_carry_the_colour_and_digits_stay_white(small_cmnist) -> None:
    x, b = small_cmnist.test.x, small_cmnist.test.b
    corner = x[:, :, 0, 0]  # MNIST corners are blank
    assert torch.allclose(corner, PALETTE[b])
    assert x.min() >= 0 and x.max() <= 1
    assert (x.amax(dim=(1, 2, 3)) > 0.99).all()  # white strokes on every image


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="strength"):
        colored_mnist(strength=1.5, n_train=10, n_val=10, n_test=10)
    with pytest.raises(ValueError, match="positive"):
        colored_mnist(n_train=0)
