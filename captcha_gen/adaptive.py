"""The adaptive attacker: a breaker fine-tuned on adversarial CAPTCHAs with their answers.

The attacker collects ``n`` adversarial CAPTCHAs made against the shipped ensemble (solved by people or a
farm), fine-tunes a copy of a breaker on them, and reads fresh adversarial CAPTCHAs: new seeds, new text and a
new attack start per challenge, which is what the service does for every challenge.
"""
from __future__ import annotations

import copy

import torch

from captcha_gen.adversarial import EPS, SAMPLES, make_adversarial
from captcha_gen.breakers import ENSEMBLE, encode, load_breaker
from captcha_gen.evaluate import accuracy, read_transformed
from captcha_gen.train import fit, level_set


def adversarial_set(level_name: str, *, split: str, n: int, start: int = 0, eps: float = EPS, steps: int = 30,
                    samples: int = SAMPLES, chunk: int = 32, seed: int = 0) -> tuple[torch.Tensor, list[str]]:
    """``n`` adversarial CAPTCHAs of ``split`` (8-bit quantised) against the shipped ensemble, and their answers."""
    breakers = [load_breaker(name) for name in ENSEMBLE]
    clean, texts = level_set(level_name, split=split, n=n, start=start)
    parts = [make_adversarial(clean[i : i + chunk], texts[i : i + chunk], breakers, eps=eps, steps=steps,
                              samples=samples, seed=seed + i) for i in range(0, n, chunk)]
    return (torch.cat(parts) * 255).round() / 255, texts


def adaptive_attack(*, breaker: str = "crnn", level_name: str = "medium", n_train: int = 5000, n_val: int = 100,
                    n_test: int = 100, minutes: float = 5.0, log=print, **attack: object) -> dict[str, float]:
    """Fine-tune shipped ``breaker`` on ``n_train`` adversarial CAPTCHAs (train seeds; checkpoint on val seeds)
    and report its accuracy on fresh adversarial test CAPTCHAs before and after, under random transforms."""
    train_x, train_t = adversarial_set(level_name, split="train", n=n_train, **attack)
    val = {level_name: adversarial_set(level_name, split="val", n=n_val, **attack)}
    test_x, test_t = adversarial_set(level_name, split="test", n=n_test, seed=10_000, **attack)
    clean_x, clean_t = level_set(level_name, split="test", n=n_test)
    before = load_breaker(breaker)
    after = copy.deepcopy(before)
    fit(after, (train_x, encode(train_t)), val, minutes=minutes, lr=5e-4, log=log)
    return {
        "n_train": n_train, "level": level_name, "breaker": breaker,
        "adversarial_before": accuracy(read_transformed(before, test_x, seed=1), test_t),
        "adversarial_after": accuracy(read_transformed(after, test_x, seed=1), test_t),
        "clean_after": accuracy(read_transformed(after, clean_x, seed=1), clean_t),
    }
