"""``apf lab poisoning``: label flipping, the adversarial training-set attack and feature collision on MNIST."""
from __future__ import annotations

import typer

from trust_core.lab_cli import JSON, THREADS, run_lab

app = typer.Typer(help="Data poisoning on MNIST: label flipping, adversarial poisons, feature collision.", add_completion=False)


@app.command()
def run(
    attack: list[str] = typer.Option(["label-flip", "adversarial", "feature-collision"], help="Repeat to pick attacks."),
    eps: list[float] = typer.Option([0.1, 0.2, 0.3], help="L∞ budgets of the adversarial training-set attack."),
    flip_rate: list[float] = typer.Option([0.1, 0.3, 0.5], help="Random label-flip rates."),
    train_limit: int = typer.Option(10000, help="Train on the first N MNIST train images."),
    test_limit: int = typer.Option(None, help="Evaluate on the first N test images (default all)."),
    epochs: int = typer.Option(3),
    width: int = typer.Option(16, help="MnistCNN width of the victim models."),
    steps: int = typer.Option(10, help="PGD steps of the adversarial poisons."),
    fc_targets: int = typer.Option(10, help="Feature collision: number of target images."),
    fc_poisons: int = typer.Option(50, help="Feature collision: poisons per target."),
    seed: int = typer.Option(0),
    threads: int = THREADS,
    as_json: bool = JSON,
) -> None:
    """Train victims on poisoned MNIST and print the effect of each attack."""
    run_lab("trust_core.poisoning.lab", threads=threads, as_json=as_json, attacks=attack, train_limit=train_limit,
            test_limit=test_limit, eps_values=eps, flip_rates=flip_rate, width=width, epochs=epochs, steps=steps,
            fc_targets=fc_targets, fc_poisons=fc_poisons, seed=seed)
