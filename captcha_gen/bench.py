"""``apf bench captcha``: generation throughput of adversarial CAPTCHAs (target ≥ 20/s, else a refilled pool)."""
from __future__ import annotations

import json
import time

import click


@click.command()
@click.option("--level", default="medium", show_default=True)
@click.option("--n", default=32, show_default=True, help="CAPTCHAs per measurement.")
@click.option("--batch", default=16, show_default=True, help="CAPTCHAs attacked together.")
@click.option("--steps", default=30, show_default=True)
@click.option("--samples", default=None, type=int, help="EOT samples per step (default: the generator's).")
@click.option("--threads", default=1, show_default=True, help="torch CPU threads.")
def cli(level: str, n: int, batch: int, steps: int, samples: int | None, threads: int) -> None:
    """Clean and adversarial CAPTCHAs per second on this machine (same run)."""
    import numpy as np
    import torch

    from captcha_gen.adversarial import SAMPLES, make_adversarial
    from captcha_gen.breakers import ENSEMBLE, load_breaker
    from captcha_gen.render import generate
    from captcha_gen.train import images_tensor

    torch.set_num_threads(threads)
    samples = SAMPLES if samples is None else samples
    breakers = [load_breaker(name) for name in ENSEMBLE]
    start = time.perf_counter()
    captchas = [generate(level, 30_000_000 + i) for i in range(n)]
    clean_s = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(0, n, batch):
        chunk = captchas[i : i + batch]
        make_adversarial(images_tensor(np.stack([c.image for c in chunk])), [c.text for c in chunk], breakers,
                         steps=steps, samples=samples, seed=i)
    adv_s = time.perf_counter() - start + clean_s
    result = {"level": level, "n": n, "threads": threads, "steps": steps, "eot_samples": samples,
              "clean_per_s": round(n / clean_s, 1), "adversarial_per_s": round(n / adv_s, 2), "target_per_s": 20}
    click.echo(json.dumps(result))
