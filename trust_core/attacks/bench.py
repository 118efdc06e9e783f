"""``apf bench attacks``: PGD throughput of the attack core vs a naive loop and torchattacks, same model, same run."""
from __future__ import annotations

import time
from collections.abc import Callable

import click
import torch
import torch.nn.functional as F
from torch import nn

from trust_core.attacks import PGD


def naive_pgd(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *, eps: float, alpha: float, steps: int,
              start: torch.Tensor) -> torch.Tensor:
    """The textbook per-step loop: ``loss.backward()`` (parameter gradients too), clone/detach each step.

    ``start`` is the initial perturbation, so the result can be compared exactly with :class:`PGD`.
    """
    adv = (images + start).clamp(0, 1).detach()
    for _ in range(steps):
        adv = adv.clone().detach().requires_grad_(True)
        model.zero_grad()
        loss = F.cross_entropy(model(adv), labels)
        loss.backward()
        adv = adv.detach() + alpha * adv.grad.sign()
        adv = torch.min(torch.max(adv, images - eps), images + eps).clamp(0, 1)
    return adv.detach()


def best_seconds(runs: dict[str, Callable[[], object]], *, rounds: int) -> dict[str, float]:
    """Best wall time per call of each function, calls interleaved round by round so load changes hit all alike."""
    for run in runs.values():
        run()  # warm-up
    best = {name: float("inf") for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


@click.command("attacks")
@click.option("--steps", default=40, show_default=True)
@click.option("--batches", default="1,256", show_default=True, help="Comma-separated batch sizes.")
@click.option("--rounds", default=5, show_default=True, help="Interleaved timing rounds (best of).")
def cli(steps: int, batches: str, rounds: int) -> None:
    """PGD (L∞ 0.3, step 0.01) images/s on the shipped MNIST CNN: ours vs naive loop vs torchattacks."""
    from trust_core.data import mnist_tensors
    from trust_core.models.mnist import load_mnist_cnn

    model = load_mnist_cnn()
    x, y = mnist_tensors("test", limit=max(int(b) for b in batches.split(",")))
    click.echo(f"torch {torch.__version__}, {torch.get_num_threads()} threads, PGD-{steps} L∞ eps 0.3 step 0.01")
    try:
        import torchattacks  # type: ignore[import-not-found]
    except ImportError:
        torchattacks = None
        click.echo("torchattacks not installed (pip install 'apf[bench]'): its column is skipped")
    click.echo(f"{'batch':>6} {'ours img/s':>11} {'naive img/s':>12} {'torchattacks img/s':>19} {'ours/naive':>11} {'ours/torchattacks':>18}")
    for b in (int(v) for v in batches.split(",")):
        xb, yb = x[:b], y[:b]
        ours = PGD(model, eps=0.3, alpha=0.01, steps=steps, random_start=False)
        zero = torch.zeros_like(xb)
        runs: dict[str, Callable[[], object]] = {
            "ours": lambda: ours(xb, yb),
            "naive": lambda: naive_pgd(model, xb, yb, eps=0.3, alpha=0.01, steps=steps, start=zero),
        }
        if torchattacks is not None:
            ta = torchattacks.PGD(model, eps=0.3, alpha=0.01, steps=steps, random_start=False)
            runs["torchattacks"] = lambda: ta(xb, yb)
        best = best_seconds(runs, rounds=rounds)
        t_ours, t_naive = b / best["ours"], b / best["naive"]
        t_ta = b / best["torchattacks"] if "torchattacks" in best else float("nan")
        click.echo(f"{b:>6} {t_ours:>11.1f} {t_naive:>12.1f} {t_ta:>19.1f} {t_ours / t_naive:>11.2f} {t_ours / t_ta:>18.2f}")
