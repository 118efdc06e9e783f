"""The adaptive attacker: a breaker fine-tuned on adversarial CAPTCHAs with their answers.

The attacker collects ``n`` adversarial CAPTCHAs made against the shipped ensemble (solved by people or a
farm), fine-tunes a copy of a breaker on them, and reads fresh adversarial CAPTCHAs: new seeds, new text and a
new attack start per challenge, which is what the service does for every challenge.
"""
from __future__ import annotations

import copy
import functools

import torch

from captcha_gen.adversarial import EPS, SAMPLES, make_adversarial
from captcha_gen.breakers import ENSEMBLE, encode, load_breaker
from captcha_gen.evaluate import accuracy, read_transformed
from captcha_gen.train import fit, level_set


@functools.cache
def _ensemble() -> tuple[torch.nn.Module, ...]:
    return tuple(load_breaker(name) for name in ENSEMBLE)


def _attack_chunk(job: tuple[torch.Tensor, list[str], float, int, int, int]) -> torch.Tensor:
    clean, texts, eps, steps, samples, seed = job
    return make_adversarial(clean, texts, list(_ensemble()), eps=eps, steps=steps, samples=samples, seed=seed)


def adversarial_set(level_name: str, *, split: str, n: int, start: int = 0, eps: float = EPS, steps: int = 30,
                    samples: int = SAMPLES, chunk: int = 32, seed: int = 0, workers: int = 1) -> tuple[torch.Tensor, list[str]]:
    """``n`` adversarial CAPTCHAs of ``split`` (8-bit quantised) against the shipped ensemble, and their answers.

    Chunks are attacked in ``workers`` processes (one torch thread each); the result does not depend on it.
    """
    if workers < 1:
        raise ValueError(f"workers must be positive, got {workers}")
    clean, texts = level_set(level_name, split=split, n=n, start=start)
    jobs = [(clean[i : i + chunk], texts[i : i + chunk], eps, steps, samples, seed + i) for i in range(0, n, chunk)]
    if workers == 1:
        parts = [_attack_chunk(job) for job in jobs]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=torch.set_num_threads, initargs=(1,)) as pool:
            parts = list(pool.map(_attack_chunk, jobs))
    return (torch.cat(parts) * 255).round() / 255, texts


def adaptive_attack(*, breaker: str = "crnn", level_name: str = "medium", n_train: int = 5000, n_val: int = 100,
                    n_test: int = 100, minutes: float = 5.0, workers: int = 1, log=print, **attack: object) -> dict[str, float]:
    """Fine-tune shipped ``breaker`` on ``n_train`` adversarial CAPTCHAs (train seeds; checkpoint on val seeds)
    and report its accuracy on fresh adversarial test CAPTCHAs before and after, under random transforms."""
    attack.setdefault("eps", EPS)
    attack.setdefault("samples", SAMPLES)
    train_x, train_t = adversarial_set(level_name, split="train", n=n_train, workers=workers, **attack)
    val = {level_name: adversarial_set(level_name, split="val", n=n_val, workers=workers, **attack)}
    test_x, test_t = adversarial_set(level_name, split="test", n=n_test, seed=10_000, workers=workers, **attack)
    clean_x, clean_t = level_set(level_name, split="test", n=n_test)
    before = load_breaker(breaker)
    after = copy.deepcopy(before)
    fit(after, (train_x, encode(train_t)), val, minutes=minutes, lr=5e-4, log=log)
    return {
        "n_train": n_train, "level": level_name, "breaker": breaker, "eps_255": round(255 * float(attack["eps"]), 2),
        "eot_samples": attack["samples"], "fine_tune_minutes": minutes,
        "adversarial_before": accuracy(read_transformed(before, test_x, seed=1), test_t),
        "adversarial_after": accuracy(read_transformed(after, test_x, seed=1), test_t),
        "clean_after": accuracy(read_transformed(after, clean_x, seed=1), clean_t),
    }
