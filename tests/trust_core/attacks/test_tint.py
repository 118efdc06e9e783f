"""The tint attack recolours, keeps white strokes, stays in its ball and fools a colour reader."""
import pytest
import torch

from trust_core.attacks import TintAttack, tint

PALETTE = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]])


def strokes_on(colours: torch.Tensor) -> torch.Tensor:
    """8x8 images: a white cross on a plain background of each colour."""
    images = colours.view(-1, 3, 1, 1).repeat(1, 1, 8, 8)
    images[:, :, 3:5, :] = 1.0
    images[:, :, :, 3:5] = 1.0
    return images


def colour_reader(images: torch.Tensor) -> torch.Tensor:
    """Logits: minus the squared distance of the mean non-white colour to each palette colour."""
    weight = 1 - images.amin(1, keepdim=True)
    mean = (images * weight).sum((2, 3)) / weight.sum((2, 3)).clamp_min(1e-6)
    return -((mean[:, None] - PALETTE[None]) ** 2).sum(-1)


def test_tint_shifts_coloured_pixels_and_keeps_white_ones() -> None:
    images = strokes_on(torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5]]))
    out = tint(images, torch.tensor([[-0.6, 0.4, 0.2], [0.2, -0.2, 0.8]]))
    assert torch.equal(out[:, :, 3, 3], torch.ones(2, 3))  # white strokes untouched
    assert torch.allclose(out[0, :, 0, 0], torch.tensor([0.4, 0.4, 0.2]))  # weight 1 - min = 1
    assert torch.allclose(out[1, :, 0, 0], torch.tensor([0.6, 0.4, 0.9]))  # weight 0.5, then clipped at 1 nowhere
    with pytest.raises(ValueError, match="shift must have shape"):
        tint(images, torch.zeros(2, 1))


def test_targeted_tint_recolours_for_the_reader_within_eps() -> None:
    torch.manual_seed(0)
    source = torch.randint(0, 4, (64,))
    target = (source + torch.randint(1, 4, (64,))) % 4
    images = strokes_on(PALETTE[source])
    assert (colour_reader(images).argmax(1) == source).all()
    attack = TintAttack(colour_reader, eps=1.0, alpha=0.1, steps=10, targeted=True)
    shift = attack.shift(images, target)
    assert shift.abs().max() <= 1.0 + 1e-6
    adv = attack(images, target)
    assert torch.allclose(adv, tint(images, shift))
    assert (colour_reader(adv).argmax(1) == target).float().mean() == 1.0  # 0% before the attack
    assert torch.equal(adv[:, :, 3:5, :], images[:, :, 3:5, :])  # the shape is kept
    small = TintAttack(colour_reader, eps=0.1, steps=5, targeted=True)
    assert small.shift(images, target).abs().max() <= 0.1 + 1e-6
    assert (colour_reader(small(images, target)).argmax(1) == target).float().mean() < 0.5  # too small a ball


def test_tint_attack_rejects_bad_budgets() -> None:
    with pytest.raises(ValueError, match="eps"):
        TintAttack(colour_reader, eps=1.5)
    with pytest.raises(ValueError, match="alpha"):
        TintAttack(colour_reader, eps=0.5, alpha=0.0)
