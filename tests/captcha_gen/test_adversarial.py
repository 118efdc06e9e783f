"""Adversarial CAPTCHAs fool the shipped breaker ensemble within the L∞ budget; Grad-CAM scatters."""
from __future__ import annotations

import pytest
import torch

from captcha_gen.adversarial import EPS, make_adversarial
from captcha_gen.breakers import ENSEMBLE, load_breaker, read
from captcha_gen.evaluate import accuracy, read_transformed, readability
from captcha_gen.train import level_set


@pytest.fixture(scope="module")
def attacked() -> tuple[torch.Tensor, torch.Tensor, list[str], list]:
    torch.set_num_threads(1)
    breakers = [load_breaker(name) for name in ENSEMBLE]
    clean, texts = level_set("medium", split="test", n=8)
    adv = make_adversarial(clean, texts, breakers, steps=30, samples=2, seed=0)
    return clean, (adv * 255).round() / 255, texts, breakers


def test_ensemble_misreads_within_budget(attacked) -> None:
    clean, adv, texts, breakers = attacked
    assert (adv - clean).abs().max() <= EPS + 1 / 510
    assert 0 <= adv.min() and adv.max() <= 1
    for model in breakers:
        assert accuracy(read(model, clean), texts) >= 0.5
        assert accuracy(read(model, adv), texts) <= 0.125
        assert accuracy(read_transformed(model, adv, seed=5), texts) <= 0.25
    assert readability(clean, adv)["ssim"] > 0.3


def test_easy_captchas_stay_misread_after_binarisation() -> None:
    """The attacker's global threshold cannot undo the perturbation on the low-contrast easy level."""
    from captcha_gen.transforms import binarize, midpoint_threshold

    torch.set_num_threads(1)
    breakers = [load_breaker(name) for name in ENSEMBLE]
    clean, texts = level_set("easy", split="test", n=8)
    adv = (make_adversarial(clean, texts, breakers, steps=30, samples=2, seed=0) * 255).round() / 255

    def binarised(x: torch.Tensor) -> torch.Tensor:
        return binarize(x, midpoint_threshold(x))

    for model in breakers:
        assert accuracy(read(model, binarised(clean)), texts) >= 0.75
        assert accuracy(read(model, binarised(adv)), texts) <= 0.25


def test_gradcam_png(attacked, tmp_path) -> None:
    from PIL import Image

    from captcha_gen.attention import attention_overlap, grad_cam, save_cam_png

    clean, adv, texts, breakers = attacked
    cams = grad_cam(breakers[0], clean[:3], texts[:3]), grad_cam(breakers[0], adv[:3], texts[:3])
    assert cams[0].shape == clean[:3].shape and float(cams[0].max()) == pytest.approx(1.0)
    assert float(attention_overlap(*cams).mean()) < 0.95
    path = save_cam_png(tmp_path / "cam.png", clean[:3], adv[:3], *cams)
    assert Image.open(path).size == (3 * 4 * 100, 3 * 3 * 32)


def test_mismatched_answers() -> None:
    with pytest.raises(ValueError, match="answers"):
        make_adversarial(torch.rand(2, 1, 32, 100), ["ABCD"], [load_breaker("crnn")])


def test_fooled_breakers_stop_counting() -> None:
    """A breaker that already misreads a copy adds nothing; one that reads it adds its capped loss."""
    from captcha_gen.adversarial import EnsembleStringLoss
    from captcha_gen.breakers import NUM_CLASSES, encode

    labels = encode(["AB12", "XYZ9"])
    right = torch.nn.functional.one_hot(labels, NUM_CLASSES).float() * 3
    wrong = torch.nn.functional.one_hot(encode(["QQQQ", "QQQQ"]), NUM_CLASSES).float() * 3
    loss = EnsembleStringLoss(["heads"], cap=100.0)
    assert torch.equal(loss((wrong,), labels), torch.zeros(2))
    assert (loss((right,), labels) > 0).all()
    capped = EnsembleStringLoss(["heads"], cap=0.01)((right,), labels)
    assert torch.allclose(capped, torch.full((2,), 0.01))


def test_adversarial_set_is_the_same_in_worker_processes() -> None:
    from captcha_gen.adaptive import adversarial_set

    one, texts = adversarial_set("medium", split="val", n=4, steps=2, samples=1, chunk=2)
    two, texts2 = adversarial_set("medium", split="val", n=4, steps=2, samples=1, chunk=2, workers=2)
    clean, _ = level_set("medium", split="val", n=4)
    assert texts == texts2 and (one - clean).abs().max() > 0.05
    assert torch.allclose(one, two, atol=1 / 255 + 1e-6)
    with pytest.raises(ValueError, match="workers"):
        adversarial_set("medium", split="val", n=1, workers=0)
