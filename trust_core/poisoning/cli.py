"""``apf lab poisoning``: label flipping, the adversarial training-set attack and feature collision on MNIST."""
from __future__ import annotations

import json

import typer

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
    threads: int = typer.Option(1, help="torch CPU threads."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of the table."),
) -> None:
    """Train victims on poisoned MNIST and print the effect of each attack."""
    import torch

    from trust_core.poisoning.lab import format_table
    from trust_core.poisoning.lab import run as run_lab

    torch.set_num_threads(threads)
    try:
        result = run_lab(attacks=attack, train_limit=train_limit, test_limit=test_limit, eps_values=eps,
                         flip_rates=flip_rate, width=width, epochs=epochs, steps=steps, fc_targets=fc_targets,
                         fc_poisons=fc_poisons, seed=seed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(json.dumps(result, indent=2) if as_json else format_table(result))
